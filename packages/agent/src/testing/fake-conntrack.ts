/**
 * A stateful in-memory conntrack table for unit tests: flows are added as the kernel would make
 * them, `clear` deletes the matching ones (as `conntrack -D` with the same filter) and returns how
 * many; `failNext` makes calls fail as a missing or broken tool would.
 */
import type { IPFamily, Protocol } from '@npl/core';
import type { ConntrackCleaner, ConntrackFilter } from '../dataplane/conntrack.js';

/** One flow: the original direction's destination, and where it was DNATed to (the reply's source). */
export interface FakeFlow {
  readonly family: IPFamily;
  readonly protocol: Protocol;
  readonly src: string;
  readonly sport: number;
  readonly dst: string;
  readonly dport: number;
  readonly replySrc: string;
}

export class FakeConntrack implements ConntrackCleaner {
  private flows: FakeFlow[] = [];
  /** Every filter `clear` was called with, in order. */
  readonly calls: ConntrackFilter[] = [];
  private failures = 0;
  private failure: Error = new Error('conntrack failed');

  addFlow(flow: FakeFlow): void {
    this.flows.push(flow);
  }

  /** The flows left, as `proto src:sport -> dst:dport via replySrc`. */
  dump(): string[] {
    return this.flows.map((f) => `${f.protocol} ${f.src}:${f.sport} -> ${f.dst}:${f.dport} via ${f.replySrc}`);
  }

  failNext(n: number, err: Error = this.failure): void {
    this.failures = n;
    this.failure = err;
  }

  clear(filter: ConntrackFilter): Promise<number> {
    this.calls.push(filter);
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(this.failure);
    }
    const matches = (f: FakeFlow): boolean =>
      f.family === filter.family && f.protocol === filter.protocol && f.dst === filter.origDst && f.dport === filter.origDstPort;
    const before = this.flows.length;
    this.flows = this.flows.filter((f) => !matches(f));
    return Promise.resolve(before - this.flows.length);
  }
}
