import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { V1Node } from '@kubernetes/client-node';
import { ApiException } from '@kubernetes/client-node';
import { FakeClock } from '@npl/runtime';
import { classifyReadError, credentialsSource, loadKubeConfig, nodeListenHost, resolveListenAddress, StartupError, waitForNode } from './startup.js';
import { captureLogs } from '@npl/runtime/testing';

const dir = mkdtempSync(path.join(tmpdir(), 'npl-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://198.18.0.1:6443"}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`;

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not throw');
}

describe('loadKubeConfig: one line naming the flag and what to do', () => {
  it('a missing file', () => {
    const err = thrown(() => loadKubeConfig('/nonexistent'));
    expect(err).toBeInstanceOf(StartupError);
    expect(err.message).toBe(
      '--kubeconfig (KUBECONFIG) "/nonexistent" does not exist: give the path of a readable kubeconfig file, or leave it unset in a Pod to use its ServiceAccount',
    );
  });

  it('a directory, an unreadable file (as non-root), not YAML, no current cluster', () => {
    expect(thrown(() => loadKubeConfig(dir)).message).toContain(`--kubeconfig (KUBECONFIG) "${dir}" is a directory:`);
    const bad = path.join(dir, 'bad');
    writeFileSync(bad, 'clusters: [unclosed');
    expect(thrown(() => loadKubeConfig(bad)).message).toMatch(/^--kubeconfig \(KUBECONFIG\) ".*bad" is not a valid kubeconfig \(.+\): fix the file or give another one$/);
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, 'apiVersion: v1\nkind: Config\n');
    expect(thrown(() => loadKubeConfig(empty)).message).toContain('has no current context with a cluster server');
    if (process.getuid?.() !== 0) {
      const locked = path.join(dir, 'locked');
      writeFileSync(locked, KUBECONFIG);
      chmodSync(locked, 0o000);
      expect(thrown(() => loadKubeConfig(locked)).message).toContain('cannot be read (permission denied)');
    }
  });

  it('in-cluster credentials outside a Pod', () => {
    expect(thrown(() => loadKubeConfig(undefined, {})).message).toBe(
      'no --kubeconfig (KUBECONFIG) given and not running in a Pod (KUBERNETES_SERVICE_HOST is unset): pass --kubeconfig with the path of a kubeconfig',
    );
  });

  it('loads a valid file', () => {
    const ok = path.join(dir, 'ok');
    writeFileSync(ok, KUBECONFIG);
    expect(loadKubeConfig(ok).getCurrentCluster()?.server).toBe('https://198.18.0.1:6443');
  });
});

describe('classifyReadError: retry only where waiting can help', () => {
  const src = credentialsSource('/etc/k');
  const server = 'https://198.18.0.1:6443';
  it.each([
    [new ApiException(401, 'Unauthorized', {}, {}), false, 'rejected the credentials of --kubeconfig (KUBECONFIG) "/etc/k" (HTTP 401 Unauthorized)'],
    [new ApiException(403, 'Forbidden', {}, {}), false, 'forbids --kubeconfig (KUBECONFIG) "/etc/k" to read Nodes (HTTP 403 Forbidden): grant nodes get/list/watch'],
    [new ApiException(503, 'unavailable', {}, {}), true, 'answered HTTP 503'],
    [new ApiException(429, 'slow down', {}, {}), true, 'answered HTTP 429'],
    [new ApiException(404, 'not found', {}, {}), false, 'answered HTTP 404 to a Node read: check the server URL'],
    [Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }), true, 'is unreachable (ECONNREFUSED)'],
    [Object.assign(new TypeError('fetch failed'), { cause: new Error('bad port') }), true, 'is unreachable (fetch failed: bad port)'],
    [Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('self-signed'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) }), false, 'cannot verify (DEPTH_ZERO_SELF_SIGNED_CERT)'],
  ])('%s', (err, retry, text) => {
    const verdict = classifyReadError(err, src, server);
    expect(verdict.retry).toBe(retry);
    expect(verdict.what).toContain(text);
    expect(verdict.what).toContain(server);
  });
});


