import { describe, expect, it } from '@jest/globals';
import type { DnatMapping } from '@npl/core';
import { FakeConntrack, FakeDataplane } from '../testing/index.js';
import { ConntrackCleaningDataplane } from './conntrack-dataplane.js';
import { changedPorts, changedPortsFromDrift, CliConntrackCleaner, conntrackDeleteArgs, conntrackFilters, parseDeletedCount } from './conntrack.js';
import type { ConntrackFilter } from './conntrack.js';
import { missingBinaryError, RecordingRunner } from './exec.js';

const udp = (nodePort: number, podIP: string, podPort = 53): DnatMapping => ({ family: 'IPv4', protocol: 'udp', nodePort, podIP, podPort });
const tcp = (nodePort: number, podIP: string, podPort = 80): DnatMapping => ({ family: 'IPv4', protocol: 'tcp', nodePort, podIP, podPort });
const ports = (ps: { protocol: string; nodePort: number }[]): string[] => ps.map((p) => `${p.nodePort}/${p.protocol}`);

describe('changedPorts: which node ports a change touches', () => {
  const cases: { name: string; before: DnatMapping[] | undefined; after: DnatMapping[]; want: string[] }[] = [
    { name: 'nothing changed', before: [udp(61000, '198.18.1.1')], after: [udp(61000, '198.18.1.1')], want: [] },
    { name: 'a mapping added', before: [udp(61000, '198.18.1.1')], after: [udp(61000, '198.18.1.1'), udp(61001, '198.18.1.2')], want: ['61001/udp'] },
    { name: 'a mapping removed', before: [udp(61000, '198.18.1.1'), tcp(61001, '198.18.1.2')], after: [udp(61000, '198.18.1.1')], want: ['61001/tcp'] },
    { name: 'node port moved to another pod', before: [udp(61000, '198.18.1.1')], after: [udp(61000, '198.18.1.2')], want: ['61000/udp'] },
    { name: 'same pod, other pod port', before: [udp(61000, '198.18.1.1', 53)], after: [udp(61000, '198.18.1.1', 5353)], want: ['61000/udp'] },
    { name: 'pod IP spelt differently is the same mapping', before: [{ ...udp(61000, '2001:db8::1'), family: 'IPv6' }], after: [{ ...udp(61000, '2001:DB8:0::1'), family: 'IPv6' }], want: [] },
    { name: 'same port, other protocol is another port', before: [udp(61000, '198.18.1.1')], after: [udp(61000, '198.18.1.1'), tcp(61000, '198.18.1.1')], want: ['61000/tcp'] },
    { name: 'unknown before: every port of after', before: undefined, after: [udp(61002, '198.18.1.1'), tcp(61000, '198.18.1.1')], want: ['61000/tcp', '61002/udp'] },
    { name: 'everything removed', before: [udp(61001, '198.18.1.1'), udp(61000, '198.18.1.2')], after: [], want: ['61000/udp', '61001/udp'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(ports(changedPorts(c.before, c.after))).toEqual(c.want);
    });
  }

  it('from a drift: the ports of missing and unexpected mappings, once each', () => {
    const drift = { missing: [udp(61001, '198.18.1.2'), udp(61000, '198.18.1.3')], unexpected: [udp(61001, '198.18.1.9')] };
    expect(ports(changedPortsFromDrift(drift))).toEqual(['61000/udp', '61001/udp']);
  });
});

describe('conntrackFilters: only UDP, only our node addresses of the family', () => {
  it('one filter per UDP port and node address of the family; TCP and other families ignored', () => {
    const changed = [
      { protocol: 'tcp' as const, nodePort: 61000 },
      { protocol: 'udp' as const, nodePort: 61001 },
    ];
    expect(conntrackFilters('IPv4', changed, ['198.51.100.7', '2001:db8::7', '192.0.2.7', 'not-an-ip', '198.51.100.7'])).toEqual([
      { family: 'IPv4', protocol: 'udp', origDst: '198.51.100.7', origDstPort: 61001 },
      { family: 'IPv4', protocol: 'udp', origDst: '192.0.2.7', origDstPort: 61001 },
    ]);
    expect(conntrackFilters('IPv6', changed, ['198.51.100.7', '2001:DB8:0::7'])).toEqual([{ family: 'IPv6', protocol: 'udp', origDst: '2001:db8::7', origDstPort: 61001 }]);
  });

  it('no node address of the family: nothing to clear', () => {
    expect(conntrackFilters('IPv6', [{ protocol: 'udp', nodePort: 61001 }], ['198.51.100.7'])).toEqual([]);
  });
});

