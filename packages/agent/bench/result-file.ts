/**
 * Writes one benchmark result as `docs/benchmarks/results/<id>.json` in the shape of
 * /work/bench-contract.md (schema 1), so the docs renderer (issue 12) picks it up. Self-contained on
 * purpose: the shared benchkit package is being written in parallel; its writer may replace this one.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchFigure {
  readonly name: string;
  readonly unit: string;
  readonly median: number;
  readonly runs: readonly number[];
  readonly goal?: { readonly op: '<' | '<=' | '>' | '>=' | '=='; readonly value: number; readonly text?: string };
  readonly baseline?: { readonly name: string; readonly median: number; readonly runs?: readonly number[] };
  readonly ratio?: number;
  readonly lowerIsBetter?: boolean;
}

export interface BenchTable {
  readonly title?: string;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<ReadonlyArray<string | number>>;
}

export interface BenchChart {
  readonly id: string;
  readonly title: string;
  readonly x: { readonly label: string; readonly unit?: string; readonly log?: boolean };
  readonly y: { readonly label: string; readonly unit?: string; readonly log?: boolean };
  readonly series: ReadonlyArray<{ readonly name: string; readonly points: ReadonlyArray<readonly [number, number]> }>;
}

/** What a benchmark supplies; the run's frame (date, duration, machine) comes from `beginRun`. */
export interface BenchBody {
  readonly id: string;
  readonly title: string;
  readonly order?: number;
  readonly section: string;
  readonly command: string;
  readonly description: string;
  readonly figures: readonly BenchFigure[];
  readonly tables?: readonly BenchTable[];
  readonly charts?: readonly BenchChart[];
  readonly notes?: string;
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** The median, rounded to `digits`; NaN for no values. */
export function medianOf(xs: readonly number[], digits = 4): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return round(s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, digits);
}

/** A figure with its median (and ratio to the baseline's median, when one is given). */
export function figure(f: Omit<BenchFigure, 'median' | 'ratio'>, digits = 4): BenchFigure {
  const runs = f.runs.map((x) => round(x, digits));
  const median = medianOf(runs, digits);
  const baseline = f.baseline ? { ...f.baseline, runs: f.baseline.runs?.map((x) => round(x, digits)), median: round(f.baseline.median, digits) } : undefined;
  return { ...f, runs, median, ...(baseline ? { baseline, ratio: baseline.median ? round(median / baseline.median, 3) : undefined } : {}) };
}

/** Start a run: call first; `write` adds date, duration and machine and writes the file. */
export function beginRun(): { write(body: BenchBody): string } {
  const start = Date.now();
  const loadStart = os.loadavg()[0] ?? 0;
  return {
    write(body) {
      const cpus = os.cpus();
      const result = {
        schema: 1,
        ...body,
        date: new Date(start).toISOString(),
        durationSeconds: round((Date.now() - start) / 1000, 1),
        machine: {
          cpus: cpus.length,
          cpuModel: cpus[0]?.model.trim() ?? 'unknown',
          memGiB: round(os.totalmem() / 2 ** 30, 2),
          kernel: `${os.type()} ${os.release()}`,
          node: process.version,
          loadavgStart: round(loadStart, 2),
          loadavgEnd: round(os.loadavg()[0] ?? 0, 2),
        },
      };
      const dir = path.join(repoRoot(), 'docs', 'benchmarks', 'results');
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${body.id}.json`);
      writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
      return file;
    },
  };
}

/** The repository this file is in. */
export function repoRoot(): string {
  return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: path.dirname(fileURLToPath(import.meta.url)), encoding: 'utf8' }).trim();
}
