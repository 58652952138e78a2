import { describe, expect, it } from '@jest/globals';
import { isNplService, nplServicesOf, selects, servicePodPorts } from './selection.js';
import { pod, service } from './testing/index.js';

describe('Service selection as npl-agent reads it', () => {
  const p = pod({ name: 'web-0', node: 'n' });

  it('an opted-in ClusterIP or LoadBalancer Service with a matching selector selects the Pod', () => {
    expect(nplServicesOf(p, [service({ name: 'b' }), service({ name: 'a', type: 'LoadBalancer' })])).toEqual(['default/a', 'default/b']);
  });

  it.each([
    ['not opted in', service({ name: 's', enabled: false })],
    ['of type NodePort', service({ name: 's', type: 'NodePort' })],
    ['of type ExternalName', service({ name: 's', type: 'ExternalName' })],
    ['in another namespace', service({ ns: 'other', name: 's' })],
    ['selecting other labels', service({ name: 's', app: 'db' })],
  ])('a Service %s does not', (_t, svc) => {
    expect(nplServicesOf(p, [svc])).toEqual([]);
  });

  it('a Service without a selector neither opts in nor selects', () => {
    const svc = { ...service({ name: 's' }), spec: { ports: [{ port: 80 }] } };
    expect([isNplService(svc), selects(svc, p)]).toEqual([false, false]);
  });

  it('pod ports of a Service: numbers, numeric strings, names through container ports, port when targetPort is unset; SCTP and unknown names ignored', () => {
    const svc = service({
      name: 's',
      ports: [{ port: 1, targetPort: 8080 }, { port: 2, targetPort: '9090' }, { port: 3, targetPort: 'http' }, { port: 53, protocol: 'UDP' }, { port: 4, targetPort: 'nope' }, { port: 5, protocol: 'SCTP' }],
    });
    expect([...servicePodPorts(svc, p)].sort()).toEqual(['53/udp', '80/tcp', '8080/tcp', '9090/tcp']);
  });
});
