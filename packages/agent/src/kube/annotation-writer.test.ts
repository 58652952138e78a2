/**
 * The real client-node PATCH path against a loopback HTTP server standing in for the API server's
 * pods/status endpoint: merge patch body and content type, success, 404, error messages, and a PATCH
 * the server never answers.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { NPL_ANNOTATION_KEY } from '@npl/core';
import { ApiAnnotationWriter } from './annotation-writer.js';

const seen: { method?: string; url?: string; type?: string; body: string }[] = [];
let reply: { status: number; body: string } | 'hang' = { status: 200, body: '{}' };
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], body });
    if (reply === 'hang') return;
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(reply.body);
  });
});

let writer: ApiAnnotationWriter;
let core: CoreV1Api;
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  core = kc.makeApiClient(CoreV1Api);
  writer = new ApiAnnotationWriter(core);
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});

const POD = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'default', creationTimestamp: '2026-12-01T00:00:00Z', managedFields: [{ manager: 'x', time: '2026-12-01T00:00:00Z' }] }, spec: { containers: [{ name: 'c' }] } });

describe('ApiAnnotationWriter', () => {
  it("sends Antrea's merge patch to pods/status and resolves true (the returned Pod is not parsed)", async () => {
    reply = { status: 200, body: POD };
    seen.length = 0;
    await expect(writer.write('default', 'web-1', '[]')).resolves.toBe(true);
    expect(seen).toEqual([{ method: 'PATCH', url: '/api/v1/namespaces/default/pods/web-1/status', type: 'application/merge-patch+json', body: JSON.stringify({ metadata: { annotations: { [NPL_ANNOTATION_KEY]: '[]' } } }) }]);
    await expect(writer.write('default', 'web-1', null)).resolves.toBe(true);
    expect(JSON.parse(seen[1]!.body)).toEqual({ metadata: { annotations: { [NPL_ANNOTATION_KEY]: null } } });
    // Proof the body is never parsed: a success with a body client-node could not parse still resolves.
    reply = { status: 200, body: 'not json' };
    await expect(writer.write('default', 'web-1', '[]')).resolves.toBe(true);
  });

  it('resolves false for a Pod that is gone (404)', async () => {
    reply = { status: 404, body: JSON.stringify({ kind: 'Status', code: 404, message: 'pods "web-1" not found' }) };
    await expect(writer.write('default', 'web-1', '[]')).resolves.toBe(false);
  });

  it("throws with the API server's message for other errors", async () => {
    reply = { status: 403, body: JSON.stringify({ kind: 'Status', code: 403, message: 'pods "web-1" is forbidden: no patch' }) };
    await expect(writer.write('default', 'web-1', '[]')).rejects.toThrow('failed to patch NodePortLocal annotation for Pod default/web-1 (HTTP 403): pods "web-1" is forbidden: no patch');
  });

  it('throws (so the Pod is requeued) when the API server does not answer the PATCH in time', async () => {
    reply = 'hang';
    seen.length = 0;
    const hasty = new ApiAnnotationWriter(core, undefined, 200);
    await expect(hasty.write('default', 'web-1', '[]')).rejects.toThrow('failed to patch NodePortLocal annotation for Pod default/web-1: the API server did not answer within 200 ms');
    expect(seen.map((s) => `${s.method} ${s.url} ${s.type}`)).toEqual(['PATCH /api/v1/namespaces/default/pods/web-1/status application/merge-patch+json']);
  });
});
