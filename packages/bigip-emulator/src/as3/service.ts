import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../clock.js';
import { isF5RestError } from '../errors.js';
import type { LtmConfig } from '../state/config.js';
import { ADC_PROPERTIES } from './classes.js';
import { applyTenant, isTenantRemoval, projectTenant, removeTenant, tenantObjects } from './translate.js';
import { as3SchemaErrors } from './schema.js';
import { validateDeclaration } from './validate.js';
import type { As3Request, Json } from './validate.js';

export const AS3_INFO = { version: '3.56.0', release: '10', schemaCurrent: '3.56.0', schemaMinimum: '3.0.0' };
const MAX_TASKS = 25;
const TASK_BASE = 'https://localhost/mgmt/shared/appsvcs/task';

export interface TenantResult {
  code?: number;
  message: string;
  response?: string;
  lineCount?: number;
  host: string;
  tenant?: string;
  runTime?: number;
  dryRun?: boolean;
}

export interface As3Reply {
  status: number;
  body?: unknown;
}

interface TaskRecord {
  id: string;
  done: boolean;
  results: TenantResult[];
  declaration: Json;
}

export interface As3Options {
  clock: Clock;
  config: LtmConfig;
  /**
   * Throws when configuration writes are refused (frozen-configuration fault) or when the apply of
   * this tenant is made to fail (per-tenant fault: the other tenants still apply).
   */
  assertWritable(tenant: string): void;
  /** How long an apply takes, in ms (0: immediate); while it runs other declarations get 503. */
  applyMs(): number;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (isObject(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableStringify(value[k])}`).join(',')}}`;
  return JSON.stringify(value);
}

const BUSY = { status: 503, body: { code: 503, message: 'Error: Configuration operation in progress on device undefined, please try again in 2 minutes' } };

/**
 * The AS3 service: stores the declaration per tenant, applies tenants to the LTM configuration
 * (each tenant all-or-nothing), answers "no change" when a tenant would not change, and keeps the
 * last 25 task records. One declaration is applied at a time; others get 503 meanwhile.
 */
export class As3Service {
  private tenants = new Map<string, Json>();
  private meta: Json = {};
  private tasks: TaskRecord[] = [];
  private busy = false;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: As3Options) {}

  reset(): void {
    this.tenants.clear();
    this.meta = {};
    this.tasks = [];
  }

  /** The stored declaration, or just the named tenant's; undefined when there is none (204). */
  declaration(tenant?: string): Json | undefined {
    if (this.tenants.size === 0) return undefined;
    if (tenant !== undefined && !this.tenants.has(tenant)) return undefined;
    const selected = tenant === undefined ? [...this.tenants] : [[tenant, this.tenants.get(tenant)] as const];
    return { class: 'ADC', schemaVersion: AS3_INFO.schemaCurrent, ...this.meta, ...Object.fromEntries(selected) };
  }

  /** POST /declare[/t1,t2]: validate, then apply synchronously or as an async task. */
  async declare(body: unknown, only: string[] | undefined, async: boolean): Promise<As3Reply> {
    const schemaErrors = as3SchemaErrors(body);
    if (schemaErrors.length > 0) return { status: 422, body: { code: 422, errors: schemaErrors, message: 'declaration is invalid', declarationFullId: '' } };
    const validation = validateDeclaration(body);
    if (!validation.ok) return { status: 422, body: { code: 422, errors: validation.errors, message: 'declaration is invalid', declarationFullId: '' } };
    const request = validation.request;
    if (request.action === 'retrieve') return { status: 200, body: this.declaration() ?? {} };
    if (this.busy) return BUSY;
    this.busy = true;
    const task: TaskRecord = { id: randomUUID(), done: false, results: [], declaration: {} };
    this.remember(task);
    const run = this.run(task, request, only).finally(() => { this.busy = false; });
    if (!async) {
      await run;
      return { status: this.statusOf(task.results), body: this.renderTask(task, false) };
    }
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
    return { status: 202, body: { id: task.id, results: [{ message: 'Declaration successfully submitted', tenant: '', runTime: 0, code: 0, host: '' }], declaration: {}, selfLink: `${TASK_BASE}/${task.id}` } };
  }

  /** DELETE /declare[/t1,t2]: removes the named tenants (all when none named). */
  async remove(only: string[] | undefined): Promise<As3Reply> {
    const names = only ?? [...this.tenants.keys()];
    const adc: Json = { class: 'ADC', schemaVersion: AS3_INFO.schemaCurrent, ...Object.fromEntries(names.map((n) => [n, { class: 'Tenant' }])) };
    return this.declare({ class: 'AS3', action: 'deploy', declaration: adc }, undefined, false);
  }

