/**
 * Antrea's controller unit tests (spec §8.1, pkg/agent/nodeportlocal/k8s/npl_controller_test.go)
 * ported to the reconcile level: the same fixture, the same steps, asserting the annotation and the
 * dataplane state. The agent re-runs the controller-loop ones against a real API server.
 */
import { beforeEach, describe, expect, it } from '@jest/globals';
import { NPL_ANNOTATION_KEY, NPL_ENABLED_ANNOTATION_KEY } from './annotation.js';
import { planRestore } from './annotation-plan.js';
import { serviceForNplPort } from './querier.js';
import { NplHarness, TEST_NODE_IPV6, TEST_POD_IP, TEST_RANGE, testPod, testService } from './testing/npl-harness.js';

let h: NplHarness;

async function defaultSetup(harness = new NplHarness()): Promise<NplHarness> {
  harness.putPod(testPod());
  harness.putService(testService());
  await harness.sync();
  expect(harness.check([{ podPort: 80, nodePort: 61000 }])).toEqual([]);
  expect(harness.hasRule(TEST_POD_IP, 80)).toBe(true);
  return harness;
}

beforeEach(async () => {
  h = await defaultSetup();
});

describe('TestSvcNamespaceUpdate', () => {
  it('svc namespace update: deleting the Service in the Pod namespace removes the mapping; one in another namespace never selects it', async () => {
    h.putService(testService('test-svc', { foo: 'test-pod' }, 'blue'));
    await h.sync();
    expect(h.check([{ podPort: 80 }])).toEqual([]);
    h.services.delete('default/test-svc');
    await h.sync();
    expect(h.annotationText()).toBeUndefined();
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(false);
  });
});

describe('TestSvcTypeUpdate', () => {
  it('svc type update: ClusterIP to NodePort removes the mapping, back to ClusterIP restores one', async () => {
    h.services.get('default/test-svc')!.spec!.type = 'NodePort';
    await h.sync();
    expect(h.annotationText()).toBeUndefined();
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(false);
    h.services.get('default/test-svc')!.spec!.type = 'ClusterIP';
    await h.sync();
    expect(h.check([{ podPort: 80 }])).toEqual([]);
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(true);
  });
});

describe('TestSvcUpdateAnnotation', () => {
  it('svc update annotation: "false" removes the mapping, "true" restores it', async () => {
    h.services.get('default/test-svc')!.metadata!.annotations![NPL_ENABLED_ANNOTATION_KEY] = 'false';
    await h.sync();
    expect(h.annotationText()).toBeUndefined();
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(false);
    h.services.get('default/test-svc')!.metadata!.annotations![NPL_ENABLED_ANNOTATION_KEY] = 'true';
    await h.sync();
    expect(h.check([{ podPort: 80 }])).toEqual([]);
  });
});

describe('TestSvcRemoveAnnotation', () => {
  it('svc remove annotation: removing the Service annotations removes the mapping', async () => {
    delete h.services.get('default/test-svc')!.metadata!.annotations;
    await h.sync();
    expect(h.annotationText()).toBeUndefined();
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(false);
  });
});

describe('TestSvcUpdateSelector', () => {
  it('svc update selector: a selector that no longer matches removes the mapping; restoring it re-adds', async () => {
    h.services.get('default/test-svc')!.spec!.selector = { foo: 'invalid-selector' };
    await h.sync();
    expect(h.annotationText()).toBeUndefined();
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(false);
    h.services.get('default/test-svc')!.spec!.selector = { foo: 'test-pod' };
    await h.sync();
    expect(h.check([{ podPort: 80 }])).toEqual([]);
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(true);
  });
});

describe('TestPodUpdateSelectorLabel', () => {
  it('pod update selector label: changing the Pod labels removes the mapping', async () => {
    h.pod().metadata!.labels = { foo: 'invalid-label' };
    await h.sync();
    expect(h.annotationText()).toBeUndefined();
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(false);
  });
});

describe('TestSvcDelete', () => {
  it('svc delete: deleting the Service removes annotation and rule', async () => {
    h.services.delete('default/test-svc');
    await h.sync();
    expect(h.annotationText()).toBeUndefined();
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(false);
  });
});

describe('TestPodDelete', () => {
  it('pod delete: deleting the Pod removes its rule, socket and table entry', async () => {
    h.pods.delete('default/test-pod');
    await h.sync();
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(false);
    expect(h.table().entriesForPod('default/test-pod')).toEqual([]);
    expect(h.reservers.get('IPv4')!.dump()).toBe('');
  });
});

