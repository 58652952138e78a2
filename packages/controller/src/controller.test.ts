import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { createLogger } from '@npl/runtime';
import { parseControllerConfig } from './config.js';
import { createClient } from './controller.js';
import { createControllerMetrics } from './metrics.js';

function configOf(extra: string[]) {
  const r = parseControllerConfig(['--bigip-url', 'https://192.0.2.1', '--bigip-username', 'admin', ...extra], { BIGIP_PASSWORD: 'x' });
  if (r.help) throw new Error('help');
  return r.config;
}

function capture() {
  const lines: string[] = [];
  const destination = new Writable({ write: (c: Buffer, _e, done) => { lines.push(c.toString()); done(); } });
  return { lines, logger: createLogger({ name: 't', destination }) };
}

describe('BIG-IP client wiring', () => {
  it('skipping TLS verification needs the flag and logs a warning', async () => {
    const { lines, logger } = capture();
    await createClient(configOf(['--bigip-insecure', 'true']), logger, createControllerMetrics(), {}).close();
    expect(lines.join('')).toMatch(/"level":"warn".*TLS verification of the BIG-IP is OFF/);
    const quiet = capture();
    await createClient(configOf([]), quiet.logger, createControllerMetrics(), {}).close();
    expect(quiet.lines).toEqual([]);
  });

  it('an unreadable CA file is a configuration error naming flag and file', () => {
    expect(() => createClient(configOf(['--bigip-ca-file', '/nonexistent/ca.pem']), capture().logger, createControllerMetrics(), {}))
      .toThrow('--bigip-ca-file (BIGIP_CA_FILE) /nonexistent/ca.pem cannot be read: ENOENT');
  });
});
