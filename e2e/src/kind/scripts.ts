/**
 * Runs the scripts the kind driver is built on (scripts/images.sh, e2e/kind/*.sh,
 * e2e/kind/cni/install.sh). Their contract: results on stdout as KEY=VALUE lines, progress on
 * stderr, failure = non-zero exit with "error: ..." on stderr. Progress is passed through to our
 * stderr with a prefix, so a long cold build shows what it does.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

export interface ScriptResult {
  readonly values: Record<string, string>;
  readonly stdout: string;
}

/** KEY=VALUE lines of `text` (other lines ignored). */
export function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** The stderr lines to quote when a command fails: its "error:" lines, else its last lines. */
export function failureLines(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  const errors = lines.filter((l) => /^error:/.test(l));
  return (errors.length ? errors : lines.slice(-15)).join('\n');
}

/**
 * Runs `command args` with `env`; resolves with stdout and its KEY=VALUE lines when it exits 0,
 * rejects with the command and its error lines otherwise (or after `timeoutMs`).
 */
export function runCommand(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number, label = path.basename(args[0] ?? command)): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      stderr += d.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (process.env.NPL_E2E_QUIET !== '1') process.stderr.write(`[${label}] ${l}\n`);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ values: parseKeyValues(stdout), stdout });
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ? `killed by ${signal} after ${timeoutMs / 1000} s` : `exit ${code}`}):\n${failureLines(stderr)}`));
    });
  });
}

/** `bash script args`; see runCommand. */
export function runScript(script: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ScriptResult> {
  return runCommand('bash', [script, ...args], env, timeoutMs, path.basename(script));
}

/** The value of `key` in a script's result; throws naming the script when it is missing. */
export function required(result: ScriptResult, key: string, script: string): string {
  const v = result.values[key];
  if (!v) throw new Error(`${script} printed no ${key}= line (stdout: ${JSON.stringify(result.stdout.slice(0, 500))})`);
  return v;
}