describe('TestAddMultiPortPodSvc', () => {
  it('add multi port pod svc: targets 80 and 90 give 2 entries; removing 90 leaves 1 and its rule goes', async () => {
    const svc = h.services.get('default/test-svc')!;
    svc.spec!.ports!.push({ name: 'other', port: 90, protocol: 'TCP', targetPort: 90 });
    await h.sync();
    expect(h.check([{ podPort: 80 }, { podPort: 90 }])).toEqual([]);
    expect(h.hasRule(TEST_POD_IP, 90)).toBe(true);
    svc.spec!.ports!.pop();
    await h.sync();
    expect(h.check([{ podPort: 80 }])).toEqual([]);
    expect(h.hasRule(TEST_POD_IP, 90)).toBe(false);
  });
});

describe('TestAddMultiPortPodSinglePortSvc', () => {
  it('add multi port pod single port svc: only the Service target port is mapped', async () => {
    h.pod().spec!.containers[0]!.ports!.push({ containerPort: 81, protocol: 'TCP' });
    await h.sync();
    expect(h.check([{ podPort: 80 }])).toEqual([]);
    expect(h.hasRule(TEST_POD_IP, 81)).toBe(false);
  });
});

describe('TestPodAddHostPort', () => {
  it('pod add host port: the hostPort is the node port, with no rule and no table entry', async () => {
    const g = new NplHarness();
    const pod = testPod();
    pod.spec!.containers[0]!.ports = [{ containerPort: 80, protocol: 'TCP', hostPort: 4001 }];
    g.putPod(pod);
    g.putService(testService());
    await g.sync();
    expect(g.check([{ podPort: 80, nodePort: 4001 }], 'default/test-pod', { start: 1, end: 65535 })).toEqual([]);
    expect(g.rulesOf().mappings()).toEqual([]);
    expect(g.table().entries()).toEqual([]);
  });
});

describe('TestPodAddHostPortMultiProtocol', () => {
  it('pod add host port multi protocol: a TCP Service over TCP+UDP hostPorts gives one tcp entry and no rule', async () => {
    const g = new NplHarness();
    const pod = testPod();
    pod.spec!.containers[0]!.ports = [
      { containerPort: 80, protocol: 'TCP', hostPort: 4001 },
      { containerPort: 80, protocol: 'UDP', hostPort: 4001 },
    ];
    g.putPod(pod);
    g.putService(testService());
    await g.sync();
    expect(g.check([{ podPort: 80, nodePort: 4001 }], 'default/test-pod', { start: 1, end: 65535 })).toEqual([]);
    expect(g.rulesOf().mappings()).toEqual([]);
  });
});

describe('TestPodAddHostPortWrongProtocol', () => {
  it('pod add host port wrong protocol: a UDP-only hostPort does not serve the TCP Service: normal allocation and rule', async () => {
    const g = new NplHarness();
    const pod = testPod();
    pod.spec!.containers[0]!.ports = [{ containerPort: 80, protocol: 'UDP', hostPort: 4001 }];
    g.putPod(pod);
    g.putService(testService());
    await g.sync();
    expect(g.check([{ podPort: 80, nodePort: 61000 }])).toEqual([]);
    expect(g.hasRule(TEST_POD_IP, 80)).toBe(true);
  });
});

describe('TestTargetPortWithName', () => {
  it('target port with name: a named targetPort resolves through the container port; a wrong name removes the mapping', async () => {
    const g = new NplHarness();
    const pod = testPod();
    pod.spec!.containers[0]!.ports = [{ name: 'abcPort', containerPort: 80, protocol: 'TCP' }];
    const svc = testService();
    svc.spec!.ports![0]!.targetPort = 'abcPort';
    g.putPod(pod);
    g.putService(svc);
    await g.sync();
    expect(g.check([{ podPort: 80 }])).toEqual([]);
    expect(g.hasRule(TEST_POD_IP, 80)).toBe(true);
    g.services.get('default/test-svc')!.spec!.ports![0]!.targetPort = 'wrongPort';
    await g.sync();
    expect(g.annotationText()).toBeUndefined();
    expect(g.hasRule(TEST_POD_IP, 80)).toBe(false);
  });
});

