import type { LightMyRequestResponse } from 'fastify';
import { ManualClock } from '../clock.js';
import { createEmulator } from '../server.js';
import type { Emulator, EmulatorOptions } from '../server.js';

/** A parsed JSON response, indexable without casts in tests. */
export type Doc = { readonly [key: string]: Doc } & { readonly [index: number]: Doc };

/** The items of a JSON array as a list. */
export function list(doc: Doc | undefined): Doc[] {
  return (doc ?? []) as unknown as Doc[];
}

export const BASIC = `Basic ${Buffer.from('admin:admin').toString('base64')}`;

export interface Harness {
  emu: Emulator;
  clock: ManualClock;
  /** Sends a request with Basic admin/admin unless `headers.authorization` or a token is given. */
  call(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  json(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Doc }>;
}

/** An in-process emulator on a manual clock with partition `k8s` and no traffic forwarding. */
export async function harness(options: EmulatorOptions = {}): Promise<Harness> {
  const clock = new ManualClock();
  const emu = await createEmulator({ partitions: ['k8s'], traffic: false, clock, ...options });
  const call = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const auth = headers.authorization !== undefined || headers['x-f5-auth-token'] !== undefined ? {} : { authorization: BASIC };
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return emu.app.inject({
      method: method as 'GET', url, ...(payload !== undefined ? { payload } : {}),
      headers: { ...auth, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    });
  };
  const json = async (method: string, url: string, body?: unknown, headers?: Record<string, string>) => {
    const res = await call(method, url, body, headers);
    return { status: res.statusCode, body: (res.body === '' ? {} : JSON.parse(res.body)) as Doc };
  };
  return { emu, clock, call, json };
}

/** A JSON value as text: strings as they are, anything else as JSON. */
export function text(doc: Doc | string | undefined): string {
  return typeof doc === 'string' ? doc : JSON.stringify(doc);
}
