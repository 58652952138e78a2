/**
 * What a package's `dist/` must never contain: test files, test helpers, e2e tests or benchmarks
 * (they belong in `src/**\/*.test.ts`, `src/testing/`, `e2e/`, `bench/`, which the build skips).
 * Pure: takes file paths relative to `dist/`, returns the offending ones with why.
 */
const RULES: readonly { readonly test: (segments: readonly string[], file: string) => boolean; readonly why: string }[] = [
  { test: (_s, f) => /\.test\.(js|d\.ts)(\.map)?$/.test(f), why: 'a test file' },
  { test: (s) => s.includes('testing'), why: 'a test helper (testing/)' },
  { test: (s) => s.includes('e2e'), why: 'an end-to-end test (e2e/)' },
  { test: (s) => s.includes('bench'), why: 'a benchmark (bench/)' },
];

export interface ShippedTestCode {
  readonly file: string;
  readonly why: string;
}

/** The files of a `dist/` listing that are test or bench code; [] when it is clean. */
export function shippedTestCode(files: readonly string[]): ShippedTestCode[] {
  const out: ShippedTestCode[] = [];
  for (const file of files) {
    const segments = file.split('/').slice(0, -1);
    const rule = RULES.find((r) => r.test(segments, file));
    if (rule) out.push({ file, why: rule.why });
  }
  return out;
}

/**
 * Test or bench code kept inside a package's `src/` (paths relative to the package): `e2e/` and
 * `bench/` directories and `*.e2e.test.ts` files belong outside `src/` with their own tsconfig.
 */
export function misplacedInSrc(files: readonly string[]): ShippedTestCode[] {
  const out: ShippedTestCode[] = [];
  for (const file of files) {
    if (!file.startsWith('src/')) continue;
    const segments = file.split('/').slice(1, -1);
    if (segments.includes('e2e') || file.endsWith('.e2e.test.ts')) out.push({ file, why: 'an end-to-end test: put it in e2e/ next to src/' });
    else if (segments.includes('bench')) out.push({ file, why: 'a benchmark: put it in bench/ next to src/' });
  }
  return out;
}