describe('TestMultiplePods', () => {
  it('multiple pods: two Pods with different IPs get different node ports and both rules exist', async () => {
    const pod2 = testPod('test-pod-2', ['192.168.32.11']);
    pod2.metadata!.labels = { foo: 'test-pod' };
    h.putPod(pod2);
    await h.sync('default/test-pod-2');
    expect(h.check([{ podPort: 80 }], 'default/test-pod-2')).toEqual([]);
    expect(h.annotation('default/test-pod-2')[0]!.nodePort).not.toBe(h.annotation()[0]!.nodePort);
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(true);
    expect(h.hasRule('192.168.32.11', 80)).toBe(true);
  });
});

describe('TestPodIPRecycle', () => {
  it('pod IP recycle: a terminated Pod and a new Pod with the same IP keep their own mappings', async () => {
    const pod2 = testPod('test-pod-2');
    pod2.metadata!.labels = { foo: 'test-pod' };
    h.putPod(pod2);
    await h.sync('default/test-pod-2');
    const port2 = h.annotation('default/test-pod-2')[0]!.nodePort;
    h.pod().status!.phase = 'Succeeded';
    await h.sync();
    expect(h.annotationText()).toBeUndefined();
    expect(h.table().entriesForPod('default/test-pod')).toEqual([]);
    expect(h.table().entryForNodePort(port2, 'tcp')?.podKey).toBe('default/test-pod-2');
    h.pods.delete('default/test-pod');
    await h.sync('default/test-pod');
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(true);
    expect(h.check([{ podPort: 80, nodePort: port2 }], 'default/test-pod-2')).toEqual([]);
    h.pods.delete('default/test-pod-2');
    await h.sync('default/test-pod-2');
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(false);
  });
});

describe('TestMultipleProtocols', () => {
  it('multiple protocols: tcp and udp Pods get different ports; a new tcp port on svc2 takes the next port', async () => {
    const g = new NplHarness();
    g.putPod(testPod('pod1', ['192.168.32.10']));
    const pod2 = testPod('pod2', ['192.168.32.11']);
    pod2.spec!.containers[0]!.ports = [
      { containerPort: 80, protocol: 'UDP' },
      { containerPort: 80, protocol: 'TCP' },
    ];
    g.putPod(pod2);
    g.putService(testService('svc1', { foo: 'pod1' }));
    const svc2 = testService('svc2', { foo: 'pod2' });
    svc2.spec!.ports = [{ name: 'udp', port: 80, protocol: 'UDP', targetPort: 80 }];
    g.putService(svc2);
    await g.syncAll();
    const p1 = g.annotation('default/pod1')[0]!.nodePort;
    const p2 = g.annotation('default/pod2')[0]!.nodePort;
    expect(g.check([{ podPort: 80, protocol: 'tcp' }], 'default/pod1')).toEqual([]);
    expect(g.check([{ podPort: 80, protocol: 'udp' }], 'default/pod2')).toEqual([]);
    expect(p1).not.toBe(p2);
    g.services.get('default/svc2')!.spec!.ports!.push({ name: 'tcp', port: 80, protocol: 'TCP', targetPort: 80 });
    await g.sync('default/pod2');
    expect(g.check([{ podPort: 80, protocol: 'udp', nodePort: p2 }, { podPort: 80, protocol: 'tcp', nodePort: Math.max(p1, p2) + 1 }], 'default/pod2')).toEqual([]);
  });
});

describe('TestMultipleServicesSameBackendPod', () => {
  it('multiple services same backend pod: two Services on ports 80 and 9090 give two entries', async () => {
    h.pod().spec!.containers[0]!.ports!.push({ containerPort: 9090, protocol: 'TCP' });
    const svc2 = testService('test-svc-2');
    svc2.spec!.ports = [{ port: 9090, protocol: 'TCP', targetPort: 9090 }];
    h.putService(svc2);
    await h.sync();
    expect(h.check([{ podPort: 80 }, { podPort: 9090 }])).toEqual([]);
    expect(h.hasRule(TEST_POD_IP, 9090)).toBe(true);
  });
});

/** Antrea's TestInit* shape: a Pod annotated before the agent starts, the start-up restore plan, then its first reconcile. */
async function restoreThenSync(annotationText: string, pod = testPod()) {
  pod.metadata!.annotations = { [NPL_ANNOTATION_KEY]: annotationText };
  const plan = planRestore([pod], { range: TEST_RANGE, families: ['IPv4'] });
  const g = new NplHarness();
  g.putPod(pod);
  g.putService(testService());
  await g.sync();
  return { plan, g };
}

