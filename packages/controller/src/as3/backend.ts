/**
 * The AS3 backend: one declaration per tenant (our partition), sent only when the tenant BIG-IP
 * holds differs from ours, never an unchanged one. Answers: 200 and 207 read per tenant, 202 polls
 * the task, 422 is logged and that declaration is not sent again, 503 is `busy` (the caller backs
 * off). A tenant edited by hand through AS3 differs, so the next sync repairs it.
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

export class As3Backend implements Backend {
  readonly kind = 'as3' as const;
  private readonly options: As3BackendOptions;
  private readonly clock: Clock;
  /** The last tenant AS3 refused with 422, why, and when: not sent again before `rejectedRetryMs`. */
  private rejected: { tenant: string; message: string; at: number } | undefined;
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
  async observe(): Promise<unknown> {
    const { client, partition } = this.options;
    try {
      const res = await client.request('GET', `${BASE}/declare/${encodeURIComponent(partition)}`);
      if (res.status === 204) return undefined;
      return (res.body as Record<string, unknown> | undefined)?.[partition];
    } catch (err) {
      if (isBigipError(err, 'notFound')) return undefined;
      throw err;
    }
  }

  async sync(desired: DesiredState): Promise<SyncReport> {
    const { partition } = this.options;
    if (!this.infoChecked) {
      const info = await this.info();
      this.options.logger?.info(info, 'AS3 found');
      this.infoChecked = true;
    }
    const tenant = buildTenant(desired);
    const text = canonicalJson(tenant);
    if (canonicalJson(await this.observe()) === text) return { writes: 0, changes: [], resyncNeeded: false };
    if (this.rejected?.tenant === text && this.clock.now() - this.rejected.at < (this.options.rejectedRetryMs ?? 600_000)) {
      throw new BigipError({ errorClass: 'invalid', method: 'POST', path: `${BASE}/declare/${partition}`, status: 422, f5Message: `not sent again: ${this.rejected.message}` });
    }
    await this.post(tenant, text);
    return { writes: 1, changes: [`declare tenant ${partition} (${desired.pools.length} pools)`], resyncNeeded: false };
  }

  private async post(tenant: Json, text: string): Promise<void> {
    const { client, partition } = this.options;
    const path = `${BASE}/declare/${encodeURIComponent(partition)}${this.options.async ? '?async=true' : ''}`;
    const body = buildDeclaration({ [partition]: tenant }, this.options.userAgent ? { userAgent: this.options.userAgent } : {});
    try {
      const res = await client.request('POST', path, body);
      const results = res.status === 202 ? await this.pollTask(res.body) : resultsOf(res.body);
      this.checkTenant(results, path);
    } catch (err) {
      if (isBigipError(err, 'invalid')) {
        this.rejected = { tenant: text, message: err.details.f5Message, at: this.clock.now() };
        this.options.logger?.error({ tenant: partition, message: err.details.f5Message }, 'AS3 rejected the declaration; it will not be sent again unchanged');
      }
      throw err;
    }
  }

  private checkTenant(results: readonly TenantResult[], path: string): void {
    const mine = results.find((r) => r.tenant === this.options.partition) ?? results[0];
    const code = mine?.code ?? 200;
    if (code === 200 || code === 0) return;
    const message = [mine?.message, mine?.response].filter((x) => x !== undefined).join(': ');
    throw new BigipError({ errorClass: classifyResponse(code, message), method: 'POST', path, status: code, f5Message: message });
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

function resultsOf(body: unknown): TenantResult[] {
  const results = (body as { results?: unknown } | undefined)?.results;
  return Array.isArray(results) ? (results as TenantResult[]) : [];
}
