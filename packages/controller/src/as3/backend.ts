/**
 * The AS3 backend: one declaration holding only the tenants (partitions) whose content BIG-IP
 * holds differs from ours, never an unchanged one. Answers: 200 and 207 read per tenant (a tenant
 * that applied is done, a failed one is retried), 202 polls the task, a 422 tenant is logged and
 * not sent again unchanged, 503 is `busy` (the caller backs off). A tenant edited by hand through AS3 differs, so the next sync repairs it.
 */
import type { Clock } from '@npl/runtime';
import { realClock } from '@npl/runtime';
import type { Logger } from 'pino';
import type { Backend, SyncReport } from '../backend/types.js';
import type { BigipClient } from '../bigip/client.js';
import { BigipError, classifyResponse, isBigipError } from '../bigip/classify.js';
import type { DesiredState } from '../model.js';
import type { Json } from './declaration.js';
import { buildDeclaration, buildTenant } from './declaration.js';

const BASE = '/mgmt/shared/appsvcs';

export interface As3BackendOptions {
  readonly client: BigipClient;
  readonly partition: string;
  readonly clock?: Clock;
  /** Post with `?async=true` and poll the task (default false: AS3 answers synchronously). */
  readonly async?: boolean;
  /** Between two task polls, ms. Default 1 s. */
  readonly pollMs?: number;
  /** Give up polling a task after this long, ms (the sync fails as busy). Default 10 min. */
  readonly taskTimeoutMs?: number;
  readonly userAgent?: string;
  /**
   * A declaration AS3 refused (422) is sent again unchanged only after this long, ms (default 10 min):
   * a change of the desired state sends at once. The slow retry heals refusals caused by something
   * outside the declaration (a monitor created later, a configuration lock).
   */
  readonly rejectedRetryMs?: number;
  readonly logger?: Logger;
}

interface TenantResult {
  readonly code?: number;
  readonly message?: string;
  readonly response?: string;
  readonly tenant?: string;
}