describe('TestInitInvalidAnnotation', () => {
  it('init invalid annotation: an empty annotation is removed at start-up and the mapping is then created', async () => {
    const { plan, g } = await restoreThenSync('');
    expect(plan.removeAnnotation).toEqual([expect.objectContaining({ podKey: 'default/test-pod', reason: 'invalid-annotation' })]);
    expect(plan.mappings.IPv4).toEqual([]);
    expect(g.check([{ podPort: 80 }])).toEqual([]);
  });
});

describe('TestInitNodePortOutOfRange', () => {
  it('init node port out of range: an annotated node port outside the range is not restored and gets reallocated', async () => {
    const { plan, g } = await restoreThenSync('[{"podPort":80,"nodeIP":"10.10.10.10","nodePort":30000,"protocol":"tcp","ipFamily":"IPv4"}]');
    expect(plan.mappings.IPv4).toEqual([]);
    expect(plan.skipped).toEqual([{ podKey: 'default/test-pod', index: 0, reason: 'node-port-out-of-range' }]);
    expect(g.check([{ podPort: 80, nodePort: 61000 }])).toEqual([]);
  });
});

describe('TestInitMissingPodIP', () => {
  it('init missing pod IP: the annotation of a Pod without IP is removed; the mapping comes once it has one', async () => {
    const pending = testPod();
    pending.status = { phase: 'Pending' };
    const { plan, g } = await restoreThenSync('[{"podPort":80,"nodeIP":"10.10.10.10","nodePort":61000,"protocol":"tcp","ipFamily":"IPv4"}]', pending);
    expect(plan.removeAnnotation).toEqual([{ podKey: 'default/test-pod', reason: 'no-pod-ip' }]);
    expect(g.annotationText()).toBeUndefined();
    expect(g.rulesOf().mappings()).toEqual([]);
    g.pod().status = testPod().status!;
    await g.sync();
    expect(g.check([{ podPort: 80 }])).toEqual([]);
  });

  it('beyond Antrea: once the Pod has an IP again it gets back the node port its removed annotation held', async () => {
    const pending = testPod();
    pending.status = { phase: 'Pending' };
    const nodePort = TEST_RANGE.start + 7;
    const { plan, g } = await restoreThenSync(`[{"podPort":80,"nodeIP":"10.10.10.10","nodePort":${nodePort},"protocol":"tcp","ipFamily":"IPv4"}]`, pending);
    expect(plan.hints.IPv4).toEqual([{ podKey: 'default/test-pod', podPort: 80, protocol: 'tcp', nodePort }]);
    for (const h of plan.hints.IPv4) g.table().hintPort(h.podKey, h.podPort, h.protocol, h.nodePort);
    expect(g.annotationText()).toBeUndefined();
    g.pod().status = testPod().status!;
    await g.sync();
    expect(g.check([{ podPort: 80 }])).toEqual([]);
    expect(g.table().getEntry('default/test-pod', 80, 'tcp')?.nodePort).toBe(nodePort);
  });
});

describe('a running agent: a Pod that loses its IP and gets one again', () => {
  it('keeps its node port (the mapping and annotation go meanwhile, as in Antrea)', async () => {
    const g = new NplHarness();
    g.putPod(testPod());
    g.putService(testService());
    await g.sync();
    const before = g.table().getEntry('default/test-pod', 80, 'tcp')?.nodePort;
    expect(before).toBeDefined();
    const saved = g.pod().status!;
    g.pod().status = { phase: 'Pending' };
    await g.sync();
    expect(g.annotationText()).toBeUndefined();
    expect(g.rulesOf().mappings()).toEqual([]);
    g.pod().status = saved;
    await g.sync();
    expect(g.check([{ podPort: 80 }])).toEqual([]);
    expect(g.table().getEntry('default/test-pod', 80, 'tcp')?.nodePort).toBe(before);
  });
});

describe('TestInitIncompleteRuleInAnnotation', () => {
  it('init incomplete rule in annotation: an entry without podPort is not restored; a valid mapping comes later', async () => {
    const { plan, g } = await restoreThenSync('[{"nodeIP":"10.10.10.10","nodePort":61000,"protocol":"tcp","ipFamily":"IPv4"}]');
    expect(plan.mappings.IPv4).toEqual([]);
    expect(plan.skipped).toEqual([{ podKey: 'default/test-pod', index: 0, reason: 'incomplete-entry' }]);
    expect(g.check([{ podPort: 80 }])).toEqual([]);
  });
});

