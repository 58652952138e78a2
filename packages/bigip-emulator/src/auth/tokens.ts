import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { F5RestError } from '../errors.js';

export const DEFAULT_TOKEN_TIMEOUT_S = 1200;
export const MAX_TOKEN_TIMEOUT_S = 36000;
const MAX_TOKENS_PER_USER = 100;

export interface TokenRecord {
  token: string;
  userName: string;
  /** Seconds from `startMs` to expiry. */
  timeout: number;
  startMs: number;
  lastUpdateMs: number;
  address: string;
  generation: number;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function newTokenId(): string {
  return [...randomBytes(26)].map((b) => BASE32[b % 32]).join('');
}

function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/**
 * Auth tokens as BIG-IP keeps them: each lives `timeout` seconds from its start (default 1200,
 * extendable up to 36000); an expired token is gone. Users other than `admin` hold at most 100.
 */
export class TokenStore {
  private readonly tokens = new Map<string, TokenRecord>();

  constructor(private readonly clock: Clock) {}

  issue(userName: string, address: string): TokenRecord {
    this.sweep();
    const held = [...this.tokens.values()].filter((t) => t.userName === userName).length;
    if (userName !== 'admin' && held >= MAX_TOKENS_PER_USER) {
      throw new F5RestError(400, `User ${userName} has reached maximum active login tokens.`);
    }
    const now = this.clock.now();
    const record: TokenRecord = { token: newTokenId(), userName, timeout: DEFAULT_TOKEN_TIMEOUT_S, startMs: now, lastUpdateMs: now, address, generation: 1 };
    this.tokens.set(record.token, record);
    return record;
  }

  /** The live token, or undefined when unknown or expired (an expired token is dropped). */
  find(token: string): TokenRecord | undefined {
    const record = this.tokens.get(token);
    if (!record) return undefined;
    if (this.clock.now() >= this.expiresAtMs(record)) {
      this.tokens.delete(token);
      return undefined;
    }
    return record;
  }

  /** PATCH: a new `timeout` (seconds, from the token's start) up to 36000, or just a touch when undefined. */
  extend(token: string, timeout: number | undefined): TokenRecord {
    const record = this.find(token);
    if (!record) throw tokenNotFound(token);
    if (timeout !== undefined) {
      if (!Number.isInteger(timeout) || timeout < 0) throw new F5RestError(400, `Invalid value for timeout: ${String(timeout)}.`);
      if (timeout > MAX_TOKEN_TIMEOUT_S) throw new F5RestError(406, `Auth-token absolute timeout (${MAX_TOKEN_TIMEOUT_S} seconds) exceeded.`);
      record.timeout = timeout;
    }
    record.lastUpdateMs = this.clock.now();
    record.generation += 1;
    return record;
  }

  revoke(token: string): TokenRecord {
    const record = this.find(token);
    if (!record) throw tokenNotFound(token);
    this.tokens.delete(token);
    return record;
  }

  /** Expires every token now (the "token expiry" fault). */
  expireAll(): void {
    this.tokens.clear();
  }

  count(): number {
    this.sweep();
    return this.tokens.size;
  }

  expiresAtMs(record: TokenRecord): number {
    return record.startMs + record.timeout * 1000;
  }

  private sweep(): void {
    for (const token of [...this.tokens.keys()]) this.find(token);
  }

  /** The token object as BIG-IP renders it (`shared:authz:tokens:authtokenitemstate`). */
  render(record: TokenRecord): Record<string, unknown> {
    return {
      token: record.token,
      name: record.token,
      userName: record.userName,
      authProviderName: 'tmos',
      user: { link: `https://localhost/mgmt/shared/authz/users/${record.userName}` },
      groupReferences: [],
      timeout: record.timeout,
      startTime: formatTime(record.startMs),
      address: record.address,
      partition: '[All]',
      generation: record.generation,
      lastUpdateMicros: record.lastUpdateMs * 1000,
      expirationMicros: this.expiresAtMs(record) * 1000,
      kind: 'shared:authz:tokens:authtokenitemstate',
      selfLink: `https://localhost/mgmt/shared/authz/tokens/${record.token}`,
    };
  }
}

function tokenNotFound(token: string): F5RestError {
  return new F5RestError(404, `Token ${token} does not exist.`, { apiError: 1 });
}
