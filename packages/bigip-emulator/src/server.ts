import { setTimeout as sleep } from 'node:timers/promises';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { As3Service } from './as3/service.js';
import { TokenStore } from './auth/tokens.js';
import { systemClock } from './clock.js';
import type { Clock } from './clock.js';
import type { Credentials, EmulatorContext } from './context.js';
import { EmulatorError, invalidJson, isF5RestError } from './errors.js';
import { Faults } from './faults.js';
import { createLogger } from './logger.js';
import { RequestLog, maskTokenPath } from './request-log.js';
import { registerAs3Routes } from './routes/as3.js';
import { authenticate, registerAuthRoutes } from './routes/auth.js';
import { registerControlRoutes, resetEmulator } from './routes/emulator-control.js';
import { registerLicensingRoutes } from './routes/licensing.js';
import { rawPath, sendJson } from './routes/http-util.js';
import { registerTmRoutes } from './routes/tm.js';
import { LtmConfig } from './state/config.js';
import { generateTls } from './tls.js';
import type { GeneratedTls } from './tls.js';
import { TrafficForwarder } from './traffic.js';
import { TransactionStore } from './transactions.js';

export interface EmulatorOptions {
  /** Listen address (default 127.0.0.1). */
  address?: string;
  /** Listen port; 0 (the default) picks a free one. */
  port?: number;
  /** HTTPS with a generated self-signed CA (default true); false serves plain HTTP. */
  tls?: boolean;
  /** Extra host names/IPs for the server certificate. */
  tlsHosts?: string[];
  /** Admin credentials (default admin/admin). */
  username?: string;
  password?: string;
  /** Partitions to create at start, besides Common. */
  partitions?: string[];
  /** Forward TCP traffic for virtual servers on local addresses (default true). */
  traffic?: boolean;
  /** Time source for token and transaction expiry (default: the system clock). */
  clock?: Clock;
  /** Random source for fractional faults (default Math.random). */
  random?: () => number;
  /** pino logger (default: silent). */
  logger?: Logger;
}

/** The emulator without a socket: use `app.inject()` to talk to it. */
export interface Emulator extends EmulatorContext {
  app: FastifyInstance;
  /** The LTM configuration (alias of `config`). */
  state: LtmConfig;
  /** Resets configuration, AS3, tokens, transactions, faults and the request log. */
  reset(): void;
  /** Expires every auth token now (a fault). */
  expireTokens(): void;
  close(): Promise<void>;
}

/** A listening emulator. */
export interface RunningEmulator extends Emulator {
  /** `https://127.0.0.1:<port>` (or http://). */
  url: string;
  port: number;
  /** The CA certificate file to trust (HTTPS only). */
  caFile?: string;
  /** The CA certificate PEM (HTTPS only). */
  ca?: string;
}

function isDevicePath(request: FastifyRequest): boolean {
  return rawPath(request).startsWith('/mgmt/');
}

async function applyFaultsAndAuth(ctx: EmulatorContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (!isDevicePath(request)) return undefined;
  const decision = ctx.faults.decide();
  if (decision === 'drop') {
    ctx.requestLog.record({ method: request.method, path: maskTokenPath(rawPath(request)), status: 0, at: ctx.clock.now() });
    reply.hijack();
    request.raw.socket.destroy();
    return reply;
  }
  if (decision === 'unavailable') return sendJson(reply, 503, { code: 503, message: 'Service Unavailable', errorStack: [], apiError: 1 });
  const latency = ctx.faults.current.latencyMs;
  if (latency > 0) await sleep(latency);
  if (rawPath(request) === '/mgmt/shared/authn/login') return undefined;
  const auth = authenticate(ctx, request);
  if ('status' in auth) return sendJson(reply.header('WWW-Authenticate', 'Basic realm="Enterprise Manager"'), auth.status, auth.body);
  return undefined;
}

