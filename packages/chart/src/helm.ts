/**
 * Runs helm on charts/npl. helm is `$NPL_HELM` (scripts/bootstrap.sh exports it), else `helm` on
 * PATH. Every call is synchronous and bounded; a non-zero exit is returned, not thrown, so tests can
 * assert on helm's own error messages.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadAllYaml } from '@kubernetes/client-node';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CHART_DIR = `${REPO_ROOT}charts/npl`;
export const RENDER_SCRIPT = `${REPO_ROOT}packages/chart/scripts/render.sh`;

export interface HelmResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function helmBinary(): string {
  return process.env.NPL_HELM ?? 'helm';
}

export function helm(args: readonly string[]): HelmResult {
  const r = spawnSync(helmBinary(), args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`${helmBinary()} ${args.join(' ')}: ${r.error.message} (run: source scripts/bootstrap.sh && npl_bootstrap)`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `helm template <release> charts/npl -n <namespace> [extra]`; throws with helm's message on failure. */
export function template(release: string, namespace: string, extra: readonly string[] = []): string {
  const r = helm(['template', release, CHART_DIR, '--namespace', namespace, ...extra]);
  if (r.status !== 0) throw new Error(`helm template ${extra.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** The objects of a multi-document YAML text (empty documents dropped). */
export function objects(yaml: string): KubernetesObject[] {
  return (loadAllYaml(yaml) as (KubernetesObject | null)[]).filter((o): o is KubernetesObject => o !== null && typeof o === 'object' && 'kind' in o);
}

/** `Kind/namespace/name` of an object, for messages. */
export function describeObject(o: KubernetesObject): string {
  return `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? '?'}`;
}
