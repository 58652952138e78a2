/** Driver options from the environment (set by `pnpm e2e`, see e2e/run.sh). */

/** NPL_E2E_SLOT when set (0-7), else `fallback`; throws naming the variable on a bad value. */
export function slotFromEnv(fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.NPL_E2E_SLOT;
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-7]$/.test(raw)) throw new Error(`NPL_E2E_SLOT=${JSON.stringify(raw)}: expected a kind address slot 0-7`);
  return Number(raw);
}
