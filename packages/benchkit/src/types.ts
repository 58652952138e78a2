/**
 * The benchmark result format (schema 1), the contract between every benchmark and the renderer of
 * docs/benchmarks.md: one file `docs/benchmarks/results/<id>.json` per benchmark run. See
 * packages/benchkit/README.md for the meaning of each field.
 */

export type GoalOp = '<' | '<=' | '>' | '>=' | '==';

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memGiB: number;
  readonly kernel: string;
  readonly node: string;
  /** 1-minute load average at the start and the end of the run. */
  readonly loadavgStart: number;
  readonly loadavgEnd: number;
}

export interface Goal {
  readonly op: GoalOp;
  readonly value: number;
  /** Shown instead of `<op> <value> <unit>` when present. */
  readonly text?: string;
}

export interface Baseline {
  /** What the baseline is, e.g. "iptables-nft at 30,000 mappings". Measured in the same run, never copied. */
  readonly name: string;
  readonly median: number;
  readonly runs?: readonly number[];
}

export interface Figure {
  readonly name: string;
  readonly unit: string;
  /** The median of `runs`. */
  readonly median: number;
  /** Every measured value. */
  readonly runs: readonly number[];
  readonly goal?: Goal;
  readonly baseline?: Baseline;
  /** median / baseline.median; the renderer computes it when absent. */
  readonly ratio?: number;
  /** Default true; decides nothing about `goal` (its op does), only how a ratio reads. */
  readonly lowerIsBetter?: boolean;
}

export interface Table {
  readonly title?: string;
  readonly columns: readonly string[];
  /** Cells: text, a number, or null for "no value" (shown as –; an optional addition to the contract). */
  readonly rows: readonly (readonly (string | number | null)[])[];
}

export interface Axis {
  readonly label: string;
  readonly unit?: string;
  readonly log?: boolean;
  /** Optional (additive to the contract): force the axis to start at this value (linear axes). */
  readonly min?: number;
}

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface Chart {
  /** File name (without .svg) under docs/benchmarks/; unique across all results. */
  readonly id: string;
  readonly title: string;
  readonly x: Axis;
  readonly y: Axis;
  readonly series: readonly Series[];
}

export interface BenchResult {
  readonly schema: 1;
  /** `<package>.<bench>`, kebab case: "agent.service-rollout". */
  readonly id: string;
  readonly title: string;
  /** Position in the document, lower first; default 100. */
  readonly order?: number;
  readonly section: string;
  /** How to rerun exactly this (repository-relative). */
  readonly command: string;
  /** ISO 8601 of the run's start. */
  readonly date: string;
  readonly durationSeconds: number;
  readonly machine: Machine;
  /** Markdown: what is measured and how. */
  readonly description: string;
  readonly figures: readonly Figure[];
  readonly tables?: readonly Table[];
  readonly charts?: readonly Chart[];
  /** Markdown: interpretation, where the time goes, caveats. */
  readonly notes?: string;
}

/**
 * What a benchmark knows before it measures: checked at the start of a run (`validateHeader`), so a
 * long run cannot fail only at its end on a bad title or id.
 */
export type ResultHeader = Pick<BenchResult, 'id' | 'title' | 'order' | 'section' | 'command' | 'description'>;

export const DEFAULT_ORDER = 100;
