/**
 * A stateful in-memory Dataplane for controller tests (no kernel): core's FakeMappingRules plus
 * verify/repair/teardown with the same semantics as the real ones. `tamper` models a person
 * editing the rules by hand; `failNext` an nft failure.
 */
import type { DnatMapping, IPFamily } from '@npl/core';
import { FakeMappingRules } from '@npl/core/testing';
import type { Dataplane, DataplaneDrift } from '../dataplane/types.js';

const key = (m: DnatMapping): string => `${m.protocol}/${m.nodePort}`;
const same = (a: DnatMapping, b: DnatMapping): boolean => a.podIP === b.podIP && a.podPort === b.podPort;

export class FakeDataplane extends FakeMappingRules implements Dataplane {
  tornDown = false;
  repairs = 0;

  constructor(readonly fakeFamily: IPFamily) {
    super(fakeFamily);
  }

  init(): Promise<void> {
    return Promise.resolve();
  }

  verify(expected: readonly DnatMapping[]): Promise<DataplaneDrift> {
    const installed = new Map(this.mappings().map((m) => [key(m), m]));
    const wanted = new Map(expected.map((m) => [key(m), m]));
    const missing = expected.filter((m) => !installed.has(key(m)) || !same(installed.get(key(m))!, m));
    const unexpected = this.mappings().filter((m) => !wanted.has(key(m)) || !same(wanted.get(key(m))!, m));
    const inSync = missing.length === 0 && unexpected.length === 0;
    return Promise.resolve({ missing, unexpected, tableMissing: false, staticDrift: false, staticProblems: [], inSync });
  }

  async repair(expected: readonly DnatMapping[]): Promise<void> {
    this.repairs++;
    await this.replaceAll(expected);
  }

  async teardown(): Promise<void> {
    this.tornDown = true;
    await this.replaceAll([]);
  }

  available(): Promise<string> {
    return Promise.resolve('fake');
  }

  closed = false;

  close(): void {
    this.closed = true;
  }

  describe(): string {
    return `fake ${this.fakeFamily}`;
  }

  /** Remove a mapping behind the agent's back (as `nft delete element` by hand would). */
  async tamper(nodePort: number, protocol: 'tcp' | 'udp'): Promise<void> {
    await this.replaceAll(this.mappings().filter((m) => !(m.nodePort === nodePort && m.protocol === protocol)));
  }
}
