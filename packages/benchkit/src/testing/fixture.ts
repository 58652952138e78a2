/** A valid result to vary in tests. */
import type { BenchResult } from '../types.js';

export function sampleResult(over: Partial<BenchResult> = {}): BenchResult {
  return {
    schema: 1,
    id: 'agent.sample',
    title: 'A sample benchmark',
    section: 'npl-agent',
    command: 'node packages/agent/dist-bench/bench/sample.js --runs 3',
    date: '2026-12-02T00:50:00.000Z',
    durationSeconds: 12.5,
    machine: { cpus: 2, cpuModel: 'AMD EPYC 7B13', memGiB: 23.47, kernel: 'Linux 6.18.44', node: 'v24.21.0', loadavgStart: 1.2, loadavgEnd: 3.456 },
    description: 'Measures a **sample**.',
    figures: [
      { name: 'add+delete', unit: 'ms', median: 0.9, runs: [0.8, 0.9, 1.1], goal: { op: '<', value: 10 }, baseline: { name: 'iptables-nft', median: 258 } },
      { name: 'ports changed', unit: 'count', median: 2, runs: [0, 2, 3], goal: { op: '==', value: 0 } },
    ],
    ...over,
  };
}
