#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=1 --optimize-for-size
/**
 * `npl-agent [options]` runs the agent; `npl-agent uninstall [options]` removes its rules and
 * this node's annotations. Exit codes: 0 done, 1 runtime failure, 2 invalid configuration (flags, or
 * a start-up input waiting cannot fix: kubeconfig missing or unreadable, credentials rejected).
 */
import { isNplError } from '@npl/core';
import { pino } from 'pino';
import { createLogger, isRuntimeError, withApiTimeout } from '@npl/runtime';
import { startAgent } from './agent.js';
import { missingNodeEnv, missingNodeFlags } from './node-flags.js';
import { AgentConfigError, HELP, parseAgentConfig } from './config.js';
import { createDataplane } from './dataplane/index.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import type { AgentConfig } from './config.js';
import { NODE_IP_HOST, nodeListenHost, resolveListenAddress, StartupError, loadKubeConfig } from './startup.js';
import { detectRunningAgent, uninstall } from './uninstall.js';

/** Where a running agent's health endpoint would answer on this node (loopback for every-address binds). */
async function probeAddress(config: AgentConfig, kc: KubeConfig): Promise<string | undefined> {
  try {
    let nodeIP = config.nodeIP;
    if (!nodeIP && config.healthAddress.startsWith(`${NODE_IP_HOST}:`)) {
      nodeIP = nodeListenHost(await kc.makeApiClient(CoreV1Api).readNode({ name: config.nodeName }, withApiTimeout()));
    }
    const address = resolveListenAddress(config.healthAddress, nodeIP);
    return address.replace(/^(0\.0\.0\.0)?:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
  } catch {
    return undefined;
  }
}

function fail(message: string, code: number): never {
  process.stderr.write(`npl-agent: ${message}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  const isUninstall = argv[0] === 'uninstall';
  let parsed;
  try {
    parsed = parseAgentConfig(isUninstall ? argv.slice(1) : argv, process.env);
  } catch (err) {
    if (err instanceof AgentConfigError || isNplError(err)) fail((err as Error).message, 2);
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(`${HELP}\n  npl-agent uninstall [options]   Remove both dataplanes' rules (nftables and iptables, both families) and this node's annotations\n`);
    return;
  }
  const { config } = parsed;
  // Asynchronous stdout: a burst of log lines (two per Pod in a roll-out) is coalesced into few
  // writes instead of one blocking write each; pino flushes what is buffered when the process exits.
  const logger = createLogger({ name: 'npl-agent', level: config.logLevel, destination: pino.destination({ dest: 1, sync: false }) });
  if (isUninstall) {
    const kc = loadKubeConfig(config.kubeconfig);
    const result = await uninstall(config, logger, {
      kubeConfig: kc,
      dataplane: (kind, family) => createDataplane({ kind, family, table: config.nftTable, chain: config.iptablesChain, logger }),
      detectAgent: async () => detectRunningAgent({ healthAddress: await probeAddress(config, kc) }),
    });
    if (result.agentRunning.length) process.stderr.write(`npl-agent: warning: an npl-agent still runs on this node (${result.agentRunning.join('; ')}): it will reinstall what was removed; stop it and run uninstall again\n`);
    if (result.errors.length) fail(`uninstall incomplete:\n  ${result.errors.join('\n  ')}`, 1);
    return;
  }
  const missing = missingNodeFlags(process.execArgv);
  if (missing.length) {
    logger.warn({ missing }, 'Node.js was started without the flags npl-agent is tuned for (declared in its shebang): its memory use will be about 1.5 times as high (agent.memory in docs/benchmarks.md); start it as npl-agent, or pass them to node');
  }
  const missingEnv = missingNodeEnv(process.env);
  if (missingEnv.length) {
    logger.warn({ missing: missingEnv }, 'npl-agent was started without the environment it is tuned for (declared in its shebang): under Pod churn its memory will keep growing slowly (agent.churn in docs/benchmarks.md); start it as npl-agent, or set MALLOC_ARENA_MAX=2');
  }
  const agent = await startAgent(config, logger);
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'Signal received, stopping (rules stay installed)');
    agent.stop().then(
      () => process.exit(0),
      (err: unknown) => fail(`stop failed: ${(err as Error).message}`, 1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  await agent.ready;
}

/** The StartupError in `err`'s cause chain, if any. */
function startupError(err: unknown): StartupError | undefined {
  for (let e = err; e instanceof Error; e = e.cause) if (e instanceof StartupError) return e;
  return undefined;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const bad = startupError(err);
  if (bad) fail(bad.message, 2);
  if (isRuntimeError(err)) fail(err.message, 1);
  fail((err as Error).stack ?? String(err), 1);
});