function installHooks(app: FastifyInstance, ctx: EmulatorContext): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body).trim();
    if (text === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(invalidJson(), undefined);
    }
  });
  app.addHook('onRequest', async (request, reply) => applyFaultsAndAuth(ctx, request, reply));
  app.addHook('onSend', async () => {
    await ctx.traffic.idle();
  });
  app.addHook('onResponse', async (request, reply) => {
    if (isDevicePath(request)) ctx.requestLog.record({ method: request.method, path: maskTokenPath(rawPath(request)), status: reply.statusCode, at: ctx.clock.now() });
  });
  app.setErrorHandler((err, request, reply) => {
    if (isF5RestError(err)) {
      if (rawPath(request).startsWith('/mgmt/shared/appsvcs')) return sendJson(reply, err.status, { code: err.status, message: err.message });
      return sendJson(reply, err.status, err.toBody());
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) return sendJson(reply, status, { code: status, message: (err as Error).message, errorStack: [] });
    request.log.error({ err }, 'request failed');
    return sendJson(reply, 500, { code: 500, message: 'Internal emulator error', errorStack: [] });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = rawPath(request);
    const message = path.startsWith('/mgmt/') ? `Public URI path not registered: ${path.slice('/mgmt'.length)}` : `Not found: ${path}`;
    return sendJson(reply, 404, { code: 404, message, errorStack: [], apiError: 1 });
  });
}

function validate(options: EmulatorOptions): Credentials {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new EmulatorError('BIGIP_EMU_OPTIONS_INVALID', `port must be an integer from 0 to 65535, got ${String(options.port)}`);
  const username = options.username ?? 'admin';
  const password = options.password ?? 'admin';
  if (username === '' || password === '') throw new EmulatorError('BIGIP_EMU_OPTIONS_INVALID', 'username and password must not be empty');
  return { username, password };
}

/** Builds the emulator (routes, state, faults) without listening. */
export async function createEmulator(options: EmulatorOptions = {}, https?: { key: string; cert: string }): Promise<Emulator> {
  const credentials = validate(options);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: 'silent' });
  const config = new LtmConfig();
  const faults = new Faults(options.random);
  const traffic = new TrafficForwarder(config, logger, options.traffic ?? true);
  const ctx: EmulatorContext = {
    clock, credentials, config, faults, traffic,
    tokens: new TokenStore(clock),
    transactions: new TransactionStore(clock),
    requestLog: new RequestLog(),
    as3: new As3Service({ clock, config, assertWritable: (tenant) => {
      faults.assertWritable();
      faults.assertTenantApplies(tenant);
    }, applyMs: () => faults.current.as3ApplyMs }),
  };
  for (const name of options.partitions ?? []) config.createPartition({ name });
  config.onChange(() => void traffic.sync());
  const app = Fastify({ loggerInstance: logger, bodyLimit: 32 * 1024 * 1024, ...(https ? { https } : {}) }) as unknown as FastifyInstance;
  installHooks(app, ctx);
  registerAuthRoutes(app, ctx);
  registerTmRoutes(app, ctx);
  registerAs3Routes(app, ctx);
  registerLicensingRoutes(app);
  registerControlRoutes(app, ctx);
  await app.ready();
  return {
    ...ctx, app, state: config,
    reset: () => resetEmulator(ctx),
    expireTokens: () => ctx.tokens.expireAll(),
    close: async () => {
      await ctx.as3.settled();
      await traffic.close();
      await app.close();
    },
  };
}

function urlHost(address: string): string {
  if (address === '0.0.0.0' || address === '') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return address.includes(':') ? `[${address}]` : address;
}

/** Starts a listening emulator: HTTPS with a generated CA unless `tls: false`. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  validate(options);
  const address = options.address ?? '127.0.0.1';
  const useTls = options.tls ?? true;
  const tls: GeneratedTls | undefined = useTls ? await generateTls({ hosts: [address, ...(options.tlsHosts ?? [])] }) : undefined;
  const emulator = await createEmulator(options, tls ? { key: tls.key, cert: tls.cert } : undefined);
  try {
    await emulator.app.listen({ host: address, port: options.port ?? 0 });
  } catch (err) {
    await emulator.close();
    await tls?.cleanup();
    throw new EmulatorError('BIGIP_EMU_LISTEN_FAILED', `the emulator could not listen on ${address}:${String(options.port ?? 0)}: ${(err as Error).message}`, { cause: err });
  }
  const bound = emulator.app.server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : (options.port ?? 0);
  const url = `${useTls ? 'https' : 'http'}://${urlHost(address)}:${port}`;
  return {
    ...emulator, url, port,
    ...(tls ? { caFile: tls.caFile, ca: tls.ca } : {}),
    close: async () => {
      await emulator.close();
      await tls?.cleanup();
    },
  };
}
