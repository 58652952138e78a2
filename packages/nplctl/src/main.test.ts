/** nplctl run in-process (main): list per node and per Service, usage errors, API errors, exit codes. */
import { describe, expect, it } from '@jest/globals';
import type { Deps } from './commands.js';
import { apiMessage, main } from './main.js';
import { annotation, FakeCluster, fakeDeps, pod, service } from './testing/index.js';

async function run(argv: string[], deps?: Deps, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, env, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } }, deps);
  return { code, stdout, stderr };
}

function cluster(): FakeCluster {
  return new FakeCluster()
    .addService(service({ name: 'web' }))
    .addPod(pod({ name: 'web-0', node: 'node-1', annotation: annotation([80, 'tcp', '198.18.0.3', 61000]) }))
    .addPod(pod({ name: 'web-1', node: 'node-2', annotation: annotation([80, 'tcp', '198.18.0.4', 61000]) }))
    .addPod(pod({ name: 'db-0', node: 'node-1', app: 'db', annotation: annotation([5432, 'tcp', '198.18.0.3', 61001]) }))
    .addPod(pod({ name: 'bad', node: 'node-2', annotation: '[' }));
}

describe('nplctl list', () => {
  it('lists every mapping; a malformed annotation goes to stderr and the exit code stays 0', async () => {
    const out = await run(['list'], fakeDeps(cluster()));
    expect(out.stdout.split('\n').map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['NAMESPACE POD', 'default db-0', 'default web-0', 'default web-1', '']);
    expect(out.stderr).toMatch(/^nplctl: default\/bad on node-2: nodeportlocal\.antrea\.io annotation: value is not valid JSON/);
    expect(out.code).toBe(0);
  });

  it('--node narrows the API query and the rows', async () => {
    const c = cluster();
    const out = await run(['list', '--node', 'node-1', '-o', 'json'], fakeDeps(c));
    expect((JSON.parse(out.stdout) as { mappings: { pod: string }[] }).mappings.map((m) => m.pod)).toEqual(['db-0', 'web-0']);
    expect(c.queries).toEqual(['pods ns=* node=node-1 labels=*']);
  });

  it("--service lists the Service's Pods through its selector", async () => {
    const c = cluster();
    const out = await run(['list', '--service', 'default/web', '-o', 'json'], fakeDeps(c));
    expect((JSON.parse(out.stdout) as { mappings: { pod: string }[] }).mappings.map((m) => m.pod)).toEqual(['web-0', 'web-1']);
    expect(c.queries).toEqual(['pods ns=default node=* labels=app=web']);
  });

  it('an unknown Service: exit 1 naming it', async () => {
    expect(await run(['list', '--service', 'default/nope'], fakeDeps(cluster()))).toEqual({ code: 1, stdout: '', stderr: 'nplctl: Service default/nope not found\n' });
  });
});

describe('nplctl exit codes and errors', () => {
  it('usage errors exit 2 with one line; help exits 0', async () => {
    expect(await run(['check'])).toEqual({ code: 2, stdout: '', stderr: 'nplctl: check takes one Pod as namespace/name, got 0 arguments\n' });
    const help = await run(['--help']);
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining('nplctl check NS/POD')]);
  });

  it('a missing kubeconfig is a usage error naming the flag', async () => {
    expect(await run(['list', '--kubeconfig', '/nonexistent/kubeconfig'])).toEqual({ code: 2, stdout: '', stderr: 'nplctl: --kubeconfig "/nonexistent/kubeconfig" does not exist\n' });
  });

  it('an API failure exits 1 with its status and reason', async () => {
    const deps = fakeDeps(new FakeCluster());
    const forbidden = Object.assign(new Error('HTTP-Code: 403'), { code: 403, body: '{"kind":"Status","message":"pods is forbidden: User \\"x\\" cannot list resource \\"pods\\""}' });
    const failing: Deps = { ...deps, reader: { ...deps.reader, listPods: () => Promise.reject(forbidden) } };
    expect(await run(['list'], failing)).toEqual({ code: 1, stdout: '', stderr: 'nplctl: cannot read the cluster: HTTP 403: pods is forbidden: User \\"x\\" cannot list resource \\"pods\\"\n' });
    expect(apiMessage(Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } }))).toBe('ECONNREFUSED');
  });
});