  /** Waits for every async apply in flight (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  taskList(): Json {
    return { items: this.tasks.map((t) => this.renderTask(t, true)) };
  }

  task(id: string): As3Reply {
    const task = this.tasks.find((t) => t.id === id);
    if (!task) return { status: 404, body: { code: 404, message: `No record found with ID of ${id}` } };
    return { status: 200, body: this.renderTask(task, true) };
  }

  private remember(task: TaskRecord): void {
    this.tasks.push(task);
    if (this.tasks.length > MAX_TASKS) this.tasks.splice(0, this.tasks.length - MAX_TASKS);
  }

  private renderTask(task: TaskRecord, withId: boolean): Json {
    const results = task.done ? task.results : [{ message: 'in progress', tenant: '', host: '', runTime: 0, code: 0 }];
    return { ...(withId ? { id: task.id } : {}), results, declaration: task.done ? task.declaration : {}, ...(withId ? { selfLink: `${TASK_BASE}/${task.id}` } : {}) };
  }

  private statusOf(results: TenantResult[]): number {
    const codes = results.map((r) => r.code ?? 200);
    if (codes.every((c) => c === 200)) return 200;
    if (codes.every((c) => c !== 200)) return 422;
    return 207;
  }

  private async run(task: TaskRecord, request: As3Request, only: string[] | undefined): Promise<void> {
    const delay = this.options.applyMs();
    if (delay > 0) await sleep(delay);
    const { config } = this.options;
    const before = config.snapshot();
    const targets = this.targets(request, only);
    task.results = targets.length === 0
      ? [{ message: 'no change', host: 'localhost', code: 200 }]
      : targets.map(([name, decl]) => this.applyOne(name, decl, request));
    if (request.dryRun) {
      config.restore(before);
      task.results = task.results.map((r) => ({ ...r, dryRun: true }));
    } else {
      this.meta = Object.fromEntries(Object.entries(request.adc).filter(([k]) => ADC_PROPERTIES.has(k) && k !== 'controls'));
    }
    task.declaration = this.declaration() ?? {};
    task.done = true;
  }

  /** Tenants to act on: the declaration's (only the listed ones when a list is given), plus removals. */
  private targets(request: As3Request, only: string[] | undefined): Array<[string, Json | undefined]> {
    const chosen = request.tenants.filter((t) => only === undefined || only.includes(t));
    const targets: Array<[string, Json | undefined]> = chosen.map((t) => [t, request.action === 'remove' ? undefined : request.adc[t] as Json]);
    if (request.adc.updateMode === 'complete' && only === undefined && request.action === 'deploy') {
      for (const stored of this.tenants.keys()) if (!chosen.includes(stored)) targets.push([stored, undefined]);
    }
    return targets;
  }

  private applyOne(tenant: string, decl: Json | undefined, request: As3Request): TenantResult {
    const started = this.options.clock.now();
    const { config } = this.options;
    const removal = decl === undefined || isTenantRemoval(decl);
    const finish = (r: Omit<TenantResult, 'host' | 'tenant' | 'runTime'>): TenantResult => ({ ...r, host: 'localhost', tenant, runTime: this.options.clock.now() - started });
    if (removal && !this.tenants.has(tenant)) return finish({ code: 200, message: 'no change' });
    const before = config.snapshot();
    const previous = projectTenant(config, tenant);
    try {
      this.options.assertWritable(tenant);
      if (removal) removeTenant(config, tenant);
      else applyTenant(config, tenantObjects(tenant, decl));
    } catch (err) {
      if (!isF5RestError(err)) throw err;
      return finish({ code: 422, message: 'declaration failed', response: err.message });
    }
    const unchanged = !removal && projectTenant(config, tenant) === previous && stableStringify(this.tenants.get(tenant)) === stableStringify(decl);
    if (unchanged) {
      config.restore(before);
      return finish({ code: 200, message: 'no change' });
    }
    if (!request.dryRun) {
      if (removal) this.tenants.delete(tenant);
      else this.tenants.set(tenant, decl);
    }
    return finish({ code: 200, message: 'success', lineCount: projectTenant(config, tenant).length > 0 ? this.lineCount(tenant) : 0 });
  }

  private lineCount(tenant: string): number {
    const { config } = this.options;
    const pools = config.listPools(tenant);
    return 1 + pools.length + pools.reduce((n, p) => n + p.members.length, 0) + config.listVirtuals(tenant).length;
  }
}
