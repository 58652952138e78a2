import { describe, expect, it } from '@jest/globals';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { connectionKey, reuseConnections } from './connection-reuse.js';

function kubeConfig(ca: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://198.18.0.1:6443', caData: Buffer.from(ca).toString('base64') }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function dispatcherOf(kc: KubeConfig): Promise<unknown> {
  const ctx = new RequestContext('https://198.18.0.1:6443/api/v1/pods', HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  expect(ctx.getHeaders().Authorization).toBe('Bearer secret-token');
  return ctx.getDispatcher();
}

describe('reuseConnections', () => {
  it('client-node alone builds a new dispatcher per request (the reason this exists)', async () => {
    const kc = kubeConfig('ca-1');
    const a = await dispatcherOf(kc);
    expect(a).toBeDefined();
    expect(await dispatcherOf(kc)).not.toBe(a);
  });

  it('shares one dispatcher across requests, and builds a new one when the TLS configuration changes', async () => {
    const kc = kubeConfig('ca-1');
    expect(reuseConnections(kc)).toBe(true);
    expect(reuseConnections(kc)).toBe(true);
    const a = await dispatcherOf(kc);
    expect(a).toBeDefined();
    expect(await dispatcherOf(kc)).toBe(a);
    kc.clusters[0] = { ...kc.clusters[0]!, caData: Buffer.from('ca-2').toString('base64') };
    const b = await dispatcherOf(kc);
    expect(b).not.toBe(a);
    expect(await dispatcherOf(kc)).toBe(b);
  });

  it('keys on server, CA, client certificate and key', () => {
    const cluster = { server: 'https://198.18.0.1:6443' };
    const base = connectionKey(cluster, { ca: Buffer.from('x') });
    expect(connectionKey(cluster, { ca: Buffer.from('x') })).toBe(base);
    expect(connectionKey({ server: 'https://198.18.0.2:6443' }, { ca: Buffer.from('x') })).not.toBe(base);
    expect(connectionKey(cluster, { ca: Buffer.from('x'), cert: 'c' })).not.toBe(base);
    expect(connectionKey(cluster, { ca: Buffer.from('x'), key: 'k' })).not.toBe(base);
    expect(connectionKey(cluster, { ca: Buffer.from('x'), rejectUnauthorized: false })).not.toBe(base);
  });
});
