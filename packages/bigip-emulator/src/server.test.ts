import { afterEach, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseCli } from './cli-options.js';
import { createLogger } from './logger.js';
import { startEmulator } from './server.js';
import { itUnless } from '@npl/testkit';
import type { RunningEmulator } from './server.js';

const LOGIN = JSON.stringify({ username: 'admin', password: 's3cret', loginProviderName: 'tmos' });

function httpsJson(emu: RunningEmulator, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const url = new URL(path, emu.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: readFileSync(emu.caFile as string), headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let data = '';
      res.on('data', (chunk: Buffer) => { data += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

let running: RunningEmulator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe('standalone HTTPS server', () => {
  it('serves HTTPS on a free port with a certificate the generated CA verifies', async () => {
    running = await startEmulator({ password: 's3cret', port: 0 });
    expect(running.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(existsSync(running.caFile as string)).toBe(true);
    const login = await httpsJson(running, 'POST', '/mgmt/shared/authn/login', LOGIN);
    expect(login.status).toBe(200);
    const token = (JSON.parse(login.body) as { token: { token: string } }).token.token;
    const pools = await httpsJson(running, 'GET', '/mgmt/tm/ltm/pool', undefined, { 'x-f5-auth-token': token });
    expect(JSON.parse(pools.body)).toMatchObject({ kind: 'tm:ltm:pool:poolcollectionstate', items: [] });
  });

  it('is refused by a client that does not trust the generated CA', async () => {
    running = await startEmulator({ port: 0 });
    await expect(fetch(`${running.url}/mgmt/shared/appsvcs/info`)).rejects.toThrow();
  });

  it('drops connections without a response while the drop fault is on', async () => {
    running = await startEmulator({ port: 0, tls: false });
    running.faults.set({ dropConnections: { count: 1 } });
    await expect(fetch(`${running.url}/mgmt/tm/ltm/pool`)).rejects.toThrow();
    const after = await fetch(`${running.url}/mgmt/tm/ltm/pool`, { headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` } });
    expect(after.status).toBe(200);
    expect(running.requestLog.entries().map((e) => e.status)).toEqual([0, 200]);
  });

  it('removes the CA directory on close', async () => {
    running = await startEmulator({ port: 0 });
    const caFile = running.caFile as string;
    await running.close();
    running = undefined;
    expect(existsSync(caFile)).toBe(false);
  });
});

describe('logging', () => {
  it('redacts credentials and auth tokens', async () => {
    const lines: string[] = [];
    const destination = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
    const logger = createLogger({ level: 'info', destination });
    logger.info({ password: 'hunter2', req: { headers: { authorization: 'Basic abc', 'x-f5-auth-token': 'TOKEN123' } } }, 'probe');
    running = await startEmulator({ port: 0, tls: false, logger });
    await fetch(`${running.url}/mgmt/shared/authz/tokens/TOKEN456`, { headers: { 'x-f5-auth-token': 'TOKEN456' } });
    const text = lines.join('');
    expect(text).toContain('[REDACTED]');
    for (const secret of ['hunter2', 'Basic abc', 'TOKEN123', 'TOKEN456']) expect(text).not.toContain(secret);
  });
});

describe('command line', () => {
  it('parses flags, reads --password-file and refuses bad ports', async () => {
    const file = fileURLToPath(new URL('../package.json', import.meta.url));
    const parsed = await parseCli(['--address', '0.0.0.0', '--port', '0', '--http', '--username', 'ops', '--password-file', file, '--partition', 'k8s']);
    expect(parsed.options).toMatchObject({ address: '0.0.0.0', port: 0, tls: false, username: 'ops', password: '{', partitions: ['k8s'], traffic: true });
    await expect(parseCli(['--port', '70000'])).rejects.toThrow('--port must be an integer from 0 to 65535');
    await expect(parseCli(['--bogus'])).rejects.toThrow();
    expect((await parseCli(['--help'])).help).toBe(true);
  });

  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const built = existsSync(cli);
  // The standalone process runs the built CLI; `.ci/run` builds before testing.
  const notBuilt = built ? undefined : `needs the built CLI (${cli}): run pnpm build first (test-all.sh does)`;
  itUnless(notBuilt, 'runs standalone: prints BIGIP_URL and BIGIP_CA_FILE, serves, and exits on SIGTERM', async () => {
    const child = spawn(process.execPath, [cli, '--port', '0', '--log-level', 'silent'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = await new Promise<string[]>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('BIGIP_CA_FILE=')) resolve(out.split('\n'));
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${String(code)}`)));
    });
    const url = lines.find((l) => l.startsWith('BIGIP_URL='))?.slice('BIGIP_URL='.length) ?? '';
    const caFile = lines.find((l) => l.startsWith('BIGIP_CA_FILE='))?.slice('BIGIP_CA_FILE='.length) ?? '';
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const info = await new Promise<number>((resolve, reject) => {
      request(new URL('/mgmt/shared/appsvcs/info', url), { ca: readFileSync(caFile), headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    expect(info).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  itUnless(notBuilt, 'documents itself with --help', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [cli, '--help']);
    for (const flag of ['--address', '--port', '--username', '--password', '--password-file', '--http', 'BIGIP_URL=']) expect(stdout).toContain(flag);
  });
});
