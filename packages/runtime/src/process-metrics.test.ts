import { describe, expect, it } from '@jest/globals';
import { Registry } from './metrics.js';
import type { ProcessSource } from './process-metrics.js';
import { processSource, registerProcessMetrics } from './process-metrics.js';
import { eventually } from './poll.js';

/** Value of the unlabelled series `name` (or `name{labels}` when given whole) in `text`. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A process whose CPU, memory and descriptors the test moves by hand. */
class FakeProcess implements ProcessSource {
  cpu = { user: 0, system: 0 };
  mem = { rss: 50e6, heapTotal: 20e6, heapUsed: 10e6, external: 1e6 };
  openFds: number | undefined = 12;
  readonly startTimeSeconds = 1_800_000_000;
  readonly nodeVersion = 'v24.21.0';
  cpuUsage(): { user: number; system: number } {
    return { ...this.cpu };
  }
  memoryUsage(): typeof this.mem {
    return { ...this.mem };
  }
  fds(): { open: number; max?: number } | undefined {
    return this.openFds === undefined ? undefined : { open: this.openFds, max: 1024 };
  }
}

describe('registerProcessMetrics', () => {
  it("renders prom-client's default names from the process's readings at each scrape", () => {
    const r = new Registry();
    const p = new FakeProcess();
    const m = registerProcessMetrics(r, p);
    try {
      p.cpu = { user: 1_500_000, system: 500_000 };
      let text = r.render();
      expect(value(text, 'process_cpu_user_seconds_total')).toBe(1.5);
      expect(value(text, 'process_cpu_system_seconds_total')).toBe(0.5);
      expect(value(text, 'process_cpu_seconds_total')).toBe(2);
      expect(value(text, 'process_resident_memory_bytes')).toBe(50e6);
      expect(value(text, 'process_start_time_seconds')).toBe(1_800_000_000);
      expect(value(text, 'process_open_fds')).toBe(12);
      expect(value(text, 'process_max_fds')).toBe(1024);
      expect(value(text, 'nodejs_heap_size_total_bytes')).toBe(20e6);
      expect(value(text, 'nodejs_heap_size_used_bytes')).toBe(10e6);
      expect(value(text, 'nodejs_external_memory_bytes')).toBe(1e6);
      expect(text).toContain('nodejs_version_info{major="24",minor="21",patch="0",version="v24.21.0"} 1');
      expect(text).toContain('# TYPE process_cpu_seconds_total counter');
      expect(text).toContain('# TYPE process_resident_memory_bytes gauge');

      p.cpu = { user: 2_000_000, system: 1_000_000 };
      p.mem = { ...p.mem, rss: 60e6 };
      p.openFds = 13;
      text = r.render();
      expect(value(text, 'process_cpu_seconds_total')).toBe(3);
      expect(value(text, 'process_resident_memory_bytes')).toBe(60e6);
      expect(value(text, 'process_open_fds')).toBe(13);
    } finally {
      m.stop();
    }
  });

  it('keeps the CPU counters monotonic and leaves the fd gauges out where /proc is missing', () => {
    const r = new Registry();
    const p = new FakeProcess();
    p.openFds = undefined;
    const m = registerProcessMetrics(r, p);
    try {
      p.cpu = { user: 2_000_000, system: 0 };
      r.render();
      p.cpu = { user: 1_000_000, system: 0 }; // a source that goes back must not make a counter decrease
      const text = r.render();
      expect(value(text, 'process_cpu_user_seconds_total')).toBe(2);
      expect(text).not.toMatch(/^process_open_fds /m);
      expect(text).not.toMatch(/^process_max_fds /m);
    } finally {
      m.stop();
    }
  });

  it('reads the real process: CPU grows with work, RSS and heap are positive', () => {
    const r = new Registry();
    const m = registerProcessMetrics(r, processSource());
    try {
      const before = value(r.render(), 'process_cpu_seconds_total')!;
      const until = process.cpuUsage().user + 50_000;
      let x = 0;
      while (process.cpuUsage().user < until) x += Math.sqrt(x + 1);
      const text = r.render();
      expect(x).toBeGreaterThan(0);
      expect(value(text, 'process_cpu_seconds_total')! - before).toBeGreaterThanOrEqual(0.05);
      expect(value(text, 'process_resident_memory_bytes')).toBeGreaterThan(1e6);
      expect(value(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
      expect(value(text, 'process_open_fds')).toBeGreaterThan(2);
      expect(value(text, 'process_start_time_seconds')).toBeLessThanOrEqual(Date.now() / 1000);
    } finally {
      m.stop();
    }
  });

  it('reports an event loop blocked for 100 ms as a delay of about that much, then resets', async () => {
    const r = new Registry();
    const m = registerProcessMetrics(r, processSource());
    try {
      // The monitor's timer starts on the loop's next turn: wait for its first samples, and the scrape
      // resets the interval; Node drops the first sample after a reset, so wait for one more.
      await eventually(() => Promise.resolve(value(r.render(), 'nodejs_eventloop_lag_p50_seconds') !== undefined), 2_000, 'first event-loop samples');
      await eventually(() => Promise.resolve(m.samples() > 0), 2_000, 'a sample after the reset');
      const before = m.samples();
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); // block the loop for 100 ms
      // Scrape only after the monitor's late tick has recorded the blocked turn (a scrape before it
      // would reset the interval and Node would drop that tick).
      await eventually(() => Promise.resolve(m.samples() > before), 2_000, 'the tick after the block');
      expect(value(r.render(), 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.08);
      // The scrape that saw it started a new interval.
      expect(m.samples()).toBe(0);
    } finally {
      m.stop();
    }
  });
});
