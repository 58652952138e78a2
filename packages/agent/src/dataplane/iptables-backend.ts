/**
 * Choosing iptables-nft or iptables-legacy as kubernetes-sigs/iptables-wrappers does: kubelet
 * (1.17+) creates KUBE-IPTABLES-HINT or KUBE-KUBELET-CANARY in the mangle table, so whichever
 * backend shows one is the node's. The binaries are then called by their explicit names.
 */
import type { IPFamily } from '@npl/core';
import type { CommandRunner } from './exec.js';

export type IptablesBackend = 'nft' | 'legacy';

export interface BackendProbe {
  readonly backend: IptablesBackend;
  readonly cmd: string;
  readonly args: readonly string[];
}

/**
 * In the wrapper's order. The legacy save is not limited to `-t mangle` because that would make
 * the kernel create the mangle table.
 */
export const BACKEND_PROBES: readonly BackendProbe[] = [
  { backend: 'nft', cmd: 'iptables-nft-save', args: ['-t', 'mangle'] },
  { backend: 'nft', cmd: 'ip6tables-nft-save', args: ['-t', 'mangle'] },
  { backend: 'legacy', cmd: 'iptables-legacy-save', args: [] },
  { backend: 'legacy', cmd: 'ip6tables-legacy-save', args: [] },
];

const KUBELET_CHAINS = /^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY)/m;

export function hasKubeletChains(saveOutput: string): boolean {
  return KUBELET_CHAINS.test(saveOutput);
}

/**
 * The backend given the stdout of each probe of BACKEND_PROBES (same index; undefined = the probe
 * failed or was not run): the first probe showing a kubelet chain wins; none means nft.
 */
export function chooseBackend(outputs: readonly (string | undefined)[]): IptablesBackend {
  const hit = BACKEND_PROBES.findIndex((_, i) => hasKubeletChains(outputs[i] ?? ''));
  return hit < 0 ? 'nft' : (BACKEND_PROBES[hit]?.backend ?? 'nft');
}

/**
 * Runs the probes in order and stops at the first hit. Like the wrapper it ignores every probe
 * error (missing binary, exit code) and falls back to nft. Never throws.
 */
export async function detectBackend(runner: CommandRunner): Promise<IptablesBackend> {
  const outputs: (string | undefined)[] = [];
  for (const probe of BACKEND_PROBES) {
    outputs.push(await runner.run(probe.cmd, probe.args, { timeoutMs: 5_000 }).then((r) => r.stdout, () => undefined));
    if (hasKubeletChains(outputs[outputs.length - 1] ?? '')) break;
  }
  return chooseBackend(outputs);
}

export interface IptablesBinaries {
  readonly cmd: string;
  readonly save: string;
  readonly restore: string;
}

/** e.g. `ip6tables-legacy`, `ip6tables-legacy-save`, `ip6tables-legacy-restore`. */
export function iptablesBinaries(backend: IptablesBackend, family: IPFamily): IptablesBinaries {
  const cmd = `${family === 'IPv4' ? 'iptables' : 'ip6tables'}-${backend}`;
  return { cmd, save: `${cmd}-save`, restore: `${cmd}-restore` };
}
