/**
 * `supervise <spec.json>`: runs one host process (in the root namespace, the control-plane host)
 * and restarts it with backoff (1 s doubling to 30 s, reset after 60 s of uptime) whenever it exits.
 * Started as a daemon by `cluster up` (its own process group, output appended to the log file it
 * was given); SIGTERM/SIGINT are passed to the child and the supervisor exits once the child did.
 * The spec file is a SupervisedSpec (JSON).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface SupervisedSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Added to the supervisor's environment. */
  readonly env?: Record<string, string>;
}

function note(spec: SupervisedSpec, msg: string, extra: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ time: Date.now(), supervisor: spec.name, msg, ...extra })}\n`);
}

function main(file: string | undefined): void {
  if (!file) {
    process.stderr.write('usage: supervise <spec.json>\n');
    process.exit(2);
  }
  const spec = JSON.parse(readFileSync(file, 'utf8')) as SupervisedSpec;
  let child: ChildProcess | undefined;
  let stopping = false;
  const launch = (backoff: number): void => {
    if (stopping) return;
    const started = Date.now();
    const c = spawn(spec.command, [...spec.args], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...spec.env } });
    child = c;
    c.on('error', (err) => note(spec, 'could not start', { err: err.message }));
    c.on('exit', (code, sig) => {
      child = undefined;
      if (stopping) process.exit(0);
      const next = Date.now() - started > 60_000 ? 1_000 : Math.min(backoff * 2, 30_000);
      note(spec, 'process exited; restarting', { code, sig, restartInMs: backoff });
      setTimeout(() => launch(next), backoff);
    });
  };
  const stop = (sig: NodeJS.Signals): void => {
    stopping = true;
    if (!child) process.exit(0);
    child.kill(sig);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  launch(1_000);
}

main(process.argv[2]);
