import { describe, it, expect } from '@jest/globals';
import type { V1ContainerPort, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import {
  isNplEnabledService,
  isPodTerminated,
  podKey,
  podsAffectedByServiceChange,
  portProtoKey,
  resolveTargetPort,
  selectTargetPorts,
  serviceKey,
  serviceSelectsPod,
  type TargetPortSelection,
} from './service-selection.js';

const POD_KEY = 'default/test-pod';

function testPod(containerPorts: V1ContainerPort[] = []): V1Pod {
  return {
    metadata: { name: 'test-pod', namespace: 'default', labels: { foo: 'test-pod' } },
    spec: { nodeName: 'test-node', containers: [{ name: 'c', ports: containerPorts }] },
    status: { phase: 'Running', podIPs: [{ ip: '192.168.32.10' }] },
  };
}

function svcWithPorts(ports: V1ServicePort[], name = 'test-svc'): V1Service {
  return {
    metadata: { name, namespace: 'default', annotations: { 'nodeportlocal.antrea.io/enabled': 'true' } },
    spec: { type: 'ClusterIP', selector: { foo: 'test-pod' }, ports, ipFamilies: ['IPv4'] },
  };
}

function testSvc(...targetPorts: number[]): V1Service {
  const targets = targetPorts.length === 0 ? [80] : targetPorts;
  return svcWithPorts(targets.map((targetPort) => ({ port: 80, protocol: 'TCP', targetPort })));
}

function testSvcWithPortName(portName: string): V1Service {
  return svcWithPorts([{ port: 80, protocol: 'TCP', targetPort: portName }]);
}

function edited<T>(object: T, change: (copy: T) => void): T {
  const copy = structuredClone(object);
  change(copy);
  return copy;
}

function summary(selection: TargetPortSelection): string[] {
  return selection.targets.map((t) => `${t.podPort}/${t.protocol} ${String(t.families)} [${t.services.join(',')}]`);
}

const DEFAULT_TARGET = `80/tcp {IPv4} [default/test-svc]`;

describe('TestSvcNamespaceUpdate', () => {
  const svcDefault = testSvc();
  const svcBlue = edited(testSvc(), (s) => {
    s.metadata!.namespace = 'blue';
  });

  it('a Service in another namespace does not select the Pod', () => {
    const selection = selectTargetPorts(testPod(), [svcDefault, svcBlue]);
    expect(summary(selection)).toEqual([DEFAULT_TARGET]);
    expect(selection.ignored).toEqual([{ service: 'blue/test-svc', reason: 'other-namespace' }]);
  });

  it('deleting the Service of the Pod\'s namespace removes the mapping and enqueues the Pod', () => {
    expect(selectTargetPorts(testPod(), [svcBlue]).targets).toEqual([]);
    expect(podsAffectedByServiceChange(svcDefault, undefined, [testPod()])).toEqual([POD_KEY]);
    expect(podsAffectedByServiceChange(svcBlue, undefined, [testPod()])).toEqual([]);
  });
});

describe('TestSvcTypeUpdate', () => {
  const clusterIP = testSvc();
  const nodePort = edited(clusterIP, (s) => {
    s.spec!.type = 'NodePort';
  });

  it('ClusterIP -> NodePort removes the mapping and enqueues the Pod', () => {
    const selection = selectTargetPorts(testPod(), [nodePort]);
    expect(selection.targets).toEqual([]);
    expect(selection.ignored).toEqual([{ service: 'default/test-svc', reason: 'type-nodeport' }]);
    expect(podsAffectedByServiceChange(clusterIP, nodePort, [testPod()])).toEqual([POD_KEY]);
  });

  it('NodePort -> ClusterIP restores one mapping and enqueues the Pod', () => {
    expect(summary(selectTargetPorts(testPod(), [clusterIP]))).toEqual([DEFAULT_TARGET]);
    expect(podsAffectedByServiceChange(nodePort, clusterIP, [testPod()])).toEqual([POD_KEY]);
  });

  it.each([
    ['ClusterIP', true],
    ['LoadBalancer', true],
    [undefined, true],
    ['NodePort', false],
    ['ExternalName', false],
  ])('type %s selects: %s', (type, selects) => {
    const svc = edited(clusterIP, (s) => {
      s.spec!.type = type;
    });
    expect(selectTargetPorts(testPod(), [svc]).targets.length > 0).toBe(selects);
  });

  it('reports ExternalName Services as such', () => {
    const svc = edited(clusterIP, (s) => {
      s.spec!.type = 'ExternalName';
    });
    expect(selectTargetPorts(testPod(), [svc]).ignored).toEqual([{ service: 'default/test-svc', reason: 'type-externalname' }]);
  });

  it('ClusterIP -> LoadBalancer enqueues nothing (both enabled, nothing relevant changed)', () => {
    const lb = edited(clusterIP, (s) => {
      s.spec!.type = 'LoadBalancer';
    });
    expect(podsAffectedByServiceChange(clusterIP, lb, [testPod()])).toEqual([]);
  });
});

describe('TestSvcUpdateAnnotation', () => {
  const enabled = testSvc();
  const disabled = edited(enabled, (s) => {
    s.metadata!.annotations!['nodeportlocal.antrea.io/enabled'] = 'false';
  });

  it('annotation "false" removes the mapping and enqueues the Pod', () => {
    const selection = selectTargetPorts(testPod(), [disabled]);
    expect(selection.targets).toEqual([]);
    expect(selection.ignored).toEqual([{ service: 'default/test-svc', reason: 'not-enabled' }]);
    expect(podsAffectedByServiceChange(enabled, disabled, [testPod()])).toEqual([POD_KEY]);
  });

  it('annotation "true" again restores the mapping and enqueues the Pod', () => {
    expect(summary(selectTargetPorts(testPod(), [enabled]))).toEqual([DEFAULT_TARGET]);
    expect(podsAffectedByServiceChange(disabled, enabled, [testPod()])).toEqual([POD_KEY]);
  });

  it.each(['True', 'TRUE', '1', 'yes', ' true', ''])('annotation %j does not enable NodePortLocal', (value) => {
    const svc = edited(enabled, (s) => {
      s.metadata!.annotations!['nodeportlocal.antrea.io/enabled'] = value;
    });
    expect(selectTargetPorts(testPod(), [svc]).ignored).toEqual([{ service: 'default/test-svc', reason: 'not-enabled' }]);
    expect(isNplEnabledService(svc)).toBe(false);
  });
});

describe('TestSvcRemoveAnnotation', () => {
  it('removing the Service annotations removes the mapping and enqueues the Pod', () => {
    const without = edited(testSvc(), (s) => {
      delete s.metadata!.annotations;
    });
    expect(selectTargetPorts(testPod(), [without]).targets).toEqual([]);
    expect(podsAffectedByServiceChange(testSvc(), without, [testPod()])).toEqual([POD_KEY]);
  });
});

describe('TestSvcUpdateSelector', () => {
  const original = testSvc();
  const changed = edited(original, (s) => {
    s.spec!.selector = { foo: 'invalid-selector' };
  });

  it('a selector that no longer matches removes the mapping and enqueues the Pod', () => {
    expect(selectTargetPorts(testPod(), [changed]).ignored).toEqual([{ service: 'default/test-svc', reason: 'selector-mismatch' }]);
    expect(podsAffectedByServiceChange(original, changed, [testPod()])).toEqual([POD_KEY]);
  });

  it('restoring the selector re-adds the mapping and enqueues the Pod', () => {
    expect(summary(selectTargetPorts(testPod(), [original]))).toEqual([DEFAULT_TARGET]);
    expect(podsAffectedByServiceChange(changed, original, [testPod()])).toEqual([POD_KEY]);
  });
});

describe('TestPodUpdateSelectorLabel', () => {
  it('changing the Pod labels removes the mapping', () => {
    const relabelled = edited(testPod(), (p) => {
      p.metadata!.labels = { foo: 'invalid-label' };
    });
    expect(selectTargetPorts(relabelled, [testSvc()]).ignored).toEqual([{ service: 'default/test-svc', reason: 'selector-mismatch' }]);
    expect(selectTargetPorts(relabelled, [testSvc()]).targets).toEqual([]);
  });
});

describe('TestSvcDelete', () => {
  it('deleting the Service removes the mapping and enqueues the Pod', () => {
    expect(selectTargetPorts(testPod(), [])).toEqual({ terminated: false, targets: [], hostPorts: new Map(), ignored: [] });
    expect(podsAffectedByServiceChange(testSvc(), undefined, [testPod()])).toEqual([POD_KEY]);
  });
});

describe('TestAddMultiPortPodSvc', () => {
  it('a Service targeting 80 and 90 needs two mappings', () => {
    expect(summary(selectTargetPorts(testPod(), [testSvc(80, 90)]))).toEqual([DEFAULT_TARGET, '90/tcp {IPv4} [default/test-svc]']);
  });

  it('removing port 90 leaves one mapping and enqueues the Pod', () => {
    expect(summary(selectTargetPorts(testPod(), [testSvc(80)]))).toEqual([DEFAULT_TARGET]);
    expect(podsAffectedByServiceChange(testSvc(80, 90), testSvc(80), [testPod()])).toEqual([POD_KEY]);
  });
});

describe('TestAddMultiPortPodSinglePortSvc', () => {
  it('only the Service target port is mapped, not every declared container port', () => {
    const pod = testPod([{ containerPort: 80 }, { containerPort: 81 }]);
    expect(summary(selectTargetPorts(pod, [testSvc()]))).toEqual([DEFAULT_TARGET]);
  });
});

describe('TestPodAddHostPort', () => {
  it('a container hostPort for the target port and protocol is reported for reuse', () => {
    const selection = selectTargetPorts(testPod([{ containerPort: 80, hostPort: 4001, protocol: 'TCP' }]), [testSvc()]);
    expect(summary(selection)).toEqual([DEFAULT_TARGET]);
    expect(selection.hostPorts).toEqual(new Map([['80:tcp', 4001]]));
  });
});

describe('TestPodAddHostPortMultiProtocol', () => {
  it('hostPorts on 80/TCP and 80/UDP with a TCP Service give a single tcp target using 4001', () => {
    const pod = testPod([
      { containerPort: 80, hostPort: 4001, protocol: 'TCP' },
      { containerPort: 80, hostPort: 4001, protocol: 'UDP' },
    ]);
    const selection = selectTargetPorts(pod, [testSvc()]);
    expect(summary(selection)).toEqual([DEFAULT_TARGET]);
    expect(selection.hostPorts.get('80:tcp')).toBe(4001);
  });
});

describe('TestPodAddHostPortWrongProtocol', () => {
  it('a hostPort only for UDP does not apply to the TCP target', () => {
    const selection = selectTargetPorts(testPod([{ containerPort: 80, hostPort: 4001, protocol: 'UDP' }]), [testSvc()]);
    expect(summary(selection)).toEqual([DEFAULT_TARGET]);
    expect(selection.hostPorts.get('80:tcp')).toBeUndefined();
  });
});

describe('TestTargetPortWithName', () => {
  const pod = testPod([{ containerPort: 80, name: 'abcPort', protocol: 'TCP' }]);

  it('a named targetPort resolves through the container port name', () => {
    const selection = selectTargetPorts(pod, [testSvcWithPortName('abcPort')]);
    expect(summary(selection)).toEqual([DEFAULT_TARGET]);
    expect(selection.ignored).toEqual([]);
  });

  it('a name the Pod does not declare removes the mapping and enqueues the Pod', () => {
    const selection = selectTargetPorts(pod, [testSvcWithPortName('wrongPort')]);
    expect(selection.targets).toEqual([]);
    expect(selection.ignored).toEqual([{ service: 'default/test-svc', reason: 'unresolved-named-port', port: 'wrongPort:tcp' }]);
    expect(podsAffectedByServiceChange(testSvcWithPortName('abcPort'), testSvcWithPortName('wrongPort'), [pod])).toEqual([POD_KEY]);
  });

  it('a name declared with another protocol does not resolve', () => {
    const udpPod = testPod([{ containerPort: 80, name: 'abcPort', protocol: 'UDP' }]);
    expect(selectTargetPorts(udpPod, [testSvcWithPortName('abcPort')]).ignored).toEqual([
      { service: 'default/test-svc', reason: 'unresolved-named-port', port: 'abcPort:tcp' },
    ]);
  });

  it('a container port without protocol is TCP', () => {
    const noProtocol = testPod([{ containerPort: 8080, name: 'abcPort' }]);
    expect(summary(selectTargetPorts(noProtocol, [testSvcWithPortName('abcPort')]))).toEqual(['8080/tcp {IPv4} [default/test-svc]']);
  });

  it('init containers are not consulted', () => {
    const init = edited(testPod(), (p) => {
      p.spec!.initContainers = [{ name: 'init', ports: [{ containerPort: 80, name: 'abcPort', hostPort: 4001 }] }];
    });
    const selection = selectTargetPorts(init, [testSvcWithPortName('abcPort'), testSvc(90)]);
    expect(summary(selection)).toEqual(['90/tcp {IPv4} [default/test-svc]']);
    expect(selection.hostPorts).toEqual(new Map());
  });
});

describe('TestMultipleProtocols', () => {
  const tcpUdpLabels = { tcp: 'true', udp: 'true' };
  const udpLabels = { tcp: 'false', udp: 'true' };
  const pod1 = edited(testPod(), (p) => {
    p.metadata = { ...p.metadata, name: 'pod1', labels: tcpUdpLabels };
  });
  const pod2 = edited(testPod(), (p) => {
    p.metadata = { ...p.metadata, name: 'pod2', labels: udpLabels };
  });
  const svc1 = edited(testSvc(), (s) => {
    s.metadata!.name = 'svc1';
    s.spec!.selector = tcpUdpLabels;
  });
  const svc2 = edited(testSvc(), (s) => {
    s.metadata!.name = 'svc2';
    s.spec!.selector = udpLabels;
    s.spec!.ports = [{ port: 81, protocol: 'UDP', targetPort: 80 }];
  });

  it('pod1 gets 80/tcp from svc1 and pod2 gets 80/udp from svc2', () => {
    expect(summary(selectTargetPorts(pod1, [svc1, svc2]))).toEqual(['80/tcp {IPv4} [default/svc1]']);
    expect(summary(selectTargetPorts(pod2, [svc1, svc2]))).toEqual(['80/udp {IPv4} [default/svc2]']);
  });

  it('adding TCP 80 to svc2 gives pod2 both protocols and enqueues only pod2', () => {
    const svc2Both = edited(svc2, (s) => {
      s.spec!.ports!.push({ port: 80, protocol: 'TCP', targetPort: 80 });
    });
    expect(summary(selectTargetPorts(pod2, [svc1, svc2Both]))).toEqual([
      '80/tcp {IPv4} [default/svc2]',
      '80/udp {IPv4} [default/svc2]',
    ]);
    expect(podsAffectedByServiceChange(svc2, svc2Both, [pod1, pod2])).toEqual(['default/pod2']);
  });
});

describe('TestMultipleServicesSameBackendPod', () => {
  it('two Services on ports 80 and 9090 give two mappings', () => {
    const svc2 = edited(testSvc(9090), (s) => {
      s.metadata!.name = 'svc2';
    });
    expect(summary(selectTargetPorts(testPod(), [testSvc(), svc2]))).toEqual([DEFAULT_TARGET, '9090/tcp {IPv4} [default/svc2]']);
  });
});

describe('TestServiceNameStoredWithNamedPort', () => {
  it('a mapping from a named port records its owning Service', () => {
    const pod = testPod([{ containerPort: 80, name: 'http', protocol: 'TCP' }]);
    expect(selectTargetPorts(pod, [testSvcWithPortName('http')]).targets[0]?.services).toEqual(['default/test-svc']);
  });
});

describe('TestServiceNameUpdatedAfterOwningServiceReplaced', () => {
  it('replacing the Service keeps the same target with the new owner', () => {
    const newSvc = edited(testSvc(), (s) => {
      s.metadata!.name = 'new-svc';
    });
    expect(summary(selectTargetPorts(testPod(), [newSvc]))).toEqual(['80/tcp {IPv4} [default/new-svc]']);
  });
});

describe('TestServiceNameSharedByMultipleServices', () => {
  const zSvcNumeric = edited(testSvc(), (s) => {
    s.metadata!.name = 'z-svc';
  });
  const zSvcNamed = edited(testSvcWithPortName('abcPort'), (s) => {
    s.metadata!.name = 'z-svc';
  });

  it.each([
    ['numeric: both Services use numeric target ports', zSvcNumeric, testPod()],
    ['named: the second Service\'s named port resolves to the same number', zSvcNamed, testPod([{ containerPort: 80, name: 'abcPort', protocol: 'TCP' }])],
  ])('%s => one target owned by both, sorted', (_name, zSvc, pod) => {
    expect(summary(selectTargetPorts(pod, [zSvc, testSvc()]))).toEqual(['80/tcp {IPv4} [default/test-svc,default/z-svc]']);
  });

  it('a Service listed twice is recorded once', () => {
    expect(selectTargetPorts(testPod(), [testSvc(), testSvc()]).targets[0]?.services).toEqual(['default/test-svc']);
  });
});

describe('selectTargetPorts', () => {
  it.each(['Succeeded', 'Failed'])('gives a %s Pod nothing (TestPodIPRecycle)', (phase) => {
    const pod = edited(testPod([{ containerPort: 80, hostPort: 4001 }]), (p) => {
      p.status!.phase = phase;
    });
    expect(selectTargetPorts(pod, [testSvc()])).toEqual({ terminated: true, targets: [], hostPorts: new Map(), ignored: [] });
  });

  it.each(['Pending', 'Running', 'Unknown', undefined])('selects for a Pod in phase %s', (phase) => {
    const pod = edited(testPod(), (p) => {
      p.status!.phase = phase;
    });
    expect(summary(selectTargetPorts(pod, [testSvc()]))).toEqual([DEFAULT_TARGET]);
  });

  it('keeps a Pod being deleted but still running', () => {
    const pod = edited(testPod(), (p) => {
      p.metadata!.deletionTimestamp = new Date(0);
    });
    expect(summary(selectTargetPorts(pod, [testSvc()]))).toEqual([DEFAULT_TARGET]);
  });

  it('ignores a Service without selector', () => {
    for (const selector of [undefined, {}]) {
      const svc = edited(testSvc(), (s) => {
        s.spec!.selector = selector;
      });
      expect(selectTargetPorts(testPod(), [svc]).ignored).toEqual([{ service: 'default/test-svc', reason: 'no-selector' }]);
    }
  });

  it('ignores a Service with empty or absent spec.ipFamilies', () => {
    for (const ipFamilies of [undefined, []]) {
      const svc = edited(testSvc(), (s) => {
        s.spec!.ipFamilies = ipFamilies;
      });
      expect(selectTargetPorts(testPod(), [svc])).toMatchObject({ targets: [], ignored: [{ service: 'default/test-svc', reason: 'no-ip-families' }] });
    }
  });

  it('ignores SCTP ports but keeps the other ports of the Service', () => {
    const svc = svcWithPorts([
      { port: 80, protocol: 'SCTP', targetPort: 80 },
      { port: 81, protocol: 'UDP', targetPort: 81 },
      { port: 82, protocol: 'ICMP', targetPort: 82 },
    ]);
    const selection = selectTargetPorts(testPod(), [svc]);
    expect(summary(selection)).toEqual(['81/udp {IPv4} [default/test-svc]']);
    expect(selection.ignored).toEqual([
      { service: 'default/test-svc', reason: 'sctp-port', port: '80:sctp' },
      { service: 'default/test-svc', reason: 'unsupported-protocol', port: '82:icmp' },
    ]);
  });

  it('merges the families of Services sharing a port, IPv4 first', () => {
    const v6 = edited(testSvc(), (s) => {
      s.metadata!.name = 'v6-svc';
      s.spec!.ipFamilies = ['IPv6'];
    });
    expect(summary(selectTargetPorts(testPod(), [v6, testSvc()]))).toEqual(['80/tcp {IPv4,IPv6} [default/test-svc,default/v6-svc]']);
  });

  it('takes the families of a dual-stack Service whatever their order', () => {
    const dual = edited(testSvc(), (s) => {
      s.spec!.ipFamilies = ['IPv6', 'IPv4'];
    });
    expect(summary(selectTargetPorts(testPod(), [dual]))).toEqual(['80/tcp {IPv4,IPv6} [default/test-svc]']);
  });

  it('merges the families of a named and a numeric reference to the same port', () => {
    const named = edited(testSvcWithPortName('web'), (s) => {
      s.metadata!.name = 'named';
      s.spec!.ipFamilies = ['IPv6'];
    });
    const pod = testPod([{ containerPort: 80, name: 'web' }]);
    expect(summary(selectTargetPorts(pod, [testSvc(), named]))).toEqual(['80/tcp {IPv4,IPv6} [default/named,default/test-svc]']);
  });

  it('sorts targets by podPort, then protocol', () => {
    const svc = svcWithPorts([
      { port: 1, protocol: 'UDP', targetPort: 90 },
      { port: 2, protocol: 'TCP', targetPort: 90 },
      { port: 3, protocol: 'TCP', targetPort: 8080 },
      { port: 4, protocol: 'UDP', targetPort: 80 },
    ]);
    expect(selectTargetPorts(testPod(), [svc]).targets.map((t) => portProtoKey(t.podPort, t.protocol))).toEqual([
      '80:udp',
      '90:tcp',
      '90:udp',
      '8080:tcp',
    ]);
  });

  it('leaves hostPorts empty when nothing is targeted', () => {
    const selection = selectTargetPorts(testPod([{ containerPort: 80, hostPort: 4001 }]), [testSvcWithPortName('missing')]);
    expect(selection.hostPorts).toEqual(new Map());
  });

  it('defaults the Service port protocol to TCP', () => {
    const svc = svcWithPorts([{ port: 80, targetPort: 8080 }]);
    expect(summary(selectTargetPorts(testPod(), [svc]))).toEqual(['8080/tcp {IPv4} [default/test-svc]']);
  });
});

describe('resolveTargetPort', () => {
  it.each<[V1ServicePort, number | string]>([
    [{ port: 80, targetPort: 8080 }, 8080],
    [{ port: 80 }, 80],
    [{ port: 80, targetPort: 0 }, 80],
    [{ port: 80, targetPort: '' }, 80],
    [{ port: 80, targetPort: '8080' }, 8080],
    [{ port: 80, targetPort: 'http' }, 'http'],
    [{ port: 80, targetPort: 'http-8080' }, 'http-8080'],
  ])('%j targets %j', (port, target) => {
    expect(resolveTargetPort(port)).toBe(target);
  });
});

describe('isNplEnabledService and serviceSelectsPod', () => {
  it('enabled = annotation exactly "true" and a type that may carry mappings', () => {
    expect(isNplEnabledService(testSvc())).toBe(true);
    expect(isNplEnabledService(edited(testSvc(), (s) => { s.spec!.type = 'NodePort'; }))).toBe(false);
    expect(isNplEnabledService(edited(testSvc(), (s) => { s.spec!.type = 'ExternalName'; }))).toBe(false);
    expect(isNplEnabledService({})).toBe(false);
  });

  it.each<[string, Record<string, string> | undefined, string, boolean]>([
    ['matching selector', { foo: 'test-pod' }, 'default', true],
    ['selector subset of labels', { foo: 'test-pod' }, 'default', true],
    ['other namespace', { foo: 'test-pod' }, 'blue', false],
    ['extra selector key', { foo: 'test-pod', bar: 'x' }, 'default', false],
    ['other value', { foo: 'other' }, 'default', false],
    ['empty selector', {}, 'default', false],
    ['no selector', undefined, 'default', false],
  ])('%s: %s', (_name, selector, namespace, selects) => {
    const svc = edited(testSvc(), (s) => {
      s.metadata!.namespace = namespace;
      s.spec!.selector = selector;
    });
    const pod = edited(testPod(), (p) => {
      p.metadata!.labels = { foo: 'test-pod', app: 'web' };
    });
    expect(serviceSelectsPod(svc, pod)).toBe(selects);
  });
});

describe('podsAffectedByServiceChange', () => {
  const other = edited(testPod(), (p) => {
    p.metadata!.name = 'other-pod';
    p.metadata!.labels = { foo: 'other' };
  });
  const pods = [testPod(), other];

  it('enqueues the selected Pods of an added or deleted enabled Service', () => {
    expect(podsAffectedByServiceChange(undefined, testSvc(), pods)).toEqual([POD_KEY]);
    expect(podsAffectedByServiceChange(testSvc(), undefined, pods)).toEqual([POD_KEY]);
  });

  it('enqueues nothing for Services that are not enabled on either side', () => {
    const nodePort = edited(testSvc(), (s) => {
      s.spec!.type = 'NodePort';
    });
    expect(podsAffectedByServiceChange(undefined, nodePort, pods)).toEqual([]);
    expect(podsAffectedByServiceChange(nodePort, edited(nodePort, (s) => { s.spec!.ports = []; }), pods)).toEqual([]);
    expect(podsAffectedByServiceChange(undefined, undefined, pods)).toEqual([]);
  });

  it('enqueues the symmetric difference when the selector moves', () => {
    const moved = edited(testSvc(), (s) => {
      s.spec!.selector = { foo: 'other' };
    });
    expect(podsAffectedByServiceChange(testSvc(), moved, pods)).toEqual(['default/other-pod', POD_KEY]);
  });

  it('enqueues nothing when the selector changes but selects the same Pods', () => {
    const labelled = edited(testPod(), (p) => {
      p.metadata!.labels = { foo: 'test-pod', app: 'web' };
    });
    const narrowed = edited(testSvc(), (s) => {
      s.spec!.selector = { foo: 'test-pod', app: 'web' };
    });
    expect(podsAffectedByServiceChange(testSvc(), narrowed, [labelled, other])).toEqual([]);
  });

  it('enqueues the selected Pods when spec.ipFamilies changes (gap in Antrea)', () => {
    const dual = edited(testSvc(), (s) => {
      s.spec!.ipFamilies = ['IPv4', 'IPv6'];
    });
    expect(podsAffectedByServiceChange(testSvc(), dual, pods)).toEqual([POD_KEY]);
  });

  it('enqueues nothing when only the order of spec.ipFamilies or ports changes', () => {
    const a = edited(testSvc(80, 90), (s) => {
      s.spec!.ipFamilies = ['IPv4', 'IPv6'];
    });
    const b = edited(a, (s) => {
      s.spec!.ipFamilies = ['IPv6', 'IPv4'];
      s.spec!.ports!.reverse();
    });
    expect(podsAffectedByServiceChange(a, b, pods)).toEqual([]);
  });

  it('enqueues nothing when a port changes without changing its target', () => {
    const renamed = edited(testSvc(), (s) => {
      s.spec!.ports![0]!.name = 'http';
      s.spec!.ports![0]!.port = 8080;
    });
    expect(podsAffectedByServiceChange(testSvc(), renamed, pods)).toEqual([]);
  });

  it('enqueues the selected Pods when a port protocol changes', () => {
    const udp = edited(testSvc(), (s) => {
      s.spec!.ports![0]!.protocol = 'UDP';
    });
    expect(podsAffectedByServiceChange(testSvc(), udp, pods)).toEqual([POD_KEY]);
  });

  it('returns sorted, unique keys', () => {
    const all = edited(testSvc(), (s) => {
      s.spec!.selector = { tier: 'x' };
    });
    const many = ['c', 'a', 'b'].map((name) => edited(testPod(), (p) => {
      p.metadata!.name = name;
      p.metadata!.labels = { tier: 'x' };
    }));
    expect(podsAffectedByServiceChange(undefined, all, [...many, ...many])).toEqual(['default/a', 'default/b', 'default/c']);
  });
});

describe('keys', () => {
  it('are namespace/name and port:protocol', () => {
    expect(podKey(testPod())).toBe(POD_KEY);
    expect(serviceKey(testSvc())).toBe('default/test-svc');
    expect(portProtoKey(80, 'TCP')).toBe('80:tcp');
    expect(portProtoKey('http', undefined)).toBe('http:tcp');
  });

  it('isPodTerminated is true for Succeeded and Failed only', () => {
    const inPhase = (phase: string): V1Pod => ({ status: { phase } });
    expect(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'].map((phase) => isPodTerminated(inPhase(phase)))).toEqual([
      false,
      false,
      true,
      true,
      false,
    ]);
  });
});
