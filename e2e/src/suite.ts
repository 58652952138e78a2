/**
 * The scenario suite on one driver: brings the cluster up and installs the agent in beforeAll,
 * registers every scenario whose needs the driver meets (in order: Antrea's cases, then the
 * lifecycle ones, uninstall last), collects logs into .test-results/e2e/<driver>/ when anything
 * failed, and deletes the cluster in afterAll. Phase durations are printed and written to
 * timings.json there, for the figures in docs.
 */
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeUnless } from '@npl/testkit';
import { ScenarioObjects } from './checks.js';
import type { Driver } from './driver.js';
import { ANTREA_SCENARIOS } from './scenarios/antrea.js';
import { LIFECYCLE_SCENARIOS } from './scenarios/lifecycle.js';
import type { Scenario } from './scenarios/scenario.js';
import { SCENARIO_TIMEOUT_MS } from './scenarios/scenario.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Namespace of every test Pod and Service. */
export const TEST_NAMESPACE = 'npl-e2e';
/** Cluster creation on a cold machine builds images and a node image: allow for it. */
const SETUP_TIMEOUT_MS = 60 * 60_000;

export const SCENARIOS: readonly Scenario[] = [...ANTREA_SCENARIOS, ...LIFECYCLE_SCENARIOS];

/** The scenarios a driver registers: those whose every need it has. */
export function scenariosFor(driver: Pick<Driver, 'capabilities'>): Scenario[] {
  return SCENARIOS.filter((s) => s.needs.every((c) => driver.capabilities.has(c)));
}

export function resultsDir(driver: Pick<Driver, 'name'>): string {
  return path.join(REPO_ROOT, '.test-results', 'e2e', driver.name);
}

/** Rejects when `p` has not settled within `ms` (so a hung scenario still counts as failed here). */
function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

export function defineSuite(driver: Driver): void {
  describeUnless(driver.skipReason, `e2e scenarios on ${driver.name}`, () => {
    let failed = false;
    const timings: Record<string, number> = {};
    const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
      const start = Date.now();
      try {
        return await fn();
      } catch (err) {
        failed = true;
        throw err;
      } finally {
        timings[what] = Date.now() - start;
        process.stderr.write(`[e2e ${driver.name}] ${what}: ${((Date.now() - start) / 1000).toFixed(1)} s\n`);
      }
    };

    beforeAll(async () => {
      rmSync(path.join(resultsDir(driver), 'logs'), { recursive: true, force: true });
      await timed('cluster up', () => driver.up(TEST_NAMESPACE));
      await timed('install', () => driver.install());
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      const dir = resultsDir(driver);
      mkdirSync(dir, { recursive: true });
      if (failed) await driver.collectLogs(path.join(dir, 'logs')).catch((err: Error) => process.stderr.write(`[e2e ${driver.name}] collecting logs failed: ${err.message}\n`));
      await timed('cluster down', () => driver.down());
      const all = { ...driver.phases, ...timings };
      writeFileSync(path.join(dir, 'timings.json'), `${JSON.stringify(all, null, 2)}\n`);
    }, 10 * 60_000);

    for (const s of scenariosFor(driver)) {
      describe(s.name, () => {
        it(s.title, async () => {
          const objects = new ScenarioObjects(driver, TEST_NAMESPACE);
          try {
            await timed(s.name, () => withDeadline(s.run(objects), s.timeoutMs ?? SCENARIO_TIMEOUT_MS, s.name));
          } finally {
            await objects.cleanup();
          }
        }, (s.timeoutMs ?? SCENARIO_TIMEOUT_MS) + 120_000);
      });
    }
  });
}
