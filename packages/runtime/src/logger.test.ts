import { describe, expect, it } from '@jest/globals';
import { redactDeep } from './logger.js';
import { captureLogs } from './testing/index.js';


describe('log redaction', () => {
  it('redacts credentials at any depth, in arrays and child bindings, and keeps everything else', () => {
    const { lines, logger } = captureLogs();
    const request = { url: '/mgmt/tm/ltm/pool', headers: { Authorization: 'Basic c2VjcmV0', 'X-F5-Auth-Token': 'tok', accept: 'json' } };
    const logged = {
      pod: 'default/web-1',
      request,
      attempts: [{ n: 1, auth: { password: 'p1', user: 'admin' } }, { n: 2, accessToken: 'a2' }],
      a: { b: { c: { d: { e: { refresh_token: 'deep', tokenBucket: 5, secretName: 'bigip-login' } } } } },
      kubeconfig: { users: [{ name: 'npl', user: { token: 'sa-token', 'client-key-data': 'LS0t' } }] },
    };
    logger.child({ session: { bearerToken: 'child-secret', id: 7 } }).info(logged, 'Request sent');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(JSON.stringify(line)).not.toMatch(/c2VjcmV0|"tok"|p1|a2|deep|sa-token|LS0t|child-secret/);
    expect(line).toMatchObject({
      pod: 'default/web-1',
      session: { bearerToken: '[REDACTED]', id: 7 },
      request: { url: '/mgmt/tm/ltm/pool', headers: { Authorization: '[REDACTED]', 'X-F5-Auth-Token': '[REDACTED]', accept: 'json' } },
      attempts: [{ n: 1, auth: { password: '[REDACTED]', user: 'admin' } }, { n: 2, accessToken: '[REDACTED]' }],
      a: { b: { c: { d: { e: { refresh_token: '[REDACTED]', tokenBucket: 5, secretName: 'bigip-login' } } } } },
      kubeconfig: { users: [{ name: 'npl', user: { token: '[REDACTED]', 'client-key-data': '[REDACTED]' } }] },
      msg: 'Request sent',
    });
    expect(request.headers.Authorization).toBe('Basic c2VjcmV0');
  });

  it('keeps the top-level Secret-data paths of before, and copes with cycles and depth', () => {
    const { lines, logger } = captureLogs();
    logger.info({ data: { password: 'x' }, secretRef: { data: 'y' } }, 'Secret read');
    expect(lines[0]).toMatchObject({ data: '[REDACTED]', secretRef: { data: '[REDACTED]' } });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(redactDeep(cyclic)).toEqual({ name: 'loop', self: '[Circular]' });
    let deep: Record<string, unknown> = { token: 't' };
    for (let i = 0; i < 12; i++) deep = { next: deep };
    expect(JSON.stringify(redactDeep(deep))).toContain('[Truncated]');
    expect(JSON.stringify(redactDeep(deep))).not.toContain('"t"');
  });
});
