/**
 * Identities for node processes that must run as a ServiceAccount (as a DaemonSet pod would):
 * apply their manifests, request a token through TokenRequest, write a kubeconfig holding it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { ApiException, CoreV1Api, KubernetesObjectApi, loadAllYaml } from '@kubernetes/client-node';
import { ClusterError } from './errors.js';
import type { NodeProcessSpec, ServiceAccountIdentity } from './standin/config.js';

/** Token lifetime: long enough for any test run or demo; the cluster is thrown away after. */
const TOKEN_SECONDS = 7 * 24 * 3600;

/** Create every object of the YAML files; objects that already exist are left as they are. */
export async function applyManifests(kc: KubeConfig, files: readonly string[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const file of files) {
    const docs = loadAllYaml(await readFile(file, 'utf8')) as KubernetesObject[];
    for (const obj of docs.filter((d) => d?.kind)) {
      try {
        await api.create(obj);
      } catch (err) {
        if (err instanceof ApiException && err.code === 409) continue;
        throw new ClusterError('NPL_CLUSTER_START_FAILED', `applying ${obj.kind} ${obj.metadata?.name ?? ''} from ${file}: ${(err as Error).message}`);
      }
    }
  }
}

async function tokenKubeconfig(kc: KubeConfig, sa: ServiceAccountIdentity, dir: string, server: string, caData: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const res = await core.createNamespacedServiceAccountToken({
    name: sa.name,
    namespace: sa.namespace,
    body: { spec: { audiences: [], expirationSeconds: TOKEN_SECONDS } },
  });
  const token = res.status?.token;
  if (!token) throw new ClusterError('NPL_CLUSTER_START_FAILED', `TokenRequest for ${sa.namespace}/${sa.name} returned no token`);
  const user = `system:serviceaccount:${sa.namespace}:${sa.name}`;
  const file = path.join(dir, 'kubeconfigs', `sa-${sa.namespace}-${sa.name}.kubeconfig`);
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${caData}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: sa',
    '  context:',
    '    cluster: local',
    `    user: ${user}`,
    'current-context: sa',
    '',
  ].join('\n');
  await writeFile(file, text, { mode: 0o600 });
  return file;
}

/** Apply `identity.manifests` and return a kubeconfig file authenticating as the ServiceAccount. */
export async function serviceAccountKubeconfig(
  cluster: { readonly kubeConfig: KubeConfig; readonly dir: string; readonly server: string },
  identity: ServiceAccountIdentity,
): Promise<string> {
  return identityKubeconfig(cluster.kubeConfig, identity, { dir: cluster.dir, server: cluster.server, caCertFile: path.join(cluster.dir, 'pki', 'ca.crt') });
}

export interface IdentityFiles {
  readonly dir: string;
  readonly server: string;
  readonly caCertFile: string;
}

/** Apply `identity.manifests` and write a kubeconfig holding a TokenRequest token of it. */
export async function identityKubeconfig(kc: KubeConfig, identity: ServiceAccountIdentity, opts: IdentityFiles): Promise<string> {
  await applyManifests(kc, identity.manifests ?? []);
  const caData = (await readFile(opts.caCertFile)).toString('base64');
  return tokenKubeconfig(kc, identity, opts.dir, opts.server, caData);
}

/** Give every spec with a serviceAccount its kubeconfig (manifests applied first). */
export async function resolveNodeProcesses(kc: KubeConfig, specs: readonly NodeProcessSpec[], opts: IdentityFiles): Promise<NodeProcessSpec[]> {
  const out: NodeProcessSpec[] = [];
  for (const spec of specs) {
    out.push(spec.serviceAccount ? { ...spec, kubeconfig: await identityKubeconfig(kc, spec.serviceAccount, opts) } : spec);
  }
  return out;
}
