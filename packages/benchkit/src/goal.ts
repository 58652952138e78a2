/** Goals and ratios of a figure. Pure. */
import type { Figure, Goal } from './types.js';
import { withUnit } from './format.js';

export function goalMet(goal: Goal, value: number): boolean {
  switch (goal.op) {
    case '<':
      return value < goal.value;
    case '<=':
      return value <= goal.value;
    case '>':
      return value > goal.value;
    case '>=':
      return value >= goal.value;
    case '==':
      return value === goal.value;
  }
}

export function goalText(goal: Goal, unit: string): string {
  return goal.text ?? `${goal.op === '==' ? '=' : goal.op} ${withUnit(goal.value, unit)}`;
}

/** The figure's ratio to its baseline (given, or median / baseline median); undefined without one. */
export function figureRatio(f: Figure): number | undefined {
  if (!f.baseline) return undefined;
  if (f.ratio !== undefined) return f.ratio;
  return f.baseline.median === 0 ? undefined : f.median / f.baseline.median;
}