const node = (addresses: { type: string; address: string }[] = [{ type: 'InternalIP', address: '198.18.0.10' }]): V1Node => ({
  metadata: { name: 'node-a' },
  status: { addresses },
});

describe('waitForNode', () => {
  it('retries with backoff, saying why, while the API server is unreachable and then while the Node is not registered', async () => {
    const clock = new FakeClock();
    const { lines, logger } = captureLogs('debug');
    const answers: (() => Promise<V1Node | undefined>)[] = [
      () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) })),
      () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) })),
      () => Promise.resolve(undefined),
      () => Promise.resolve(node()),
    ];
    const done = waitForNode({ nodeName: 'node-a', read: () => answers.shift()!(), source: 'cfg', server: 'https://s', clock, logger, signal: new AbortController().signal });
    await clock.advance(60_000);
    await expect(done).resolves.toMatchObject({ metadata: { name: 'node-a' } });
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'Waiting at start-up, will retry with backoff: the API server https://s is unreachable (ECONNREFUSED): retrying'],
      ['debug', 'Waiting at start-up, will retry with backoff: the API server https://s is unreachable (ECONNREFUSED): retrying'],
      [
        'warn',
        'Waiting at start-up, will retry with backoff: Node "node-a" of --node-name (NODE_NAME) does not exist (yet): waiting for the kubelet to register it; if it never appears, check --node-name (NODE_NAME) against kubectl get nodes',
      ],
    ]);
    expect(lines.map((l) => l.retryInMs)).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)]);
    expect((lines[1]!.retryInMs as number) > (lines[0]!.retryInMs as number)).toBe(true);
  });

  it('stops at once with StartupError on 401', async () => {
    const { logger } = captureLogs('debug');
    const done = waitForNode({
      nodeName: 'node-a',
      read: () => Promise.reject(new ApiException(401, 'Unauthorized', {}, {})),
      source: 'cfg',
      server: 'https://s',
      clock: new FakeClock(),
      logger,
      signal: new AbortController().signal,
    });
    await expect(done).rejects.toBeInstanceOf(StartupError);
  });

  it('with needAddress waits until the Node has an InternalIP', async () => {
    const clock = new FakeClock();
    const { lines, logger } = captureLogs('debug');
    const answers = [node([]), node()];
    const done = waitForNode({ nodeName: 'node-a', read: () => Promise.resolve(answers.shift()), source: 'cfg', server: 's', clock, logger, signal: new AbortController().signal, needAddress: true });
    await clock.advance(5_000);
    expect(nodeListenHost(await done)).toBe('198.18.0.10');
    expect(lines[0]!.msg).toContain('Node node-a has no InternalIP yet');
  });
});

describe('health listen address', () => {
  it('NODE_IP resolves to the InternalIP (IPv4 first, IPv6 bracketed); others stay as given', () => {
    expect(nodeListenHost(node([{ type: 'ExternalIP', address: '203.0.113.5' }, { type: 'InternalIP', address: '2001:db8::10' }, { type: 'InternalIP', address: '198.18.0.10' }]))).toBe('198.18.0.10');
    expect(resolveListenAddress('NODE_IP:10361', '198.18.0.10')).toBe('198.18.0.10:10361');
    expect(resolveListenAddress('NODE_IP:10361', '2001:db8::10')).toBe('[2001:db8::10]:10361');
    expect(resolveListenAddress('0.0.0.0:10361', undefined)).toBe('0.0.0.0:10361');
    expect(resolveListenAddress('127.0.0.1:10361', '198.18.0.10')).toBe('127.0.0.1:10361');
    expect(() => resolveListenAddress('NODE_IP:10361', undefined)).toThrow(StartupError);
  });
});
