/**
 * Running the dataplane's command-line tools (nft, iptables-*, ip): one small interface, a real
 * implementation over execa, a namespace wrapper for tests, and a recording fake.
 */
import { execa } from 'execa';
import { NplError } from '@npl/core';

export interface RunOptions {
  /** Written to the command's stdin (a pipe), then closed. */
  readonly input?: string;
  /** Kill the command after this long; default DEFAULT_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one command to completion. A non-zero exit is a result, not an error: callers decide what
 * an exit code means (iptables `-C` exits 1 for "absent"). Throws NplError NPL_DATAPLANE_FAILED
 * only when the command could not run at all: binary missing (the message names it and its Debian
 * package), timed out, or killed by a signal.
 */
export interface CommandRunner {
  run(cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

const DEBIAN_PACKAGES: readonly (readonly [RegExp, string])[] = [
  [/^nft$/, 'nftables'],
  [/^(ip6?tables|xtables)/, 'iptables'],
  [/^ip$/, 'iproute2'],
  [/^conntrack$/, 'conntrack'],
];

/** The error every runner throws for a binary that is not installed. */
export function missingBinaryError(cmd: string, cause?: unknown): NplError {
  const pkg = DEBIAN_PACKAGES.find(([re]) => re.test(cmd))?.[1];
  const hint = pkg ? `: install the Debian package ${pkg}` : '';
  return new NplError('NPL_DATAPLANE_FAILED', `${cmd} not found in PATH${hint}`, { cause });
}

const commandLine = (cmd: string, args: readonly string[]): string => [cmd, ...args].join(' ');

/** The real runner. LC_ALL=C keeps tool messages stable for callers that match on them. */
export class ExecaRunner implements CommandRunner {
  async run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const r = await execa(cmd, [...args], {
      reject: false,
      timeout,
      env: { LC_ALL: 'C' },
      ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
    });
    if (r.code === 'ENOENT') throw missingBinaryError(cmd, r.cause);
    if (r.timedOut) {
      throw new NplError('NPL_DATAPLANE_FAILED', `${commandLine(cmd, args)} timed out after ${timeout} ms`, { cause: r.cause });
    }
    if (r.exitCode === undefined) {
      throw new NplError('NPL_DATAPLANE_FAILED', `${commandLine(cmd, args)} could not run: ${r.shortMessage}`, { cause: r.cause });
    }
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  }
}

const NETNS_EXEC_FAILED = /^exec of "([^"]+)" failed: No such file or directory/m;

/**
 * Runs every command inside the network namespace `ns` through `ip netns exec` (the agent runs in
 * its node's namespace and does not need this; tests do). A binary missing inside the namespace
 * throws the same error as with the base runner.
 */
export function netnsRunner(ns: string, base: CommandRunner = new ExecaRunner()): CommandRunner {
  return {
    async run(cmd, args, opts) {
      const r = await base.run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
      const missing = r.exitCode !== 0 ? NETNS_EXEC_FAILED.exec(r.stderr) : null;
      if (missing) throw missingBinaryError(missing[1] ?? cmd);
      return r;
    },
  };
}

/** One call seen by RecordingRunner. */
export interface RecordedCall {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly input?: string;
}

/** Decides a fake command's outcome; return undefined for the default (exit 0, no output). */
export type FakeResponder = (call: RecordedCall) => Partial<RunResult> | Error | undefined;

/**
 * A CommandRunner for unit tests: records each call (`calls`, `commandLines()`) and answers from a
 * responder; a responder returning an Error makes `run` throw it (e.g. missingBinaryError).
 */
export class RecordingRunner implements CommandRunner {
  readonly calls: RecordedCall[] = [];

  constructor(private readonly responder: FakeResponder = () => undefined) {}

  run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const call: RecordedCall = opts.input === undefined ? { cmd, args: [...args] } : { cmd, args: [...args], input: opts.input };
    this.calls.push(call);
    const answer = this.responder(call);
    if (answer instanceof Error) return Promise.reject(answer);
    return Promise.resolve({ exitCode: 0, stdout: '', stderr: '', ...answer });
  }

  /** Every call as one `cmd arg…` line, in call order. */
  commandLines(): string[] {
    return this.calls.map((c) => commandLine(c.cmd, c.args));
  }
}
