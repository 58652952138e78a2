import { describe, expect, it } from '@jest/globals';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { NPL_ANNOTATION_KEY, NPL_ENABLED_ANNOTATION_KEY, planRestore, selectTargetPorts } from '@npl/core';
import { FakeListWatch } from '@npl/runtime/testing';
import { slimPod, slimService, slimSource } from './slim.js';

const ANNOTATION = '[{"podPort":8080,"nodeIP":"198.18.0.10","nodePort":61000,"protocol":"tcp","ipFamily":"IPv4"}]';

function fullPod(): V1Pod {
  return {
    metadata: {
      name: 'web-1',
      namespace: 'default',
      uid: 'u-1',
      resourceVersion: '42',
      labels: { app: 'web' },
      annotations: { [NPL_ANNOTATION_KEY]: ANNOTATION, 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(2000) },
      managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { big: true } }],
    },
    spec: {
      nodeName: 'node-a',
      containers: [{ name: 'c', image: 'img', env: [{ name: 'A', value: 'b' }], ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP', hostPort: 0 }] }],
      volumes: [{ name: 'v' }],
    },
    status: { phase: 'Running', podIP: '198.18.1.5', podIPs: [{ ip: '198.18.1.5' }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function fullService(): V1Service {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 's-1', resourceVersion: '7', annotations: { [NPL_ENABLED_ANNOTATION_KEY]: 'true', other: 'y' }, managedFields: [{ manager: 'm' }] },
    spec: { type: 'ClusterIP', clusterIP: '198.18.195.10', selector: { app: 'web' }, ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ name: 'h', port: 80, targetPort: 'http', protocol: 'TCP', nodePort: 30000 }] },
    status: { loadBalancer: {} },
  };
}

describe('slim informer objects', () => {
  it('keeps exactly the Pod fields the agent reads', () => {
    expect(slimPod(fullPod())).toEqual({
      metadata: { name: 'web-1', namespace: 'default', uid: 'u-1', resourceVersion: '42', labels: { app: 'web' }, annotations: { [NPL_ANNOTATION_KEY]: ANNOTATION } },
      spec: { nodeName: 'node-a', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP', hostPort: 0 }] }] },
      status: { phase: 'Running', podIP: '198.18.1.5', podIPs: [{ ip: '198.18.1.5' }] },
    });
  });

  it('keeps exactly the Service fields the agent reads', () => {
    expect(slimService(fullService())).toEqual({
      metadata: { name: 'web', namespace: 'default', uid: 's-1', resourceVersion: '7', annotations: { [NPL_ENABLED_ANNOTATION_KEY]: 'true' } },
      spec: { type: 'ClusterIP', selector: { app: 'web' }, ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ name: 'h', port: 80, targetPort: 'http', protocol: 'TCP' }] },
    });
  });

  it('keeps no spec of a Service that did not opt in (its selector and ports never matter)', () => {
    const off = fullService();
    off.metadata!.annotations![NPL_ENABLED_ANNOTATION_KEY] = 'false';
    expect(slimService(off)).toEqual({ metadata: { name: 'web', namespace: 'default', uid: 's-1', resourceVersion: '7', annotations: { [NPL_ENABLED_ANNOTATION_KEY]: 'false' } } });
    delete off.metadata!.annotations;
    expect(slimService(off)).toEqual({ metadata: { name: 'web', namespace: 'default', uid: 's-1', resourceVersion: '7' } });
    const pod = fullPod();
    expect(selectTargetPorts(slimPod(pod), [slimService(off)])).toEqual(selectTargetPorts(pod, [off]));
  });

  it('gives the same selection and restore plan as the full objects', () => {
    const pod = fullPod();
    const svc = fullService();
    expect(selectTargetPorts(slimPod(pod), [slimService(svc)])).toEqual(selectTargetPorts(pod, [svc]));
    const options = { range: { start: 61000, end: 62000 }, families: ['IPv4' as const] };
    expect(planRestore([slimPod(pod)], options)).toEqual(planRestore([pod], options));
  });

  it('slims listed and watched objects, and passes watch ERROR objects through', async () => {
    const fake = new FakeListWatch<V1Pod>();
    fake.upsert(fullPod());
    const source = slimSource(fake, slimPod);
    const listed = await source.list();
    expect(listed.items[0]?.metadata?.managedFields).toBeUndefined();
    expect(listed.items[0]?.metadata?.annotations).toEqual({ [NPL_ANNOTATION_KEY]: ANNOTATION });
    const seen: [string, V1Pod][] = [];
    const handle = await source.watch(listed.resourceVersion, (type, obj) => seen.push([type, obj]), () => undefined);
    fake.upsert({ ...fullPod(), status: { ...fullPod().status, phase: 'Succeeded' } });
    handle.abort();
    expect(seen).toHaveLength(1);
    expect(seen[0]![1].status).toEqual({ phase: 'Succeeded', podIP: '198.18.1.5', podIPs: [{ ip: '198.18.1.5' }] });
    const status = { code: 410 } as unknown as V1Pod;
    const errors: V1Pod[] = [];
    const inner = { list: () => Promise.resolve({ items: [], resourceVersion: '1' }), watch: (_rv: string, onEvent: (t: 'ERROR', o: V1Pod) => void) => (onEvent('ERROR', status), Promise.resolve({ abort: () => undefined })) };
    await slimSource(inner, slimPod).watch('1', (_t, o) => errors.push(o), () => undefined);
    expect(errors).toEqual([status]);
  });
});
