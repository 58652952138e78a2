import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { NodeProcessSpec, StandinNode } from './config.js';

/**
 * Runs one process per (node, spec) inside the node's namespace with `ip netns exec`, restarting
 * it with backoff (1 s doubling to 30 s, reset after 60 s of uptime) whenever it exits. Output goes
 * to `<dir>/logs/<node>-<name>.log`. This is the seam for `cluster up --agent`.
 */
export class NodeProcessSupervisor {
  private readonly children = new Set<ChildProcess>();
  private stopped = false;
  private readonly dir: string;
  private readonly log: Logger;

  constructor(dir: string, log: Logger) {
    this.dir = dir;
    this.log = log;
  }

  start(node: StandinNode, spec: NodeProcessSpec): void {
    this.launch(node, spec, 1_000);
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.children) c.kill('SIGTERM');
  }

  private launch(node: StandinNode, spec: NodeProcessSpec, backoff: number): void {
    if (this.stopped) return;
    const logFile = path.join(this.dir, 'logs', `${node.name}-${spec.name}.log`);
    const fd = openSync(logFile, 'a');
    const started = Date.now();
    const child = spawn('ip', ['netns', 'exec', node.netns, spec.command, ...spec.args], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...spec.env, NODE_NAME: node.name, NODE_IP: node.ip, KUBECONFIG: spec.kubeconfig ?? node.kubeconfig },
    });
    closeSync(fd);
    this.children.add(child);
    child.on('exit', (code, sig) => {
      this.children.delete(child);
      if (this.stopped) return;
      const next = Date.now() - started > 60_000 ? 1_000 : Math.min(backoff * 2, 30_000);
      this.log.warn({ node: node.name, process: spec.name, code, sig, restartIn: backoff }, 'node process exited; restarting');
      setTimeout(() => this.launch(node, spec, next), backoff);
    });
  }
}
