import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { isApiTimeout, timeoutMiddleware, withApiTimeout } from './api-timeout.js';

/** A loopback HTTP server that reads each request and answers it only when `hung` is false. */
async function apiServer(): Promise<{ server: Server; kc: KubeConfig; requests: string[]; setHung(h: boolean): void; close(): Promise<void> }> {
  let hung = false;
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers['content-type'] ?? ''}`.trim());
    if (hung) return;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [] }));
  });
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return {
    server,
    kc,
    requests,
    setHung: (h) => (hung = h),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('withApiTimeout', () => {
  let api: Awaited<ReturnType<typeof apiServer>> | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('fails a request the API server never answers with a TimeoutError, and leaves answered ones alone', async () => {
    api = await apiServer();
    const core = api.kc.makeApiClient(CoreV1Api);
    await expect(core.listNamespacedPod({ namespace: 'a' }, withApiTimeout(2_000))).resolves.toMatchObject({ items: [] });
    api.setHung(true);
    const err = await core.listNamespacedPod({ namespace: 'b' }, withApiTimeout(200)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isApiTimeout(err)).toBe(true);
    api.setHung(false);
    // The same options object times each request on its own (a fresh signal per request).
    const options = withApiTimeout(2_000);
    await expect(core.listNamespacedPod({ namespace: 'c' }, options)).resolves.toMatchObject({ items: [] });
    await expect(core.listNamespacedPod({ namespace: 'd' }, options)).resolves.toMatchObject({ items: [] });
    expect(api.requests).toEqual(['GET /api/v1/namespaces/a/pods', 'GET /api/v1/namespaces/b/pods', 'GET /api/v1/namespaces/c/pods', 'GET /api/v1/namespaces/d/pods']);
  });

  it("keeps the options' own middleware (the merge-patch content type)", async () => {
    api = await apiServer();
    const core = api.kc.makeApiClient(CoreV1Api);
    await core.patchNamespacedPodStatus({ namespace: 'a', name: 'p', body: {} }, withApiTimeout(2_000, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))).catch(() => undefined);
    expect(api.requests).toEqual(['PATCH /api/v1/namespaces/a/pods/p/status application/merge-patch+json']);
  });

  it('rejects a timeout that is not a positive number of milliseconds', () => {
    expect(() => timeoutMiddleware(0)).toThrow('API request timeout 0 ms: expected a positive number of milliseconds');
    expect(() => timeoutMiddleware(Number.NaN)).toThrow(RangeError);
  });
});
