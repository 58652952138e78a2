/** One end-to-end scenario: what it needs of a driver and what it does with its objects. */
import type { ScenarioObjects } from '../checks.js';
import type { Capability } from '../driver.js';

export interface Scenario {
  /** Antrea's test name for a ported case, else a short name of our own. */
  readonly name: string;
  /** What it proves, as a sentence. */
  readonly title: string;
  /** Driver capabilities it needs; a driver without one does not register it. */
  readonly needs: readonly Capability[];
  /** Default: SCENARIO_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** Creates its objects through `o` (deleted after it) and asserts with Jest's `expect`. */
  run(o: ScenarioObjects): Promise<void>;
}

export const SCENARIO_TIMEOUT_MS = 300_000;
