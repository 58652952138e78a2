/** The machine a benchmark runs on, and the timing frame of one run. */
import os from 'node:os';
import type { BenchResult, Machine } from './types.js';

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** This machine now; `loadavgStart` is passed in by `beginRun`, `loadavgEnd` is the current load. */
export function machineInfo(loadavgStart = os.loadavg()[0] ?? 0): Machine {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() || 'unknown',
    memGiB: round2(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    loadavgStart: round2(loadavgStart),
    loadavgEnd: round2(os.loadavg()[0] ?? 0),
  };
}

/** The fields of a result that the run's frame supplies. */
export type RunFrame = Pick<BenchResult, 'schema' | 'date' | 'durationSeconds' | 'machine'>;

export interface Run {
  /** The start, the duration until now, the machine and its load at start and now. */
  finish(): RunFrame;
}

/** Start timing a benchmark run: call at its very beginning, `finish()` when it has measured. */
export function beginRun(now: () => number = Date.now): Run {
  const start = now();
  const load = os.loadavg()[0] ?? 0;
  return {
    finish: () => ({
      schema: 1,
      date: new Date(start).toISOString(),
      durationSeconds: Math.round((now() - start) / 100) / 10,
      machine: machineInfo(load),
    }),
  };
}