describe('TestInitIncompleteRuleInAnnotation (no protocol)', () => {
  async function restoreAndSync(text: string) {
    const pod = testPod();
    pod.metadata!.annotations = { [NPL_ANNOTATION_KEY]: text };
    const plan = planRestore([pod], { range: TEST_RANGE, families: ['IPv4'] });
    const g = new NplHarness();
    await g.table().restore(plan.mappings.IPv4);
    g.putPod(pod);
    g.putService(testService());
    await g.sync();
    return { plan, g };
  }

  it('an entry without a protocol field (v0.13-v1.6 shape) is incomplete for Antrea: not restored, its port reallocated and the annotation rewritten', async () => {
    for (const text of [
      '[{"podPort":80,"nodeIP":"10.10.10.10","nodePort":61005}]',
      '[{"podPort":80,"nodeIP":"10.10.10.10","nodePort":61005,"protocols":["tcp"]}]',
    ]) {
      const { plan, g } = await restoreAndSync(text);
      expect(plan.mappings.IPv4).toEqual([]);
      expect(plan.skipped).toEqual([{ podKey: 'default/test-pod', index: 0, reason: 'incomplete-entry' }]);
      expect(g.check([{ podPort: 80, nodePort: 61000 }])).toEqual([]);
      expect(g.annotationText()).toContain('"protocol":"tcp","ipFamily":"IPv4"');
    }
  });

  it('the same entry with its protocol is restored and keeps its node port', async () => {
    const { plan, g } = await restoreAndSync('[{"podPort":80,"nodeIP":"10.10.10.10","nodePort":61005,"protocol":"tcp"}]');
    expect(plan.mappings.IPv4).toEqual([expect.objectContaining({ nodePort: 61005, protocol: 'tcp' })]);
    expect(g.check([{ podPort: 80, nodePort: 61005 }])).toEqual([]);
  });
});

describe('TestNodePortAlreadyBoundTo', () => {
  it('node port already bound to: when 61000/tcp cannot be bound, 61001 is chosen and annotated', async () => {
    const g = new NplHarness();
    g.reservers.get('IPv4')!.makeUnavailable(61000, 'tcp');
    g.putPod(testPod());
    g.putService(testService());
    await g.sync();
    expect(g.check([{ podPort: 80, nodePort: 61001 }])).toEqual([]);
  });
});

describe('TestSingleRuleDeletionError', () => {
  it('single rule deletion error: a failed delete leaves the annotation and a defunct entry; the retry removes it', async () => {
    const svc = h.services.get('default/test-svc')!;
    svc.spec!.ports!.push({ name: 'other', port: 90, protocol: 'TCP', targetPort: 90 });
    await h.sync();
    expect(h.check([{ podPort: 80 }, { podPort: 90 }])).toEqual([]);
    svc.spec!.ports!.pop();
    h.rulesOf().failNext('delete', 1);
    await expect(h.sync()).rejects.toThrow('delete IPv4 tcp node port 61001');
    expect(h.check([{ podPort: 80 }, { podPort: 90 }])).toEqual([]);
    expect(h.table().getEntry('default/test-pod', 90, 'tcp')?.defunct).toBe(true);
    await h.sync();
    expect(h.check([{ podPort: 80 }])).toEqual([]);
    expect(h.table().getEntry('default/test-pod', 90, 'tcp')).toBeUndefined();
  });
});

describe('TestPreventDefunctRuleReuse', () => {
  it('prevent defunct rule reuse: re-adding a port with a defunct entry deletes it first, then allocates anew', async () => {
    const svc = h.services.get('default/test-svc')!;
    svc.spec!.ports!.push({ name: 'other', port: 90, protocol: 'TCP', targetPort: 90 });
    await h.sync();
    svc.spec!.ports!.pop();
    h.rulesOf().failNext('delete', 1);
    await expect(h.sync()).rejects.toThrow();
    svc.spec!.ports!.push({ name: 'other', port: 90, protocol: 'TCP', targetPort: 90 });
    const before = h.rulesOf().calls.delete;
    await h.sync();
    expect(h.rulesOf().calls.delete).toBe(before + 1);
    const entry = h.table().getEntry('default/test-pod', 90, 'tcp');
    expect(entry?.defunct).toBe(false);
    expect(entry?.nodePort).toBe(61002);
    expect(h.check([{ podPort: 80 }, { podPort: 90, nodePort: 61002 }])).toEqual([]);
  });
});

