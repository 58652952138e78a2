/**
 * The process and Node.js metrics operators expect from any Node service, under prom-client's
 * default names (so its dashboards and alerts work unchanged): CPU, resident memory, start time,
 * file descriptors, heap, event-loop delay and the Node.js version. Values are read at each scrape
 * (a collector), except the event-loop delay, which a `perf_hooks` monitor samples all the time and
 * which is reset after each scrape (so its min/max/percentiles cover the time since the previous one,
 * as prom-client's do). Node drops the first sample after each reset, so a stall that spans a scrape
 * is under-reported once; with scrapes 15 s or more apart and 10 ms samples that is rare.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Registry } from './metrics.js';

/** What the process metrics read; `processSource()` is the real one, tests may pass their own. */
export interface ProcessSource {
  /** User and system CPU, µs (process.cpuUsage()). */
  cpuUsage(): { user: number; system: number };
  memoryUsage(): { rss: number; heapTotal: number; heapUsed: number; external: number };
  /** Open file descriptors and their limit; undefined where /proc is not available. */
  fds(): { open: number; max?: number } | undefined;
  /** Process start, epoch seconds. */
  readonly startTimeSeconds: number;
  readonly nodeVersion: string;
}

export function processSource(): ProcessSource {
  return {
    cpuUsage: () => process.cpuUsage(),
    memoryUsage: () => process.memoryUsage(),
    fds: procFds,
    startTimeSeconds: Math.round((Date.now() - process.uptime() * 1000) / 1000),
    nodeVersion: process.version,
  };
}

function procFds(): { open: number; max?: number } | undefined {
  try {
    const open = readdirSync('/proc/self/fd').length;
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+)/m.exec(limits);
    return m ? { open, max: Number(m[1]) } : { open };
  } catch {
    return undefined;
  }
}

/** Sampling period of the event-loop delay monitor, ms (prom-client's default). */
export const EVENT_LOOP_RESOLUTION_MS = 10;

export interface ProcessMetrics {
  /** Event-loop delay samples taken since the previous scrape. */
  samples(): number;
  /** Stop the event-loop delay monitor (tests; a process that exits need not call it). */
  stop(): void;
}

/**
 * Registers the process_* and nodejs_* metrics on `registry`. Call once per registry.
 * The CPU counters follow the process's own totals (they never decrease).
 */
export function registerProcessMetrics(registry: Registry, source: ProcessSource = processSource()): ProcessMetrics {
  const cpuUser = registry.counter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.');
  const cpuSystem = registry.counter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.');
  const cpuTotal = registry.counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.');
  const start = registry.gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.');
  const rss = registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.');
  const openFds = registry.gauge('process_open_fds', 'Number of open file descriptors.');
  const maxFds = registry.gauge('process_max_fds', 'Maximum number of open file descriptors.');
  const heapTotal = registry.gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.');
  const heapUsed = registry.gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.');
  const external = registry.gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.');
  const lagMin = registry.gauge('nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay since the previous scrape.');
  const lagMax = registry.gauge('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay since the previous scrape.');
  const lagMean = registry.gauge('nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays since the previous scrape.');
  const lagP50 = registry.gauge('nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays since the previous scrape.');
  const lagP99 = registry.gauge('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays since the previous scrape.');
  const version = registry.gauge('nodejs_version_info', 'Node.js version info.');

  const [major = '', minor = '', patch = ''] = source.nodeVersion.replace(/^v/, '').split('.');
  version.set(1, { version: source.nodeVersion, major, minor, patch });
  start.set(source.startTimeSeconds);

  const delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  delay.enable();
  let last = { user: 0, system: 0 };

  registry.onCollect(() => {
    const cpu = source.cpuUsage();
    const du = Math.max(0, cpu.user - last.user) / 1e6;
    const ds = Math.max(0, cpu.system - last.system) / 1e6;
    last = { user: Math.max(cpu.user, last.user), system: Math.max(cpu.system, last.system) };
    cpuUser.inc({}, du);
    cpuSystem.inc({}, ds);
    cpuTotal.inc({}, du + ds);
    const mem = source.memoryUsage();
    rss.set(mem.rss);
    heapTotal.set(mem.heapTotal);
    heapUsed.set(mem.heapUsed);
    external.set(mem.external);
    const fds = source.fds();
    if (fds) {
      openFds.set(fds.open);
      if (fds.max !== undefined) maxFds.set(fds.max);
    }
    // No sample yet (a scrape right after start or after the last reset): report nothing new.
    if (delay.count > 0) {
      lagMin.set(delay.min / 1e9);
      lagMax.set(delay.max / 1e9);
      lagMean.set(delay.mean / 1e9);
      lagP50.set(delay.percentile(50) / 1e9);
      lagP99.set(delay.percentile(99) / 1e9);
      delay.reset();
    }
  });
  return { samples: () => delay.count, stop: () => delay.disable() };
}
