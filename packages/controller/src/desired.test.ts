import { describe, expect, it } from '@jest/globals';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { ClusterSnapshot } from './desired.js';
import { desiredState, resolveTargetPort } from './desired.js';
import { dumpDesired } from './model.js';
import { endpointSlice, pod, service } from './testing/objects.js';

const P = { partition: 'k8s' };

function dump(s: Partial<ClusterSnapshot>, options: Parameters<typeof desiredState>[1] = P): string {
  return dumpDesired(desiredState({ services: [], pods: [], endpointSlices: [], ...s }, options));
}

const web = service('web', { selector: { app: 'web' } });
const webPod = (name: string, nodeIP: string, nodePort: number, extra: Partial<Parameters<typeof pod>[1]> = {}): V1Pod =>
  pod(name, { mappings: [{ podPort: 8080, nodeIP, nodePort }], ...extra });

describe('desired state', () => {
  it('one pool per Service port named as CIS names it, members nodeIP:nodePort', () => {
    expect(dump({ services: [service('my-app', { selector: { app: 'web' } })], pods: [webPod('a', '192.0.2.10', 61001), webPod('b', '192.0.2.11', 61002)] })).toBe(
      ['pool /k8s/my_app_8080_prod prod/my-app:8080/tcp', '  member 192.0.2.10 61001', '  member 192.0.2.11 61002'].join('\n'),
    );
  });

  it('members are deduplicated and sorted whatever the input order, so unchanged state compares equal', () => {
    const pods = [webPod('c', '192.0.2.9', 61003), webPod('a', '192.0.2.10', 61001), webPod('b', '192.0.2.10', 61000), webPod('d', '192.0.2.9', 61003)];
    const one = desiredState({ services: [web], pods, endpointSlices: [] }, P);
    const two = desiredState({ services: [web], pods: [...pods].reverse(), endpointSlices: [] }, P);
    expect(two).toEqual(one);
    expect(one.pools[0]?.members.map((m) => `${m.address}:${m.port}`)).toEqual(['192.0.2.9:61003', '192.0.2.10:61000', '192.0.2.10:61001']);
  });

  it('only entries whose podPort is the targetPort count', () => {
    const p = pod('a', { mappings: [{ podPort: 8080, nodeIP: '192.0.2.10', nodePort: 61001 }, { podPort: 9090, nodeIP: '192.0.2.10', nodePort: 61002 }] });
    expect(dump({ services: [service('web', { ports: [{ port: 80, targetPort: 9090 }] })], pods: [p] })).toBe('pool /k8s/web_80_prod prod/web:80/tcp\n  member 192.0.2.10 61002');
  });

  it('a Service port without targetPort uses the port number', () => {
    expect(dump({ services: [service('web', { ports: [{ port: 8080 }] })], pods: [webPod('a', '192.0.2.10', 61001)] })).toContain('member 192.0.2.10 61001');
  });

  it('named targetPort resolves through the pod container ports of the same protocol', () => {
    const svc = service('web', { ports: [{ port: 80, targetPort: 'http' }] });
    const a = pod('a', { mappings: [{ podPort: 8080, nodeIP: '192.0.2.10', nodePort: 61001 }], containerPorts: [{ name: 'http', containerPort: 8080 }] });
    const b = pod('b', { mappings: [{ podPort: 9000, nodeIP: '192.0.2.11', nodePort: 61002 }], containerPorts: [{ name: 'http', containerPort: 9000 }] });
    const c = pod('c', { mappings: [{ podPort: 8080, nodeIP: '192.0.2.12', nodePort: 61003 }], containerPorts: [{ name: 'http', containerPort: 8080, protocol: 'UDP' }] });
    expect(dump({ services: [svc], pods: [a, b, c] })).toBe(['pool /k8s/web_80_prod prod/web:80/tcp', '  member 192.0.2.10 61001', '  member 192.0.2.11 61002'].join('\n'));
    expect(resolveTargetPort({ port: 80, targetPort: 'metrics' }, a)).toBeUndefined();
  });

  it('protocol must match: a UDP entry never lands in a TCP pool (CIS §2.15)', () => {
    const p = pod('a', { mappings: [{ podPort: 53, nodeIP: '192.0.2.10', nodePort: 61001, protocol: 'udp' }, { podPort: 53, nodeIP: '192.0.2.10', nodePort: 61002, protocol: 'tcp' }] });
    const svc = service('dns', { selector: { app: 'web' }, ports: [{ port: 53, protocol: 'UDP' }, { port: 5353, targetPort: 53, protocol: 'TCP' }] });
    expect(dump({ services: [svc], pods: [p] })).toBe(
      ['pool /k8s/dns_5353_prod prod/dns:5353/tcp', '  member 192.0.2.10 61002', 'pool /k8s/dns_53_prod prod/dns:53/udp', '  member 192.0.2.10 61001'].join('\n'),
    );
  });

  it('family must be one the Service has: IPv6 entries only in IPv6 or dual-stack Services', () => {
    const p = pod('a', { mappings: [{ podPort: 8080, nodeIP: '192.0.2.10', nodePort: 61001 }, { podPort: 8080, nodeIP: '2001:DB8:0:0::a', nodePort: 61002 }] });
    expect(dump({ services: [service('v4', { selector: { app: 'web' } })], pods: [p] })).toBe('pool /k8s/v4_8080_prod prod/v4:8080/tcp\n  member 192.0.2.10 61001');
    expect(dump({ services: [service('v6', { selector: { app: 'web' }, ipFamilies: ['IPv6'] })], pods: [p] })).toBe('pool /k8s/v6_8080_prod prod/v6:8080/tcp\n  member 2001:db8::a 61002');
    expect(dump({ services: [service('ds', { selector: { app: 'web' }, ipFamilies: ['IPv6', 'IPv4'] })], pods: [p] })).toBe(
      ['pool /k8s/ds_8080_prod prod/ds:8080/tcp', '  member 192.0.2.10 61001', '  member 2001:db8::a 61002'].join('\n'),
    );
  });

  it('families come from the cluster IPs when ipFamilies is unset', () => {
    const svc: V1Service = { ...web, spec: { ...web.spec, clusterIP: '2001:db8::99', clusterIPs: ['2001:db8::99'] } };
    const p = pod('a', { mappings: [{ podPort: 8080, nodeIP: '192.0.2.10', nodePort: 61001 }, { podPort: 8080, nodeIP: '2001:db8::a', nodePort: 61002 }] });
    expect(dump({ services: [svc], pods: [p] })).toContain('member 2001:db8::a 61002');
    expect(dump({ services: [svc], pods: [p] })).not.toContain('192.0.2.10');
  });

  it('a pod in several Services feeds all of them (CIS #3466)', () => {
    const p = pod('a', { labels: { app: 'web', tier: 'front' }, mappings: [{ podPort: 8080, nodeIP: '192.0.2.10', nodePort: 61001 }] });
    const out = dump({ services: [service('one', { selector: { app: 'web' } }), service('two', { selector: { tier: 'front' } })], pods: [p] });
    expect(out).toBe(['pool /k8s/one_8080_prod prod/one:8080/tcp', '  member 192.0.2.10 61001', 'pool /k8s/two_8080_prod prod/two:8080/tcp', '  member 192.0.2.10 61001'].join('\n'));
  });

  it('pods of other namespaces or labels are not selected', () => {
    const other = pod('x', { namespace: 'dev', mappings: [{ podPort: 8080, nodeIP: '192.0.2.20', nodePort: 61009 }] });
    const unlabelled = pod('y', { labels: { app: 'db' }, mappings: [{ podPort: 8080, nodeIP: '192.0.2.21', nodePort: 61010 }] });
    expect(dump({ services: [web], pods: [other, unlabelled] })).toBe('pool /k8s/web_8080_prod prod/web:8080/tcp');
  });

  it('not-ready and terminating endpoints drain (disabled), pods absent from slices stay enabled', () => {
    const pods = [webPod('a', '192.0.2.10', 61001), webPod('b', '192.0.2.11', 61002), webPod('c', '192.0.2.12', 61003), webPod('d', '192.0.2.13', 61004)];
    const slice = endpointSlice('web', [{ pod: 'a', ready: true }, { pod: 'b', ready: false }, { pod: 'c', ready: true, terminating: true }]);
    expect(dump({ services: [web], pods, endpointSlices: [slice] })).toBe(
      ['pool /k8s/web_8080_prod prod/web:8080/tcp', '  member 192.0.2.10 61001', '  member 192.0.2.11 61002 disabled', '  member 192.0.2.12 61003 disabled', '  member 192.0.2.13 61004'].join('\n'),
    );
  });

  it('a pod being deleted drains before its endpoint changes', () => {
    expect(dump({ services: [web], pods: [webPod('a', '192.0.2.10', 61001, { deleting: true })] })).toContain('member 192.0.2.10 61001 disabled');
  });

  it('a pod that is gone is removed; a Service whose pods are all gone keeps an empty pool', () => {
    const slice = endpointSlice('web', [{ pod: 'a', ready: false, terminating: true }]);
    expect(dump({ services: [web], pods: [], endpointSlices: [slice] })).toBe('pool /k8s/web_8080_prod prod/web:8080/tcp');
  });

  it('readiness of a pod is per Service (slices of another Service do not count)', () => {
    const slice = endpointSlice('other', [{ pod: 'a', ready: false }]);
    expect(dump({ services: [web], pods: [webPod('a', '192.0.2.10', 61001)], endpointSlices: [slice] })).toContain('member 192.0.2.10 61001\n'.trim());
    expect(dump({ services: [web], pods: [webPod('a', '192.0.2.10', 61001)], endpointSlices: [slice] })).not.toContain('disabled');
  });

  it('opt-out: no annotation or "false" gives no pool and no complaint', () => {
    expect(dump({ services: [service('web', { enabled: null }), service('off', { enabled: 'false' })], pods: [webPod('a', '192.0.2.10', 61001)] })).toBe('');
  });

  it.each([
    [service('np', { type: 'NodePort' }), 'ignored prod/np: type NodePort is not supported: NodePortLocal needs ClusterIP or LoadBalancer'],
    [service('ext', { type: 'ExternalName' }), 'ignored prod/ext: type ExternalName is not supported: NodePortLocal needs ClusterIP or LoadBalancer'],
    [service('nosel', { selector: {} }), 'ignored prod/nosel: the Service has no selector'],
    [service('sctp', { ports: [{ port: 9, protocol: 'SCTP' }] }), 'ignored prod/sctp: the Service has no TCP or UDP port'],
    [service('yes', { enabled: 'yes' }), 'ignored prod/yes: annotation nodeportlocal.antrea.io/enabled is "yes": only "true" enables NodePortLocal'],
    [service('mon', { annotations: { 'bigip.nodeportlocal.io/monitor': 'icmp' } }), 'ignored prod/mon: annotation bigip.nodeportlocal.io/monitor "icmp": expected http, tcp or the full path of an existing monitor such as /Common/my_monitor'],
    [service('vs', { ports: [{ port: 80 }, { port: 443 }], annotations: { 'bigip.nodeportlocal.io/virtual-server': '192.0.2.50:80' } }), 'ignored prod/vs: annotation bigip.nodeportlocal.io/virtual-server "192.0.2.50:80": expected an IP address, ADDRESS:PORT or [IPV6]:PORT (a port only for Services with one port); this Service has 2 ports'],
    [service('pn', { annotations: { 'bigip.nodeportlocal.io/pool-name': '1bad' } }), 'ignored prod/pn: annotation bigip.nodeportlocal.io/pool-name "1bad": expected a BIG-IP object name (expected a letter followed by up to 189 letters, digits, "_", "." or "-", not ending in "-")'],
  ])('an opted-in Service that cannot work is ignored with the reason (%#)', (svc, line) => {
    expect(dump({ services: [svc] })).toBe(line);
  });

  it('LoadBalancer Services count like ClusterIP ones', () => {
    expect(dump({ services: [service('lb', { type: 'LoadBalancer' })] })).toBe('pool /k8s/lb_8080_prod prod/lb:8080/tcp');
  });

  it('only watched namespaces count', () => {
    const services = [service('a', { namespace: 'prod' }), service('b', { namespace: 'dev' })];
    expect(dump({ services }, { partition: 'k8s', namespaces: new Set(['dev']) })).toBe('pool /k8s/b_8080_dev dev/b:8080/tcp');
  });

  it('per-Service annotations set pool name, monitor, load-balancing mode and a virtual server', () => {
    const svc = service('web', {
      annotations: {
        'bigip.nodeportlocal.io/pool-name': 'web_pool',
        'bigip.nodeportlocal.io/monitor': 'http',
        'bigip.nodeportlocal.io/load-balancing-mode': 'least-connections-member',
        'bigip.nodeportlocal.io/virtual-server': '192.0.2.50:80',
      },
    });
    expect(dump({ services: [svc] }, { partition: 'tenant1' })).toBe('pool /tenant1/web_pool prod/web:8080/tcp monitor=/Common/http lb=least-connections-member virtual=crd_192_0_2_50_80@192.0.2.50:80');
    const multi = service('multi', { ports: [{ port: 80 }, { port: 443 }], annotations: { 'bigip.nodeportlocal.io/pool-name': 'mp', 'bigip.nodeportlocal.io/virtual-server': '2001:db8::50', 'bigip.nodeportlocal.io/monitor': '/Common/my_mon' } });
    expect(dump({ services: [multi] })).toBe(
      ['pool /k8s/mp_443 prod/multi:443/tcp monitor=/Common/my_mon virtual=crd_2001_db8__50_443@2001:db8::50:443', 'pool /k8s/mp_80 prod/multi:80/tcp monitor=/Common/my_mon virtual=crd_2001_db8__50_80@2001:db8::50:80'].join('\n'),
    );
  });

  it('when two Services want one pool name the first (namespace/name order) keeps it', () => {
    const a = service('a', { annotations: { 'bigip.nodeportlocal.io/pool-name': 'shared' } });
    const b = service('b', { annotations: { 'bigip.nodeportlocal.io/pool-name': 'shared' } });
    expect(dump({ services: [b, a] })).toBe('pool /k8s/shared prod/a:8080/tcp\nignored prod/b: BIG-IP name shared is already used by Service prod/a');
  });

  it('legacy annotations (no protocol, no ipFamily) read as tcp/IPv4; unreadable annotations contribute nothing', () => {
    const legacy = pod('a', { annotation: '[{"podPort":8080,"nodeIP":"192.0.2.10","nodePort":40001}]' });
    const broken = pod('b', { annotation: 'not json' });
    const incomplete = pod('c', { annotation: '[{"podPort":8080,"nodeIP":"192.0.2.12","nodePort":0}]' });
    expect(dump({ services: [web], pods: [legacy, broken, incomplete] })).toBe('pool /k8s/web_8080_prod prod/web:8080/tcp\n  member 192.0.2.10 40001');
  });
});