describe('TestPodIPReset', () => {
  it('pod IP reset: clearing the Pod IPs removes the annotation and the rule', async () => {
    h.pod().status = { phase: 'Running' };
    await h.sync();
    expect(h.annotationText()).toBeUndefined();
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(false);
  });
});

describe('TestPodIPChange', () => {
  it('pod IP change: the table entry follows the new Pod IP', async () => {
    h.pod().status = testPod('test-pod', ['192.168.32.99']).status!;
    await h.sync();
    expect(h.table().getEntry('default/test-pod', 80, 'tcp')?.podIP).toBe('192.168.32.99');
    expect(h.hasRule('192.168.32.99', 80)).toBe(true);
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(false);
    expect(h.check([{ podPort: 80 }])).toEqual([]);
  });
});

describe('TestNodeIPUpdate', () => {
  it('node IP update: a new ExternalIP updates the annotation nodeIP and keeps the rule', async () => {
    h.node.status!.addresses![0]!.address = '10.10.10.20';
    await h.sync();
    expect(h.check([{ podPort: 80, nodeIP: '10.10.10.20', nodePort: 61000 }])).toEqual([]);
    expect(h.hasRule(TEST_POD_IP, 80)).toBe(true);
  });
});

describe('TestIPv6Only', () => {
  it('IPv6 only: an IPv6 Service and Pod give one IPv6 entry with the IPv6 node IP', async () => {
    const g = new NplHarness(['IPv6']);
    g.putPod(testPod('test-pod', ['fd00:10:244::5']));
    const svc = testService();
    svc.spec!.ipFamilies = ['IPv6'];
    g.putService(svc);
    await g.sync();
    expect(g.check([{ podPort: 80, ipFamily: 'IPv6', nodeIP: TEST_NODE_IPV6 }])).toEqual([]);
    expect(g.hasRule('fd00:10:244::5', 80, 'tcp', 'IPv6')).toBe(true);
  });
});

describe('TestDualStack', () => {
  it('dual stack: a dual-stack Service and Pod give IPv4 and IPv6 entries and rules in both tables', async () => {
    const g = new NplHarness(['IPv4', 'IPv6']);
    g.putPod(testPod('test-pod', [TEST_POD_IP, 'fd00:10:244::5']));
    const svc = testService();
    svc.spec!.ipFamilies = ['IPv4', 'IPv6'];
    g.putService(svc);
    await g.sync();
    expect(g.check([{ podPort: 80, ipFamily: 'IPv4' }, { podPort: 80, ipFamily: 'IPv6' }])).toEqual([]);
    expect(g.hasRule(TEST_POD_IP, 80, 'tcp', 'IPv4')).toBe(true);
    expect(g.hasRule('fd00:10:244::5', 80, 'tcp', 'IPv6')).toBe(true);
  });

  it('dual stack: dropping IPv6 from the Service removes the IPv6 mapping (Antrea keeps its rule)', async () => {
    const g = new NplHarness(['IPv4', 'IPv6']);
    g.putPod(testPod('test-pod', [TEST_POD_IP, 'fd00:10:244::5']));
    const svc = testService();
    svc.spec!.ipFamilies = ['IPv4', 'IPv6'];
    g.putService(svc);
    await g.sync();
    g.services.get('default/test-svc')!.spec!.ipFamilies = ['IPv4'];
    await g.sync();
    expect(g.check([{ podPort: 80, ipFamily: 'IPv4' }])).toEqual([]);
    expect(g.rulesOf('IPv6').mappings()).toEqual([]);
  });
});

describe('TestServiceNameStoredWithNamedPort', () => {
  it('service name stored with named port: a named-port mapping records its owning Service', async () => {
    const g = new NplHarness();
    const pod = testPod();
    pod.spec!.containers[0]!.ports = [{ name: 'web', containerPort: 80, protocol: 'TCP' }];
    const svc = testService();
    svc.spec!.ports![0]!.targetPort = 'web';
    g.putPod(pod);
    g.putService(svc);
    await g.sync();
    expect(g.table().serviceForNodePort(61000, 'TCP')).toBe('default/test-svc');
  });
});

