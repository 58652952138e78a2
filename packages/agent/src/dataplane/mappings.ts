/** Pure helpers shared by both dataplanes: family checks, names and the expected-vs-installed diff. */
import { NplError, canonicalIP, ipFamilyOf, joinHostPort } from '@npl/core';
import type { DnatMapping, IPFamily } from '@npl/core';
import type { DataplaneDrift } from './types.js';

/** `61000/tcp -> 198.18.1.5:80`, as error messages name a mapping. */
export function describeMapping(m: DnatMapping): string {
  return `${m.nodePort}/${m.protocol} -> ${joinHostPort(m.podIP, m.podPort)}`;
}

/** Throws NPL_ADDRESS_INVALID unless `m` (its family and its pod IP) belongs to `family`. */
export function assertFamily(family: IPFamily, m: DnatMapping): void {
  if (m.family !== family || ipFamilyOf(m.podIP) !== family) {
    throw new NplError(
      'NPL_ADDRESS_INVALID',
      `mapping ${describeMapping(m)}: pod IP ${m.podIP} (${m.family}) does not belong in the ${family} dataplane`,
    );
  }
}

/** Identity of a mapping with its pod IP canonicalised: equal keys = same installed rule. */
export function mappingKey(m: DnatMapping): string {
  return `${m.family}/${m.protocol}/${m.nodePort}/${canonicalIP(m.podIP) ?? m.podIP}/${m.podPort}`;
}

export interface Observed {
  /** Every installed mapping that could be read back. */
  readonly installed: readonly DnatMapping[];
  /** Keys (mappingKey) of installed mappings whose rules differ from what we would install. */
  readonly damaged?: ReadonlySet<string>;
  readonly tableMissing: boolean;
  readonly staticProblems: readonly string[];
}

/** The drift between `expected` and what was observed. */
export function compareMappings(expected: readonly DnatMapping[], observed: Observed): DataplaneDrift {
  const damaged = observed.damaged ?? new Set<string>();
  const expectedKeys = new Set(expected.map(mappingKey));
  const intact = new Set(observed.installed.map(mappingKey).filter((k) => !damaged.has(k)));
  const missing = expected.filter((m) => !intact.has(mappingKey(m)));
  const unexpected = observed.installed.filter((m) => !expectedKeys.has(mappingKey(m)));
  const staticProblems = [...observed.staticProblems];
  const staticDrift = staticProblems.length > 0;
  const inSync = missing.length === 0 && unexpected.length === 0 && !staticDrift && !observed.tableMissing;
  return { missing, unexpected, tableMissing: observed.tableMissing, staticDrift, staticProblems, inSync };
}
