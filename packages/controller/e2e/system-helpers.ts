/**
 * Helpers of the system e2e tests: the emulated BIG-IP read through iControl REST with the account
 * `cluster up --controller` prints (CA verified), and the members the agents' annotations call for.
 */
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import type { BigipAccess, Cluster } from '@npl/cluster';
import { eventually } from '@npl/cluster/testing';

export interface BigipAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** One iControl REST call with the emulator's test account, its CA verified. */
export function bigipCall(b: BigipAccess, method: string, path: string, body?: unknown): Promise<BigipAnswer> {
  const url = new URL(path, b.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: readFileSync(b.caFile), auth: `${b.username}:${b.password}`, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

export interface Member {
  readonly name: string;
  readonly session: string;
}

/** Members of pool /k8s/<name>, or undefined when the pool does not exist. */
export async function poolMembers(b: BigipAccess, name: string): Promise<Member[] | undefined> {
  const res = await bigipCall(b, 'GET', `/mgmt/tm/ltm/pool/~${b.partition}~${name}?expandSubcollections=true`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET pool ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  const items = (res.body as { membersReference?: { items?: Member[] } }).membersReference?.items ?? [];
  return items.map((m) => ({ name: m.name, session: m.session })).sort((x, y) => x.name.localeCompare(y.name));
}

/** `nodeIP:nodePort` of every NPL annotation entry of the pods (Antrea's annotation, as the agent wrote it). */
export function nplMembers(pods: readonly V1Pod[]): string[] {
  return pods
    .flatMap((p) => JSON.parse(p.metadata?.annotations?.['nodeportlocal.antrea.io'] ?? '[]') as { nodeIP: string; nodePort: number }[])
    .map((e) => `${e.nodeIP}:${e.nodePort}`)
    .sort();
}

export const NS = 'default';
export const APP = 'web';
/** The pool of Service `web` port 80 in `default`, as the controller names it (CIS's rule). */
export const POOL = `${APP}_80_${NS}`;

function bigipOf(c: Cluster): BigipAccess {
  if (!c.bigip) throw new Error(`cluster ${c.name} was started without the controller`);
  return c.bigip;
}

/** Running pods of Deployment `web` that are not being deleted, with their NPL annotation. */
export async function livePods(c: Cluster): Promise<V1Pod[]> {
  const list = await c.kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS, labelSelector: `app=${APP}` });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running');
}

/** Waits until the pool's members are exactly the NPL entries of `replicas` live pods, all enabled; returns them. */
export async function membersFollow(c: Cluster, replicas: number, what: string): Promise<string[]> {
  let want: string[] = [];
  await eventually(async () => {
    const pods = await livePods(c);
    want = nplMembers(pods);
    const got = await poolMembers(bigipOf(c), POOL);
    const ok = pods.length === replicas && want.length === replicas && got !== undefined
      && JSON.stringify(got.map((m) => m.name)) === JSON.stringify(want) && got.every((m) => m.session !== 'user-disabled');
    if (!ok) throw new Error(`${replicas} pods wanted; NPL entries ${JSON.stringify(want)}; pool ${JSON.stringify(got)}`);
    return true;
  }, 90_000, what);
  return want;
}

export async function scale(c: Cluster, replicas: number): Promise<void> {
  await c.kubeConfig.makeApiClient(AppsV1Api).patchNamespacedDeployment({ name: APP, namespace: NS, body: [{ op: 'replace', path: '/spec/replicas', value: replicas }] });
}

/** Creates Deployment `web` (`replicas` pods answering their name on port 80) and Service `web` opted in, with `annotations`. */
export async function createWeb(c: Cluster, replicas: number, annotations: Record<string, string> = {}): Promise<void> {
  await c.kubeConfig.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace: NS,
    body: {
      metadata: { name: APP },
      spec: {
        replicas,
        selector: { matchLabels: { app: APP } },
        template: { metadata: { labels: { app: APP } }, spec: { containers: [{ name: 'server', image: 'npl-e2e/server:1', ports: [{ containerPort: 80 }] }] } },
      },
    },
  });
  await c.kubeConfig.makeApiClient(CoreV1Api).createNamespacedService({
    namespace: NS,
    body: {
      metadata: { name: APP, annotations: { 'nodeportlocal.antrea.io/enabled': 'true', ...annotations } },
      spec: { selector: { app: APP }, ports: [{ port: 80, targetPort: 80 }] },
    },
  });
}
