/**
 * The npl-agent as a node process of the local cluster (`cluster up --agent`): run from this
 * repository's build inside each node's namespace, as the `kube-system/npl-agent` ServiceAccount
 * with the RBAC of packages/agent/manifests/rbac.yaml (rendered from charts/npl), restarted on exit.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageDir } from './binaries.js';
import { ClusterError } from './errors.js';
import type { NodeProcessSpec, ServiceAccountIdentity } from './standin/config.js';

const agentDir = path.join(packageDir, '..', 'agent');

/** The agent's identity: its ServiceAccount and least-privilege RBAC. */
export const AGENT_IDENTITY: ServiceAccountIdentity = {
  namespace: 'kube-system',
  name: 'npl-agent',
  manifests: [path.join(agentDir, 'manifests', 'rbac.yaml')],
};

/** Path of the built agent as it ships (the bundle, `npl-agent`); throws a message saying how to build it when absent. */
export function agentCli(): string {
  const cli = path.join(agentDir, 'dist', 'npl-agent.mjs');
  if (!existsSync(cli)) {
    throw new ClusterError('NPL_CLUSTER_AGENT_NOT_BUILT', `npl-agent is not built (${cli} is missing): run \`pnpm build\` or \`bash scripts/test-all.sh\` first`);
  }
  return cli;
}

/** The words of a shebang's command after `env [-S]`, or all of them; [] without a shebang. */
function shebangCommand(firstLine: string): string[] {
  if (!firstLine.startsWith('#!')) return [];
  const words = firstLine.slice(2).trim().split(/\s+/);
  return words[0]?.endsWith('/env') ? words.slice(words[1] === '-S' ? 2 : 1) : words;
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/**
 * The Node.js flags a script's shebang asks for: `#!/usr/bin/env -S node --a --b` or
 * `#!/path/to/node --a` give ['--a', '--b'] / ['--a'], also after environment assignments
 * (`env -S NAME=value node --a`); `#!/usr/bin/env node` or no shebang give [].
 */
export function shebangNodeArgs(firstLine: string): string[] {
  const command = shebangCommand(firstLine);
  const at = command.findIndex((w) => !ASSIGNMENT.test(w));
  return at >= 0 && path.basename(command[at]!) === 'node' ? command.slice(at + 1) : [];
}

/** The environment a node script's shebang sets through env: `#!/usr/bin/env -S A=1 node` gives { A: '1' }. */
export function shebangEnv(firstLine: string): Record<string, string> {
  const command = shebangCommand(firstLine);
  const env: Record<string, string> = {};
  for (const word of command) {
    const m = ASSIGNMENT.exec(word);
    if (!m) return path.basename(word) === 'node' ? env : {};
    env[m[1]!] = m[2]!;
  }
  return {};
}

const firstLineOf = (cli: string): string => readFileSync(cli, 'utf8').slice(0, 512).split('\n', 1)[0] ?? '';

/**
 * The Node.js flags the agent is meant to run with, as its cli declares them in its shebang: every
 * launcher of `node <cli>` passes them and agentNodeEnv's environment
 * (`spawn(process.execPath, [...agentNodeArgs(cli), cli, ...], { env: { ...agentNodeEnv(cli) } })`),
 * so tests and benchmarks run the agent as its image does.
 */
export function agentNodeArgs(cli: string = agentCli()): string[] {
  return shebangNodeArgs(firstLineOf(cli));
}

/** The environment the agent is meant to run with (MALLOC_ARENA_MAX), as its cli's shebang sets it. */
export function agentNodeEnv(cli: string = agentCli()): Record<string, string> {
  return shebangEnv(firstLineOf(cli));
}

/** Extra agent flags and environment (NPL_* variables) apply to every node's agent. */
export function agentNodeProcess(opts: { readonly args?: readonly string[]; readonly env?: Record<string, string> } = {}): NodeProcessSpec {
  return {
    name: 'npl-agent',
    command: process.execPath,
    args: [...agentNodeArgs(), agentCli(), ...(opts.args ?? [])],
    env: { ...agentNodeEnv(), ...opts.env },
    serviceAccount: AGENT_IDENTITY,
  };
}