describe('CliConntrackCleaner: conntrack -D through the command runner', () => {
  const filter: ConntrackFilter = { family: 'IPv6', protocol: 'udp', origDst: '2001:db8::7', origDstPort: 61001 };

  it('runs conntrack -D with family, protocol, original destination and port', async () => {
    const runner = new RecordingRunner(() => ({ stderr: 'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been deleted.\n' }));
    expect(await new CliConntrackCleaner(runner).clear(filter)).toBe(2);
    expect(runner.commandLines()).toEqual(['conntrack -D -f ipv6 -p udp --orig-dst 2001:db8::7 --orig-port-dst 61001']);
    expect(conntrackDeleteArgs({ ...filter, family: 'IPv4', origDst: '192.0.2.1' })).toContain('ipv4');
  });

  it('exit 1 with "0 flow entries have been deleted" is 0 deleted, not an error', async () => {
    const runner = new RecordingRunner(() => ({ exitCode: 1, stderr: 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n' }));
    expect(await new CliConntrackCleaner(runner).clear(filter)).toBe(0);
  });

  it('any other failure throws with the tool output; a missing binary throws naming the Debian package', async () => {
    const bad = new RecordingRunner(() => ({ exitCode: 2, stderr: 'conntrack v1.4.7 (conntrack-tools): mismatched address family\n' }));
    await expect(new CliConntrackCleaner(bad).clear(filter)).rejects.toThrow(
      'conntrack -D -f ipv6 -p udp --orig-dst 2001:db8::7 --orig-port-dst 61001 failed: conntrack v1.4.7 (conntrack-tools): mismatched address family',
    );
    const missing = new RecordingRunner(() => missingBinaryError('conntrack'));
    await expect(new CliConntrackCleaner(missing).clear(filter)).rejects.toThrow('conntrack not found in PATH: install the Debian package conntrack');
    expect(parseDeletedCount('nothing here')).toBeUndefined();
  });
});

describe('ConntrackCleaningDataplane: clears the touched node ports after a successful change', () => {
  const NODE = '198.51.100.7';
  const CLIENT = '203.0.113.9';
  const setup = () => {
    const inner = new FakeDataplane('IPv4');
    const ct = new FakeConntrack();
    const outcomes: string[] = [];
    const dp = new ConntrackCleaningDataplane(inner, {
      family: 'IPv4',
      cleaner: ct,
      nodeAddresses: () => [NODE, '2001:db8::7'],
      onCleared: (f, n) => outcomes.push(`cleared ${f.origDstPort} ${n}`),
      onFailed: (f) => outcomes.push(`failed ${f.origDstPort}`),
    });
    const flow = (dport: number, replySrc: string, protocol: 'udp' | 'tcp' = 'udp') =>
      ct.addFlow({ family: 'IPv4', protocol, src: CLIENT, sport: 40000, dst: NODE, dport, replySrc });
    return { inner, ct, dp, outcomes, flow };
  };

  it('add: a flow made before the mapping existed (no DNAT) is deleted; TCP flows and other ports are kept', async () => {
    const { ct, dp, flow, outcomes } = setup();
    await dp.replaceAll([]);
    flow(61000, NODE);
    flow(61000, NODE, 'tcp');
    flow(61001, NODE);
    await dp.add(udp(61000, '198.18.1.1'));
    expect(ct.dump()).toEqual([`tcp ${CLIENT}:40000 -> ${NODE}:61000 via ${NODE}`, `udp ${CLIENT}:40000 -> ${NODE}:61001 via ${NODE}`]);
    expect(outcomes).toEqual(['cleared 61000 1']);
    await dp.add(udp(61000, '198.18.1.1'));
    expect(ct.calls).toHaveLength(1);
  });

  it('delete then add on the same node port for another pod: the flow to the old pod is deleted', async () => {
    const { ct, dp, flow } = setup();
    await dp.replaceAll([udp(61000, '198.18.1.1')]);
    expect(ct.calls.map((c) => c.origDstPort)).toEqual([61000]);
    flow(61000, '198.18.1.1');
    await dp.delete(udp(61000, '198.18.1.1'));
    expect(ct.dump()).toEqual([]);
    flow(61000, NODE);
    await dp.add(udp(61000, '198.18.1.2'));
    expect(ct.dump()).toEqual([]);
    expect(ct.calls.map((c) => c.origDstPort)).toEqual([61000, 61000, 61000]);
  });

  it('replaceAll and repair clear only the ports that differ from what is installed', async () => {
    const { ct, dp, inner, flow } = setup();
    await inner.replaceAll([udp(61000, '198.18.1.1'), udp(61001, '198.18.1.2')]);
    flow(61000, '198.18.1.1');
    flow(61001, '198.18.1.2');
    await dp.replaceAll([udp(61000, '198.18.1.1'), udp(61001, '198.18.1.3')]);
    expect(ct.dump()).toEqual([`udp ${CLIENT}:40000 -> ${NODE}:61000 via 198.18.1.1`]);
    await inner.tamper(61000, 'udp');
    await dp.repair([udp(61000, '198.18.1.1'), udp(61001, '198.18.1.3')]);
    expect(ct.dump()).toEqual([]);
    expect(ct.calls.map((c) => c.origDstPort)).toEqual([61001, 61000]);
  });

  it('teardown clears every port that was installed', async () => {
    const { ct, dp, flow } = setup();
    await dp.replaceAll([udp(61000, '198.18.1.1'), tcp(61001, '198.18.1.1')]);
    flow(61000, '198.18.1.1');
    const before = ct.calls.length;
    await dp.teardown();
    expect(ct.dump()).toEqual([]);
    expect(ct.calls.slice(before).map((c) => `${c.origDstPort}/${c.protocol}`)).toEqual(['61000/udp']);
  });

  it('a failed dataplane change clears nothing and throws as before', async () => {
    const { ct, dp, inner, flow } = setup();
    await dp.replaceAll([]);
    flow(61000, NODE);
    inner.failNext('add', 1, new Error('nft: No buffer space available'));
    await expect(dp.add(udp(61000, '198.18.1.1'))).rejects.toThrow('No buffer space available');
    expect(ct.calls).toEqual([]);
    expect(ct.dump()).toHaveLength(1);
  });

  it('a failed clean-up is reported once, not thrown and not retried; the mapping stays installed', async () => {
    const { ct, dp, inner, flow, outcomes } = setup();
    await dp.replaceAll([]);
    flow(61000, NODE);
    ct.failNext(1, missingBinaryError('conntrack'));
    await dp.add(udp(61000, '198.18.1.1'));
    expect(outcomes).toEqual(['failed 61000']);
    expect(ct.calls).toHaveLength(1);
    expect(inner.mappings()).toEqual([udp(61000, '198.18.1.1')]);
    expect(ct.dump()).toHaveLength(1);
  });
});
