import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterError } from './errors.js';
import { isAlive } from './processes.js';
import { readFile } from 'node:fs/promises';

/** GETs a URL once; resolves with the status code (0 when the connection fails). */
export function probe(url: string, ca?: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { ca, rejectUnauthorized: ca !== undefined, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
  });
}

/** Throws NPL_CLUSTER_PROCESS_EXITED (which stops waitFor at once) when `pid` is gone. */
export async function ensureAlive(pid: number, what: string, logFile: string): Promise<void> {
  if (isAlive(pid)) return;
  const text = await readFile(logFile, 'utf8').catch(() => '');
  throw new ClusterError('NPL_CLUSTER_PROCESS_EXITED', `${what} exited; last lines of ${logFile}:\n${text.split('\n').slice(-20).join('\n')}`);
}

/**
 * Polls until `check` returns true. Throws NPL_CLUSTER_START_TIMEOUT naming `what` (and the result
 * of `hint`, e.g. a log tail) after `timeoutMs`.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  hint?: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  while (Date.now() < deadline) {
    const ok = await check().catch((err: unknown) => {
      if (err instanceof ClusterError) throw err;
      return false;
    });
    if (ok) return;
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
  const extra = hint ? await hint().catch(() => '') : '';
  throw new ClusterError('NPL_CLUSTER_START_TIMEOUT', `${what} was not ready after ${timeoutMs} ms${extra ? `\n${extra}` : ''}`);
}