/** JSON with object keys sorted, so equal tenants compare equal as text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

interface Rejection {
  readonly text: string;
  readonly message: string;
  readonly at: number;
}

interface TenantPlan {
  readonly name: string;
  readonly tenant: Json;
  readonly text: string;
  readonly pools: number;
}

export class As3Backend implements Backend {
  readonly kind = 'as3' as const;
  private readonly options: As3BackendOptions;
  private readonly clock: Clock;
  /** Per tenant: the declaration AS3 last refused (422), why, and when; not sent again before `rejectedRetryMs`. */
  private readonly rejected = new Map<string, Rejection>();
  private infoChecked = false;

  constructor(options: As3BackendOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
  }

  /** AS3's `/info` (version, release, schemaCurrent). A 404 means AS3 is not installed (`notFound`). */
  async info(): Promise<{ version: string; release: string; schemaCurrent: string }> {
    const res = await this.options.client.request('GET', `${BASE}/info`);
    const body = (res.body ?? {}) as Record<string, unknown>;
    const field = (key: string): string => (typeof body[key] === 'string' ? body[key] : '');
    return { version: field('version'), release: field('release'), schemaCurrent: field('schemaCurrent') };
  }

  /** The declaration `sync` would send for `desired` (for `render`). */
  declaration(desired: DesiredState): Json {
    return buildDeclaration({ [desired.partition]: buildTenant(desired) }, this.options.userAgent ? { userAgent: this.options.userAgent } : {});
  }

  /** The tenant as AS3 holds it now, or undefined. */
  async observe(tenant = this.options.partition): Promise<unknown> {
    const { client } = this.options;
    try {
      const res = await client.request('GET', `${BASE}/declare/${encodeURIComponent(tenant)}`);
      if (res.status === 204) return undefined;
      return (res.body as Record<string, unknown> | undefined)?.[tenant];
    } catch (err) {
      if (isBigipError(err, 'notFound')) return undefined;
      throw err;
    }
  }

  async sync(desired: DesiredState): Promise<SyncReport> {
    return this.syncTenants([desired]);
  }

  /**
   * Makes every tenant (one DesiredState per partition) match, in one declaration holding only the
   * tenants that differ from what AS3 holds. AS3 answers per tenant (207 when mixed): the tenants
   * that applied are done and are not sent again; a failed one is retried by the next call (a 422
   * only once it changed or after `rejectedRetryMs`). Throws the first failure (classified) after
   * reading every result; the report of the tenants that applied is then lost, not their effect.
   */
  async syncTenants(states: readonly DesiredState[]): Promise<SyncReport> {
    if (!this.infoChecked) {
      const info = await this.info();
      this.options.logger?.info(info, 'AS3 found');
      this.infoChecked = true;
    }
    const differing: TenantPlan[] = [];
    for (const state of states) {
      const tenant = buildTenant(state);
      const text = canonicalJson(tenant);
      if (canonicalJson(await this.observe(state.partition)) !== text) differing.push({ name: state.partition, tenant, text, pools: state.pools.length });
    }
    const held = differing.filter((t) => this.isHeldBack(t));
    const toSend = differing.filter((t) => !this.isHeldBack(t));
    if (toSend.length > 0) await this.post(toSend);
    const first = held[0];
    if (first) {
      const r = this.rejected.get(first.name)!;
      throw new BigipError({ errorClass: 'invalid', method: 'POST', path: `${BASE}/declare/${first.name}`, status: 422, f5Message: `not sent again: ${r.message}` });
    }
    return { writes: toSend.length > 0 ? 1 : 0, changes: toSend.map((t) => `declare tenant ${t.name} (${t.pools} pools)`), resyncNeeded: false };
  }

  private isHeldBack(t: TenantPlan): boolean {
    const r = this.rejected.get(t.name);
    return r !== undefined && r.text === t.text && this.clock.now() - r.at < (this.options.rejectedRetryMs ?? 600_000);
  }

  private async post(tenants: readonly TenantPlan[]): Promise<void> {
    const { client } = this.options;
    const names = tenants.map((t) => encodeURIComponent(t.name)).join(',');
    const path = `${BASE}/declare/${names}${this.options.async ? '?async=true' : ''}`;
    const body = buildDeclaration(Object.fromEntries(tenants.map((t) => [t.name, t.tenant])), this.options.userAgent ? { userAgent: this.options.userAgent } : {});
    let results: TenantResult[];
    try {
      const res = await client.request('POST', path, body);
      results = res.status === 202 ? await this.pollTask(res.body) : resultsOf(res.body);
    } catch (err) {
      // The whole declaration was refused (422 invalid): every tenant in it is held back.
      if (isBigipError(err, 'invalid')) for (const t of tenants) this.reject(t, err.details.f5Message);
      throw err;
    }
    this.checkTenants(tenants, results, path);
  }

  private reject(t: TenantPlan, message: string): void {
    this.rejected.set(t.name, { text: t.text, message, at: this.clock.now() });
    this.options.logger?.error({ tenant: t.name, message }, 'AS3 rejected the tenant; it will not be sent again unchanged');
  }

  /** Per-tenant results: a tenant that applied forgets its rejection; the first failure is thrown after all are read. */
  private checkTenants(tenants: readonly TenantPlan[], results: readonly TenantResult[], path: string): void {
    let failure: BigipError | undefined;
    for (const t of tenants) {
      const err = tenantFailure(t.name, results.find((r) => r.tenant === t.name) ?? (tenants.length === 1 ? results[0] : undefined), path);
      if (!err) {
        this.rejected.delete(t.name);
        continue;
      }
      if (err.errorClass === 'invalid') this.reject(t, err.details.f5Message);
      failure ??= err;
    }
    if (failure) throw failure;
  }

  private async pollTask(accepted: unknown): Promise<TenantResult[]> {
    const id = (accepted as { id?: unknown } | undefined)?.id;
    const path = `${BASE}/task/${typeof id === 'string' ? id : ''}`;
    const deadline = this.clock.now() + (this.options.taskTimeoutMs ?? 600_000);
    for (;;) {
      await this.clock.sleep(this.options.pollMs ?? 1_000);
      const results = resultsOf((await this.options.client.request('GET', path)).body);
      if (!results.some((r) => r.message === 'in progress')) return results;
      if (this.clock.now() > deadline) {
        throw new BigipError({ errorClass: 'busy', method: 'GET', path, status: 200, f5Message: 'AS3 task still in progress at the deadline' });
      }
    }
  }
}

/** The failure a tenant's result reports, or undefined when it applied (200, "no change"). */
function tenantFailure(tenant: string, result: TenantResult | undefined, path: string): BigipError | undefined {
  const code = result?.code ?? 200;
  if (code === 200 || code === 0) return undefined;
  const message = [result?.message, result?.response].filter((x) => x !== undefined).join(': ');
  return new BigipError({ errorClass: classifyResponse(code, message), method: 'POST', path, status: code, f5Message: `tenant ${tenant}: ${message}` });
}

function resultsOf(body: unknown): TenantResult[] {
  const results = (body as { results?: unknown } | undefined)?.results;
  return Array.isArray(results) ? (results as TenantResult[]) : [];
}
