/**
 * The one way the controller talks to BIG-IP: HTTPS (TLS verified unless told otherwise), token
 * auth with refresh before expiry and one re-login on 401, HTTP Basic as fallback, every failure a
 * classified BigipError. Credentials are read through a callback on each login (a rotated Secret
 * takes effect) and never logged.
 */
import http from 'node:http';
import https from 'node:https';
import type { Clock } from '@npl/runtime';
import { realClock } from '@npl/runtime';
import type { Logger } from 'pino';
import { BigipError, classifyResponse } from './classify.js';

export interface BigipCredentials {
  readonly username: string;
  readonly password: string;
}

export type AuthMode = 'token' | 'basic';

export interface BigipClientOptions {
  /** `https://host[:port]`, no path. */
  readonly url: string;
  readonly credentials: () => BigipCredentials;
  /** PEM bundle to trust instead of the system CAs. */
  readonly ca?: string;
  /** Skip TLS verification (tests and labs only; the caller logs a warning). */
  readonly insecure?: boolean;
  /** `token` (default; falls back to Basic when the device has no token login) or `basic`. */
  readonly auth?: AuthMode;
  readonly clock?: Clock;
  /** Whole-request timeout, ms. Default 120 s (AS3 answers synchronously for up to 45 s). */
  readonly timeoutMs?: number;
  /** Refresh the token this long before it expires, ms. Default 60 s. */
  readonly refreshMarginMs?: number;
  /** Called for every answer (status 0 when none came), for metrics. */
  readonly onResponse?: (method: string, status: number) => void;
  readonly logger?: Logger;
}

export interface BigipResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface RequestOptions {
  readonly headers?: Readonly<Record<string, string>>;
}

interface Token {
  readonly value: string;
  /** Seconds from its start the device keeps it. */
  readonly timeout: number;
  readonly startedAt: number;
  readonly expiresAt: number;
}

/** The most a token's timeout can be extended to (BIG-IP answers 406 above). */
const MAX_TOKEN_TIMEOUT_S = 36_000;
const TOKEN_EXTENSION_S = 1_200;

function resultsText(results: unknown): string {
  if (!Array.isArray(results)) return '';
  return results
    .map((r: { tenant?: unknown; message?: unknown; response?: unknown }) => [r.tenant, r.message, r.response].filter((x) => typeof x === 'string' && x !== '').join(': '))
    .filter((x) => x !== '')
    .join('; ');
}

function f5Message(body: unknown, fallback: string): string {
  if (typeof body === 'object' && body !== null) {
    const o = body as { message?: unknown; errors?: unknown; results?: unknown };
    const errors = Array.isArray(o.errors) ? ` ${o.errors.map(String).join('; ')}` : '';
    if (typeof o.message === 'string') return `${o.message}${errors}`;
    const results = resultsText(o.results);
    if (results !== '') return results;
  }
  return typeof body === 'string' && body !== '' ? body.slice(0, 500) : fallback;
}

export class BigipClient {
  private readonly options: BigipClientOptions;
  private readonly clock: Clock;
  private readonly agent: http.Agent;
  private readonly base: URL;
  private mode: AuthMode;
  private token: Token | undefined;
  private login: Promise<Token> | undefined;

