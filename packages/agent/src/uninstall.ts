/**
 * Clean uninstall (Antrea has none: disabling NPL leaves its chain, rules and annotations, §4.5):
 * removes the state of BOTH dataplanes in both families — our nftables tables (`ip`/`ip6` <table>)
 * and the iptables chain (iptables and ip6tables: chain, jumps, rules) — whichever the agent ran
 * with, then this node's Pod annotations. A dataplane whose tool is not installed has nothing to
 * remove; a failure on the dataplane the agent was not configured with (--dataplane) is a warning,
 * not an error (e.g. iptables-legacy without NET_RAW where the agent ran nftables). Warns first when an agent still runs on this node (its health endpoint answers, or an
 * npl-agent process other than this one is found), since it would reinstall what is removed.
 * Idempotent; run as the chart's pre-delete hook on every node, or by hand.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import type { IPFamily } from '@npl/core';
import { IP_FAMILIES, NPL_ANNOTATION_KEY } from '@npl/core';
import type { Logger } from '@npl/runtime';
import { withApiTimeout } from '@npl/runtime';
import type { AgentConfig } from './config.js';
import type { Dataplane, DataplaneKind } from './dataplane/index.js';
import { ApiAnnotationWriter } from './kube/annotation-writer.js';

export const DATAPLANE_KINDS: readonly DataplaneKind[] = ['nftables', 'iptables'];

export interface UninstallResult {
  /** `<kind> <family>` of every dataplane whose state was removed (or had none). */
  readonly dataplanesRemoved: readonly string[];
  /** `<kind> <family>` skipped because the tool is not installed. */
  readonly dataplanesSkipped: readonly string[];
  readonly annotationsRemoved: number;
  /** Failures on the dataplane the agent was not configured with: logged, not fatal. */
  readonly warnings: readonly string[];
  /** Why an agent is thought to still run here (empty when none was found). */
  readonly agentRunning: readonly string[];
  readonly errors: readonly string[];
}

export interface UninstallDeps {
  readonly dataplane: (kind: DataplaneKind, family: IPFamily) => Dataplane;
  readonly kubeConfig?: KubeConfig;
  /** Finds agents still running on this node; `detectRunningAgent` when absent. */
  readonly detectAgent?: () => Promise<string[]>;
}

interface Outcome {
  readonly removed: string[];
  readonly skipped: string[];
  readonly errors: string[];
  readonly warnings: string[];
}

async function removeDataplanes(configured: DataplaneKind, deps: UninstallDeps, logger: Logger, out: Outcome): Promise<void> {
  for (const kind of DATAPLANE_KINDS) {
    for (const family of IP_FAMILIES) {
      const dp = deps.dataplane(kind, family);
      const what = `${kind} ${family}`;
      try {
        try {
          await dp.available();
        } catch (err) {
          out.skipped.push(what);
          logger.info({ dataplane: what, reason: (err as Error).message }, 'Dataplane tool not available, nothing of it to remove');
          continue;
        }
        await dp.teardown();
        out.removed.push(what);
        logger.info({ family, dataplane: dp.describe() }, 'Removed NodePortLocal rules');
      } catch (err) {
        const message = `${family} ${dp.describe()}: ${(err as Error).message}`;
        if (kind === configured) out.errors.push(message);
        else {
          out.warnings.push(message);
          logger.warn({ dataplane: what, err: (err as Error).message }, 'Could not remove the rules of the dataplane the agent was not configured with');
        }
      } finally {
        dp.close();
      }
    }
  }
}

async function removeAnnotations(config: AgentConfig, kubeConfig: KubeConfig, logger: Logger, errors: string[]): Promise<number> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const writer = new ApiAnnotationWriter(core);
  const pods = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${config.nodeName}` }, withApiTimeout());
  let removed = 0;
  for (const pod of pods.items) {
    if (pod.metadata?.annotations?.[NPL_ANNOTATION_KEY] === undefined) continue;
    try {
      if (await writer.write(pod.metadata.namespace ?? '', pod.metadata.name ?? '', null)) removed++;
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  logger.info({ annotationsRemoved: removed }, 'Removed NodePortLocal annotations');
  return removed;
}

export async function uninstall(config: AgentConfig, logger: Logger, deps: UninstallDeps): Promise<UninstallResult> {
  const agentRunning = await (deps.detectAgent ?? (() => Promise.resolve([])))().catch(() => []);
  if (agentRunning.length) {
    logger.warn(
      { evidence: agentRunning },
      'An npl-agent still runs on this node: it will reinstall the rules and annotations removed now; stop it first (delete the DaemonSet or its Pod on this node), then run uninstall again',
    );
  }
  const out: Outcome = { removed: [], skipped: [], errors: [], warnings: [] };
  await removeDataplanes(config.dataplane, deps, logger, out);
  const annotationsRemoved = deps.kubeConfig ? await removeAnnotations(config, deps.kubeConfig, logger, out.errors) : 0;
  return { dataplanesRemoved: out.removed, dataplanesSkipped: out.skipped, annotationsRemoved, warnings: out.warnings, agentRunning, errors: out.errors };
}

export interface DetectOptions {
  /** `host:port` of a running agent's health endpoint (NODE_IP already resolved). */
  readonly healthAddress?: string;
  /** /proc or a test directory shaped like it. */
  readonly procDir?: string;
  /** Pids that are this uninstall (itself and its parents), never reported. */
  readonly ownPids?: readonly number[];
  readonly timeoutMs?: number;
}

/** True for the command line of an npl-agent that is not an uninstall. */
export function isAgentCommandLine(argv: readonly string[]): boolean {
  const runsAgent = argv.some((a) => /(^|\/)npl-agent(\.mjs)?$/.test(a) || /agent\/dist\/cli\.js$/.test(a));
  return runsAgent && !argv.includes('uninstall');
}

/**
 * Agent processes in this network namespace (an agent serves the node whose network namespace it
 * runs in; where every node's processes are visible, as on the local cluster, others are not this
 * node's). A process whose namespace cannot be read is counted.
 */
async function agentProcesses(procDir: string, own: ReadonlySet<number>): Promise<string[]> {
  const found: string[] = [];
  const ourNetns = await readlink(`${procDir}/self/ns/net`).catch(() => undefined);
  for (const entry of await readdir(procDir).catch(() => [])) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || own.has(pid)) continue;
    const netns = await readlink(`${procDir}/${entry}/ns/net`).catch(() => undefined);
    if (ourNetns && netns && netns !== ourNetns) continue;
    const raw = await readFile(`${procDir}/${entry}/cmdline`, 'utf8').catch(() => '');
    const argv = raw.split('\0').filter(Boolean);
    if (isAgentCommandLine(argv)) found.push(`process ${pid}: ${argv.join(' ')}`);
  }
  return found;
}

async function healthAnswers(address: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://${address}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    return `health endpoint http://${address}/healthz answered HTTP ${res.status}`;
  } catch {
    return undefined;
  }
}

/** Evidence that an npl-agent runs on this node: its health endpoint answers, or its process is seen. */
export async function detectRunningAgent(o: DetectOptions): Promise<string[]> {
  const own = new Set([process.pid, process.ppid, ...(o.ownPids ?? [])]);
  const health = o.healthAddress ? await healthAnswers(o.healthAddress, o.timeoutMs ?? 1_000) : undefined;
  const processes = await agentProcesses(o.procDir ?? '/proc', own);
  return [...(health ? [health] : []), ...processes];
}