describe('TestServiceNameBackfilledAfterRestore', () => {
  it('service name backfilled after restore: a restored entry without Services gets them on the next reconcile', async () => {
    const g = new NplHarness();
    await g.table().restore([{ podKey: 'default/test-pod', nodePort: 61000, podPort: 80, podIP: TEST_POD_IP, protocol: 'tcp' }]);
    await g.table().syncAll();
    expect(g.table().serviceForNodePort(61000, 'tcp')).toBe('');
    g.putPod(testPod());
    g.putService(testService());
    await g.sync();
    expect(g.table().serviceForNodePort(61000, 'tcp')).toBe('default/test-svc');
    expect(g.check([{ podPort: 80, nodePort: 61000 }])).toEqual([]);
  });
});

describe('TestServiceNameUpdatedAfterOwningServiceReplaced', () => {
  it('service name updated after owning service replaced: the rule stays and its Services follow', async () => {
    h.services.delete('default/test-svc');
    h.putService(testService('new-svc'));
    await h.sync();
    expect(h.check([{ podPort: 80, nodePort: 61000 }])).toEqual([]);
    expect(h.table().serviceForNodePort(61000, 'tcp')).toBe('default/new-svc');
  });
});

describe('TestServiceNameSharedByMultipleServices', () => {
  it.each<[string, number | string]>([['numeric', 80], ['named', 'http']])(
    'service name shared by multiple services (%s): owners are sorted and joined with |',
    async (_name, targetPort) => {
      const g = new NplHarness();
      const pod = testPod();
      pod.spec!.containers[0]!.ports = [{ name: 'http', containerPort: 80, protocol: 'TCP' }];
      g.putPod(pod);
      for (const name of ['z-svc', 'test-svc']) {
        const svc = testService(name);
        svc.spec!.ports![0]!.targetPort = targetPort;
        g.putService(svc);
      }
      await g.sync();
      expect(g.check([{ podPort: 80 }])).toEqual([]);
      expect(g.table().serviceForNodePort(61000, 'tcp')).toBe('default/test-svc|default/z-svc');
    },
  );
});

describe('reconcile beyond Antrea', () => {
  it('overwrites an annotation a user corrupted, instead of skipping the Pod until restart', async () => {
    h.pod().metadata!.annotations![NPL_ANNOTATION_KEY] = 'not json';
    await h.sync();
    expect(h.check([{ podPort: 80, nodePort: 61000 }])).toEqual([]);
  });

  it('overwrites a user edit of the node port with the real mapping', async () => {
    h.pod().metadata!.annotations![NPL_ANNOTATION_KEY] =
      '[{"podPort":80,"nodeIP":"10.10.10.10","nodePort":61234,"protocol":"tcp","ipFamily":"IPv4"}]';
    await h.sync();
    expect(h.check([{ podPort: 80, nodePort: 61000 }])).toEqual([]);
  });

  it('does not patch when nothing changed', async () => {
    const before = h.patches;
    await h.sync();
    await h.sync();
    expect(h.patches).toBe(before);
  });

  it('keeps the annotation unchanged when allocation fails, and names the Pod in the error', async () => {
    const g = new NplHarness(['IPv4'], { start: 61000, end: 61001 });
    for (const p of [61000, 61001]) g.reservers.get('IPv4')!.makeUnavailable(p, 'tcp');
    g.putPod(testPod());
    g.putService(testService());
    await expect(g.sync()).rejects.toThrow(/Pod default\/test-pod: add IPv4 80\/tcp -> 192.168.32.10 failed: .*no free port/);
    expect(g.annotationText()).toBeUndefined();
  });
});

describe('TestGetServiceForNPLPort', () => {
  it('get service for NPL port: the querier names the Service only for this node IP, family and a known port', () => {
    const ips = { IPv4: '10.10.10.10', IPv6: TEST_NODE_IPV6 };
    const q = (destIP: string, nodePort: number, protocol: string, isIPv6 = false) =>
      serviceForNplPort(h.tables, ips, { destIP, nodePort, protocol, isIPv6 });
    expect(q('10.10.10.10', 61000, 'TCP')).toBe('default/test-svc');
    expect(q('10.10.10.10', 61000, 'tcp')).toBe('default/test-svc');
    expect(q('10.10.10.99', 61000, 'tcp')).toBe('');
    expect(q('10.10.10.10', 61000, 'tcp', true)).toBe('');
    expect(q('10.10.10.10', 61999, 'tcp')).toBe('');
    expect(q('10.10.10.10', 61000, 'udp')).toBe('');
  });
});
