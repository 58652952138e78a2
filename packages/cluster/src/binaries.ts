import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ClusterError } from './errors.js';

/** The package directory (works from src/ under Jest or the loader, and from dist/). */
export const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ControlPlaneBinaries {
  readonly apiserver: string;
  readonly controllerManager: string;
  readonly scheduler: string;
  readonly etcd: string;
  /** kubectl of the same Kubernetes version (for people and tests; the cluster does not use it). */
  readonly kubectl: string;
}

export function cacheRoot(): string {
  return process.env.NPL_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'npl');
}

/**
 * Paths of the control plane binaries from `scripts/build-binaries.sh`, which builds them on first
 * use (minutes; progress goes to `onProgress`) and honours NPL_KUBE_APISERVER,
 * NPL_KUBE_CONTROLLER_MANAGER, NPL_KUBE_SCHEDULER, NPL_ETCD and NPL_KUBECTL.
 */
export async function controlPlaneBinaries(onProgress?: (line: string) => void): Promise<ControlPlaneBinaries> {
  const script = path.join(packageDir, 'scripts', 'build-binaries.sh');
  const child = execa('bash', [script], { reject: false, stderr: 'pipe', stdout: 'pipe', buffer: { stderr: true, stdout: true } });
  child.stderr?.on('data', (b: Buffer) => {
    for (const l of b.toString().split('\n')) if (l.trim()) onProgress?.(l);
  });
  const r = await child;
  if (r.exitCode !== 0) {
    throw new ClusterError('NPL_CLUSTER_BINARIES', `${script} failed (exit ${r.exitCode}): ${String(r.stderr).slice(-2000)}`);
  }
  const kv = new Map<string, string>();
  for (const line of String(r.stdout).split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i), line.slice(i + 1));
  }
  const get = (k: string): string => {
    const v = kv.get(k);
    if (!v) throw new ClusterError('NPL_CLUSTER_BINARIES', `${script} printed no ${k}= line`);
    return v;
  };
  return {
    apiserver: get('NPL_KUBE_APISERVER'),
    controllerManager: get('NPL_KUBE_CONTROLLER_MANAGER'),
    scheduler: get('NPL_KUBE_SCHEDULER'),
    etcd: get('NPL_ETCD'),
    kubectl: get('NPL_KUBECTL'),
  };
}

/**
 * Path of the podnet helper, built with `go build` (seconds) into
 * `${NPL_CACHE_DIR}/bin/podnet-<hash of its sources>/podnet` when absent. NPL_PODNET overrides.
 */
export async function podnetBinary(): Promise<string> {
  if (process.env.NPL_PODNET) return process.env.NPL_PODNET;
  const src = path.join(packageDir, 'go', 'podnet');
  const files = (await readdir(src)).filter((f) => f.endsWith('.go') || f === 'go.mod' || f === 'go.sum').sort();
  const h = createHash('sha256');
  for (const f of files) h.update(f).update(await readFile(path.join(src, f)));
  const dir = path.join(cacheRoot(), 'bin', `podnet-${h.digest('hex').slice(0, 16)}`);
  const bin = path.join(dir, 'podnet');
  if (await stat(bin).then(() => true, () => false)) return bin;
  await mkdir(path.dirname(dir), { recursive: true });
  const tmp = await mkdtemp(path.join(path.dirname(dir), '.tmp-podnet-'));
  try {
    const r = await execa('go', ['build', '-trimpath', '-o', path.join(tmp, 'podnet'), '.'], {
      cwd: src,
      reject: false,
      env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOWORK: 'off', GOFLAGS: '-mod=readonly' },
    });
    if (r.exitCode !== 0) {
      throw new ClusterError('NPL_CLUSTER_BINARIES', `go build of ${src} failed: ${String(r.stderr).slice(-2000)}`);
    }
    await mkdir(dir, { recursive: true });
    await rename(path.join(tmp, 'podnet'), bin);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return bin;
}
