/**
 * nplctl's entry point without process side effects of its own (the CLI sets the exit code), so
 * tests run it in-process: parse, load the kubeconfig, run the command, print.
 */
import { HELP, parseCommand, UsageError } from './args.js';
import type { Deps } from './commands.js';
import { runCheck, runList } from './commands.js';
import { ApiClusterReader, fetchJson, loadKubeConfig, tcpConnect } from './kube.js';

export interface Streams {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
}

/** Why an API call failed, in one line (status and reason of an ApiException, else the message). */
export function apiMessage(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  if (typeof e.code === 'number' && e.body !== undefined) {
    const body = typeof e.body === 'string' ? e.body : JSON.stringify(e.body);
    const reason = /"message":"((?:[^"\\]|\\.)*)"/.exec(body)?.[1];
    return `HTTP ${e.code}${reason ? `: ${reason}` : ''}`;
  }
  const cause = (err as { cause?: { code?: string } }).cause?.code;
  return cause ?? e.message ?? String(err);
}

/** Runs nplctl with `argv`; `deps` replaces the real side effects (tests). Returns the exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, io: Streams, deps?: Deps): Promise<number> {
  try {
    const cmd = parseCommand(argv);
    if (cmd.kind === 'help') {
      io.stdout.write(HELP);
      return 0;
    }
    const d = deps ?? { reader: new ApiClusterReader(loadKubeConfig(cmd, env)), fetchJson, connect: tcpConnect };
    const out = cmd.kind === 'list' ? await runList(cmd, d) : await runCheck(cmd, d);
    io.stdout.write(out.stdout);
    io.stderr.write(out.stderr);
    return out.exitCode;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`nplctl: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`nplctl: cannot read the cluster: ${apiMessage(err)}\n`);
    return 1;
  }
}
