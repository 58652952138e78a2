import { mkdir, readFile, readdir, rm, stat, writeFile, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ClusterError } from './errors.js';
import type { ControllerRecord } from './controller-process.js';
import { MAX_SLOT, type IPFamilyMode } from './layout.js';

/** Root of all cluster directories: `${NPL_CLUSTER_DIR:-/tmp/npl-clusters}`. */
export function clustersRoot(): string {
  return process.env.NPL_CLUSTER_DIR ?? path.join(os.tmpdir(), 'npl-clusters');
}

export function clusterDir(name: string): string {
  return path.join(clustersRoot(), name);
}

/** What `cluster up` records so that `down` and `status` (and a later `up`) can find everything. */
export interface ClusterState {
  readonly name: string;
  readonly slot: number;
  readonly nodeCount: number;
  /** Absent in states written before dual-stack: those clusters were IPv4-only. */
  readonly ipFamily?: IPFamilyMode;
  readonly dir: string;
  readonly kubeconfigPath: string;
  /** Process id (and process group id) of each daemon by role. */
  pids: Record<string, number>;
  readonly createdAt: string;
  /** kubectl matching the cluster's version (absent in state written before kubectl was built). */
  kubectl?: string;
  /** `--controller`: the emulated BIG-IP and the controller replicas. */
  controller?: ControllerRecord;
  /** Command lines of control-plane daemons stopped through `Cluster.controlPlane`, to start them again. */
  controlPlaneCommands?: Partial<Record<'apiserver' | 'etcd', string[]>>;
}

export function statePath(name: string): string {
  return path.join(clusterDir(name), 'state.json');
}

export async function readState(name: string): Promise<ClusterState | undefined> {
  try {
    return JSON.parse(await readFile(statePath(name), 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

export async function writeState(state: ClusterState): Promise<void> {
  const p = statePath(state.name);
  await writeFile(`${p}.tmp`, JSON.stringify(state, null, 2));
  await rename(`${p}.tmp`, p);
}

const slotsDir = (): string => path.join(clustersRoot(), '.slots');

/**
 * Claims an address/port slot for `name` atomically (a file created with O_EXCL), reusing the one
 * it already holds. A slot whose owner has no cluster directory any more is stale and reclaimed.
 * The caller must have created the cluster directory first.
 */
export async function claimSlot(name: string): Promise<number> {
  await mkdir(slotsDir(), { recursive: true });
  const held = await slotOf(name);
  if (held !== undefined) return held;
  for (let slot = 1; slot <= MAX_SLOT; slot++) {
    const file = path.join(slotsDir(), String(slot));
    try {
      await writeFile(file, name, { flag: 'wx' });
      return slot;
    } catch {
      const owner = (await readFile(file, 'utf8').catch(() => '')).trim();
      if (owner && !(await exists(clusterDir(owner))) && (await olderThan(file, 5_000))) {
        await rm(file, { force: true });
        slot--; // retry this slot
      }
    }
  }
  throw new ClusterError('NPL_CLUSTER_NO_SLOT', `no free slot for cluster ${name}: ${MAX_SLOT} clusters exist (see ${clustersRoot()})`);
}

/** The slot `name` holds, if any. */
export async function slotOf(name: string): Promise<number | undefined> {
  const files = await readdir(slotsDir()).catch(() => [] as string[]);
  for (const f of files) {
    const owner = (await readFile(path.join(slotsDir(), f), 'utf8').catch(() => '')).trim();
    if (owner === name && /^\d+$/.test(f)) return Number(f);
  }
  return undefined;
}

export async function releaseSlot(name: string): Promise<void> {
  const slot = await slotOf(name);
  if (slot !== undefined) await rm(path.join(slotsDir(), String(slot)), { force: true });
}

/** Names of clusters that have a directory. */
export async function listClusters(): Promise<string[]> {
  const entries = await readdir(clustersRoot(), { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function olderThan(p: string, ms: number): Promise<boolean> {
  const s = await stat(p).catch(() => undefined);
  return s !== undefined && Date.now() - s.mtimeMs > ms;
}
