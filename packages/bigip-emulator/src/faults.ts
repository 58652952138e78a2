import { F5RestError } from './errors.js';

/** A fault that hits a fraction of requests, or the next `count` requests, or both (count first). */
export interface FaultRate {
  /** Probability 0..1 per request. */
  fraction?: number;
  /** How many of the next requests are hit. */
  count?: number;
}

export interface FaultSettings {
  /** Added delay before every `/mgmt` response, in ms. */
  latencyMs: number;
  /** Answer 503 instead of handling the request. */
  unavailable: FaultRate;
  /** Close the connection without any response. */
  dropConnections: FaultRate;
  /** Every configuration write (LTM, transaction commit, AS3 apply) fails with 503. */
  frozen: boolean;
  /** How long an AS3 declaration takes to apply, in ms; other declarations get 503 meanwhile. */
  as3ApplyMs: number;
  /**
   * AS3 tenants whose apply fails (result code 422 "declaration failed", as a tenant refused by
   * BIG-IP is reported) while the other tenants of the same declaration apply: a mixed result is
   * answered 207. A tenant stays failing until removed from the list.
   */
  as3FailTenants: string[];
}

export type FaultDecision = 'drop' | 'unavailable' | undefined;

function none(): FaultSettings {
  return { latencyMs: 0, unavailable: {}, dropConnections: {}, frozen: false, as3ApplyMs: 0, as3FailTenants: [] };
}

function validRate(rate: FaultRate | undefined, name: string): FaultRate {
  if (rate === undefined) return {};
  const { fraction, count } = rate;
  if (fraction !== undefined && (typeof fraction !== 'number' || fraction < 0 || fraction > 1)) {
    throw new RangeError(`${name}.fraction must be a number from 0 to 1, got ${String(fraction)}`);
  }
  if (count !== undefined && (!Number.isInteger(count) || count < 0)) {
    throw new RangeError(`${name}.count must be a non-negative integer, got ${String(count)}`);
  }
  return { ...(fraction !== undefined ? { fraction } : {}), ...(count !== undefined ? { count } : {}) };
}

function validTenants(list: unknown): string[] {
  if (!Array.isArray(list) || !list.every((t) => typeof t === 'string' && t !== '')) throw new RangeError('as3FailTenants must be a list of tenant names');
  return [...(list as string[])];
}

/**
 * Injected faults. `decide()` is asked once per `/mgmt` request; `assertWritable()` before each
 * configuration write. `random` is injectable so fractional faults are deterministic in tests.
 */
export class Faults {
  private settings: FaultSettings = none();

  constructor(private readonly random: () => number = Math.random) {}

  get current(): FaultSettings {
    return structuredClone(this.settings);
  }

  /** Merges the given settings into the current ones; throws RangeError on invalid values. */
  set(update: Partial<FaultSettings>): FaultSettings {
    const next = { ...this.settings };
    if (update.latencyMs !== undefined) {
      if (!Number.isFinite(update.latencyMs) || update.latencyMs < 0) throw new RangeError(`latencyMs must be >= 0, got ${String(update.latencyMs)}`);
      next.latencyMs = update.latencyMs;
    }
    if (update.as3ApplyMs !== undefined) {
      if (!Number.isFinite(update.as3ApplyMs) || update.as3ApplyMs < 0) throw new RangeError(`as3ApplyMs must be >= 0, got ${String(update.as3ApplyMs)}`);
      next.as3ApplyMs = update.as3ApplyMs;
    }
    if (update.unavailable !== undefined) next.unavailable = validRate(update.unavailable, 'unavailable');
    if (update.dropConnections !== undefined) next.dropConnections = validRate(update.dropConnections, 'dropConnections');
    if (update.frozen !== undefined) {
      if (typeof update.frozen !== 'boolean') throw new RangeError('frozen must be true or false');
      next.frozen = update.frozen;
    }
    if (update.as3FailTenants !== undefined) next.as3FailTenants = validTenants(update.as3FailTenants);
    this.settings = next;
    return this.current;
  }

  clear(): void {
    this.settings = none();
  }

  decide(): FaultDecision {
    if (this.hits(this.settings.dropConnections)) return 'drop';
    if (this.hits(this.settings.unavailable)) return 'unavailable';
    return undefined;
  }

  assertWritable(): void {
    if (this.settings.frozen) {
      throw new F5RestError(503, 'Configuration is frozen (emulator fault): every write is refused.', { apiError: 1 });
    }
  }

  /** Throws the error an AS3 apply of `tenant` reports when the tenant is in `as3FailTenants`. */
  assertTenantApplies(tenant: string): void {
    if (this.settings.as3FailTenants.includes(tenant)) {
      throw new F5RestError(422, `01070734:3: Configuration error: tenant ${tenant} refused (emulator fault as3FailTenants)`, { apiError: 3 });
    }
  }

  private hits(rate: FaultRate): boolean {
    if (rate.count !== undefined && rate.count > 0) {
      rate.count -= 1;
      return true;
    }
    return rate.fraction !== undefined && rate.fraction > 0 && this.random() < rate.fraction;
  }
}
