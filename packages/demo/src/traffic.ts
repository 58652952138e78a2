/**
 * Requests through the BIG-IP virtual server from outside the cluster: a child process in the
 * cluster's outside namespace (reaches node IPs and the BIG-IP, never pod IPs) runs
 * traffic-worker.js and reports each outcome.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DemoError } from './errors.js';

/** One outcome: the pod that answered, or why no pod did. */
export type TrafficResult = { readonly pod: string } | { readonly error: string };

/** One interface per side effect: the request loop. */
export interface TrafficLoop {
  /** Stops the loop and waits for its process to end. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts requests to `url` from network namespace `netns`, `rate` per second, calling `onResult`
 * for each. Throws DemoError NPL_DEMO_TRAFFIC when the process cannot be started; a process that
 * dies later is reported through `onExit`.
 */
export function startTrafficLoop(
  opts: { readonly netns: string; readonly url: string; readonly rate: number },
  onResult: (r: TrafficResult) => void,
  onExit: (reason: string) => void,
): TrafficLoop {
  const worker = fileURLToPath(new URL('./traffic-worker.js', import.meta.url));
  const intervalMs = Math.round(1000 / opts.rate);
  const child = spawn('ip', ['netns', 'exec', opts.netns, process.execPath, worker, opts.url, String(intervalMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new DemoError('NPL_DEMO_TRAFFIC', `could not start the request loop in netns ${opts.netns}`);
  let stopping = false;
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-2000)));
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      onResult(JSON.parse(line) as TrafficResult);
    } catch {
      onResult({ error: `unreadable line from the request loop: ${line.slice(0, 80)}` });
    }
  });
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      if (!stopping) onExit(`the request loop exited (${signal ?? code}): ${stderr.trim() || 'no output'}`);
      resolve();
    });
  });
  return {
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
