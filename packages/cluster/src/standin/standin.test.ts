import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { microTime } from './node-status.js';
import { runningStatus } from './pod-controller.js';
import { IpAllocator, PodNetwork } from './pod-network.js';
import { WorkQueue } from './queue.js';
import { declaredPorts } from './runtime.js';

const pod: V1Pod = {
  metadata: { name: 'web-1', namespace: 'default', uid: 'u-1' },
  spec: {
    initContainers: [{ name: 'init', image: 'busybox' }],
    containers: [
      { name: 'web', image: 'web:1', ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }, { containerPort: 8080, hostPort: 30080 }] },
      { name: 'side', image: 'side:1', ports: [{ containerPort: 80 }, { containerPort: 9, protocol: 'SCTP' }] },
    ],
  },
};

describe('declaredPorts', () => {
  it('lists each container port once, skips SCTP, and adds hostPort listeners in the node namespace', () => {
    expect(declaredPorts(pod, { hostNetwork: false, nodeNetnsPath: '/run/netns/node' })).toEqual([
      { port: 80, protocol: 'TCP' },
      { port: 53, protocol: 'UDP' },
      { port: 8080, protocol: 'TCP' },
      { port: 30080, protocol: 'TCP', netns: '/run/netns/node' },
    ]);
  });

  it('adds no hostPort listener for hostNetwork pods (the container port is already on the node)', () => {
    expect(declaredPorts(pod, { hostNetwork: true, nodeNetnsPath: '/run/netns/node' }).some((p) => p.netns)).toBe(false);
  });
});