  constructor(options: BigipClientOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.base = new URL(options.url);
    this.mode = options.auth ?? 'token';
    this.agent = this.base.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, maxSockets: 4, ...(options.ca ? { ca: options.ca } : {}), rejectUnauthorized: options.insecure !== true })
      : new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  get authMode(): AuthMode {
    return this.mode;
  }

  /**
   * Sends one request and returns a 2xx answer. Throws BigipError: the answer's class for >= 400,
   * `transport` when none came. A 401 with a token logs in again once and repeats the request.
   */
  async request(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<BigipResponse> {
    const first = await this.send(method, path, body, { ...(await this.authHeaders()), ...options.headers });
    if (first.status !== 401 || this.mode !== 'token') return this.check(method, path, first);
    this.token = undefined;
    const again = await this.send(method, path, body, { ...(await this.authHeaders()), ...options.headers });
    return this.check(method, path, again);
  }

  /** Revokes the token (best effort) and closes idle connections. */
  async close(): Promise<void> {
    const token = this.token;
    this.token = undefined;
    if (token) await this.send('DELETE', `/mgmt/shared/authz/tokens/${token.value}`, undefined, { 'x-f5-auth-token': token.value }).catch(() => undefined);
    this.agent.destroy();
  }

  private check(method: string, path: string, res: BigipResponse): BigipResponse {
    if (res.status < 400) return res;
    const message = f5Message(res.body, `HTTP ${res.status}`);
    throw new BigipError({ errorClass: classifyResponse(res.status, message), method, path, status: res.status, f5Message: message });
  }

  private basicHeader(): Record<string, string> {
    const { username, password } = this.options.credentials();
    return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
  }

  private async authHeaders(): Promise<Record<string, string>> {
    if (this.mode === 'basic') return this.basicHeader();
    const token = await this.currentToken();
    return token ? { 'x-f5-auth-token': token.value } : this.basicHeader();
  }

  private async currentToken(): Promise<Token | undefined> {
    const margin = this.options.refreshMarginMs ?? 60_000;
    const token = this.token;
    if (token && this.clock.now() < token.expiresAt - margin) return token;
    this.login ??= (token ? this.refresh(token) : this.loginNow()).finally(() => (this.login = undefined));
    this.token = await this.login;
    return this.mode === 'token' ? this.token : undefined;
  }

  /** PATCH the token's timeout further out; a fresh login when that fails or the cap is reached. */
  private async refresh(token: Token): Promise<Token> {
    const elapsed = Math.ceil((this.clock.now() - token.startedAt) / 1000);
    const timeout = Math.min(MAX_TOKEN_TIMEOUT_S, elapsed + TOKEN_EXTENSION_S);
    if (this.clock.now() >= token.expiresAt || timeout <= token.timeout) return this.loginNow();
    const path = `/mgmt/shared/authz/tokens/${token.value}`;
    const res = await this.send('PATCH', path, { timeout }, { 'x-f5-auth-token': token.value }).catch(() => undefined);
    if (res?.status !== 200) return this.loginNow();
    return { ...token, timeout, expiresAt: token.startedAt + timeout * 1000 };
  }

  private async loginNow(): Promise<Token> {
    const { username, password } = this.options.credentials();
    const path = '/mgmt/shared/authn/login';
    const res = await this.send('POST', path, { username, password, loginProviderName: 'tmos' }, {});
    if (res.status === 404) {
      this.mode = 'basic';
      this.options.logger?.warn({ url: this.options.url }, 'BIG-IP has no token login; using HTTP Basic');
      return { value: '', timeout: 0, startedAt: 0, expiresAt: Infinity };
    }
    this.check('POST', path, res);
    const token = (res.body as { token?: { token?: unknown; timeout?: unknown } }).token;
    if (typeof token?.token !== 'string') {
      throw new BigipError({ errorClass: 'invalid', method: 'POST', path, status: res.status, f5Message: 'login answer has no token.token' });
    }
    const timeout = typeof token.timeout === 'number' ? token.timeout : TOKEN_EXTENSION_S;
    const startedAt = this.clock.now();
    return { value: token.token, timeout, startedAt, expiresAt: startedAt + timeout * 1000 };
  }

  private send(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<BigipResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const url = new URL(path, this.base);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<BigipResponse>((resolve, reject) => {
      const fail = (err: Error): void => {
        this.options.onResponse?.(method, 0);
        reject(new BigipError({ errorClass: 'transport', method, path: url.pathname, status: 0, f5Message: err.message }, { cause: err }));
      };
      const req = transport.request(url, {
        method, agent: this.agent, timeout: this.options.timeoutMs ?? 120_000,
        headers: { accept: 'application/json', ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...headers },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          this.options.onResponse?.(method, status);
          resolve({ status, body: parseBody(Buffer.concat(chunks).toString('utf8')) });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.options.timeoutMs ?? 120_000} ms`)));
      req.on('error', fail);
      req.end(payload);
    });
  }
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