describe('runningStatus', () => {
  it('writes what a kubelet writes for a started, ready pod', () => {
    const t = new Date('2026-01-01T00:00:00Z');
    const sb = { uid: 'u-1', namespace: 'default', name: 'web-1', netnsPath: '/x', nodeNetnsPath: '/n', ip: '198.19.16.5', ips: ['198.19.16.5'], hostNetwork: false, startedAt: t };
    const s = runningStatus(pod, sb, ['198.18.1.10']);
    expect(s).toMatchObject({ phase: 'Running', podIP: '198.19.16.5', podIPs: [{ ip: '198.19.16.5' }], hostIP: '198.18.1.10', hostIPs: [{ ip: '198.18.1.10' }] });
    expect(s.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual([
      'PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True',
    ]);
    expect(s.containerStatuses?.map((c) => [c.name, c.ready, c.started, c.containerID])).toEqual([
      ['web', true, true, 'npl://u-1/web'],
      ['side', true, true, 'npl://u-1/side'],
    ]);
    expect(s.initContainerStatuses?.[0]?.state?.terminated?.reason).toBe('Completed');
  });
});

describe('runningStatus, dual-stack', () => {
  it('lists podIPs and hostIPs of both families, primary first, as kubelet does', () => {
    const sb = {
      uid: 'u-1', namespace: 'default', name: 'web-1', netnsPath: '/x', nodeNetnsPath: '/n', hostNetwork: false, startedAt: new Date(0),
      ip: '198.19.16.5', ips: ['198.19.16.5', '2001:db8:19:100::5'],
    };
    const s = runningStatus(pod, sb, ['198.18.1.10', '2001:db8:18:1::10']);
    expect(s).toMatchObject({
      podIP: '198.19.16.5',
      podIPs: [{ ip: '198.19.16.5' }, { ip: '2001:db8:19:100::5' }],
      hostIP: '198.18.1.10',
      hostIPs: [{ ip: '198.18.1.10' }, { ip: '2001:db8:18:1::10' }],
    });
  });
});

describe('PodNetwork.podIPs', () => {
  const node = (podCIDRs: string[]) => ({ netns: 'n', ip: '', ips: [], podCIDR: podCIDRs[0]!, podCIDRs });

  it('gives the IPv6 address the host offset of the IPv4 one, so both families recycle together', () => {
    const net = new PodNetwork(node(['198.19.50.0/23', '2001:db8:19:301::/64']), 'npl-x-p-');
    expect(net.podIPs('198.19.50.7')).toEqual(['198.19.50.7', '2001:db8:19:301::7']);
    expect(net.podIPs('198.19.51.254')).toEqual(['198.19.51.254', '2001:db8:19:301::1fe']);
  });

  it('claims a requested address of either family together with its same-offset partner (npl.test/pod-ip)', () => {
    const net = new PodNetwork(node(['198.19.50.0/23', '2001:db8:19:301::/64']), 'npl-x-p-');
    const byV6 = net.claim('2001:DB8:19:301::9');
    expect(byV6).toBe('198.19.50.9');
    expect(net.podIPs(byV6)).toEqual(['198.19.50.9', '2001:db8:19:301::9']);
    expect(() => net.claim('198.19.50.9')).toThrow(/198\.19\.50\.9 is in use/);
    expect(net.claim('198.19.50.10')).toBe('198.19.50.10');
    expect(() => net.claim('2001:db8:19:301::a')).toThrow(/is in use/);
    expect(() => net.claim('2001:db8:19:302::1')).toThrow("requested pod IP 2001:db8:19:302::1 is outside the node's podCIDRs 198.19.50.0/23, 2001:db8:19:301::/64");
    net.allocator.release(byV6);
    expect(net.claim('2001:db8:19:301::9')).toBe('198.19.50.9');
    const v6only = new PodNetwork(node(['2001:db8:19:f07::/64']), 'npl-x-p-');
    expect(v6only.claim('2001:db8:19:f07::5')).toBe('2001:db8:19:f07::5');
    expect(() => v6only.claim('198.19.50.5')).toThrow(/outside the node's podCIDRs 2001:db8:19:f07::\/64/);
  });

  it('hands out IPv6 addresses from the podCIDR of an IPv6-only node', () => {
    const net = new PodNetwork(node(['2001:db8:19:f07::/64']), 'npl-x-p-');
    const ip = net.allocator.allocate();
    expect(ip).toBe('2001:db8:19:f07::1');
    expect(net.podIPs(ip)).toEqual([ip]);
  });
});

describe('IpAllocator', () => {
  it('works on IPv6 CIDRs, capped at 65534 hosts, in canonical form', () => {
    const a = new IpAllocator('2001:db8:19:100::/64');
    expect([a.allocate(), a.allocate()]).toEqual(['2001:db8:19:100::1', '2001:db8:19:100::2']);
    expect(a.contains('2001:db8:19:100::fffe')).toBe(true);
    expect(a.contains('2001:db8:19:100::ffff')).toBe(false);
    expect(a.contains('198.19.16.1')).toBe(false);
    a.release('2001:db8:19:100::1');
    expect(a.allocate()).toBe('2001:db8:19:100::1');
    const small = new IpAllocator('2001:db8:19:100::/126');
    expect([small.allocate(), small.allocate()]).toEqual(['2001:db8:19:100::1', '2001:db8:19:100::2']);
    expect(() => small.allocate()).toThrow(/exhausted/);
  });


  it('hands out every host address of the CIDR once and never one in use', () => {
    const a = new IpAllocator('198.19.16.0/30');
    expect([a.allocate(), a.allocate()]).toEqual(['198.19.16.1', '198.19.16.2']);
    expect(() => a.allocate()).toThrow(/exhausted/);
    a.release('198.19.16.1');
    expect(a.allocate()).toBe('198.19.16.1');
    const b = new IpAllocator('198.19.16.0/29');
    b.reserve('198.19.16.1');
    expect(b.allocate()).toBe('198.19.16.2');
  });

  it('hands out a requested address once it is free, and refuses one in use or outside the podCIDR', () => {
    const a = new IpAllocator('198.19.16.0/29');
    const [x, y] = [a.allocate(), a.allocate()];
    expect(() => a.claim(x)).toThrow(/198\.19\.16\.1 is in use/);
    expect(() => a.claim('198.19.17.1')).toThrow(/outside the node's podCIDR/);
    a.release(y);
    a.release(x);
    expect(a.claim(y)).toBe(y);
    expect(a.allocate()).toBe(x);
    expect(a.claim('198.19.16.6')).toBe('198.19.16.6');
    expect(a.allocate()).toBe('198.19.16.3');
  });

  it('recycles the most recently released address first (so tests can reproduce IP reuse)', () => {
    const a = new IpAllocator('198.19.16.0/28');
    const [x, y, z] = [a.allocate(), a.allocate(), a.allocate()];
    a.release(x);
    a.release(z);
    expect(a.allocate()).toBe(z);
    expect(a.allocate()).toBe(x);
    expect(a.allocate()).toBe('198.19.16.4');
    a.release(y);
    a.release(y);
    expect(a.allocate()).toBe(y);
    expect(a.allocate()).toBe('198.19.16.5');
  });
});

describe('WorkQueue', () => {
  it('dedupes keys, runs one at a time per key, reruns a key added while in flight, retries failures', async () => {
    const runs: string[] = [];
    let failOnce = true;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue(
      async (k) => {
        runs.push(k);
        if (k === 'a' && runs.length === 1) await gate;
        if (k === 'b' && failOnce) {
          failOnce = false;
          throw new Error('boom');
        }
      },
      2,
      () => undefined,
    );
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a'); // while a is in flight: one more run after it
    release();
    const deadline = Date.now() + 2_000;
    while (runs.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    q.stop();
    expect(runs.filter((k) => k === 'a')).toHaveLength(2);
    expect(runs.filter((k) => k === 'b')).toHaveLength(2);
  });
});

describe('microTime', () => {
  it('formats metav1.MicroTime with six fractional digits', () => {
    expect(microTime(new Date('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02T03:04:05.678000Z');
  });
});
