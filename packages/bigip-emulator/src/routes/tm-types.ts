import type { LtmConfig } from '../state/config.js';

/** One iControl REST call below `/mgmt/tm/`, independent of HTTP so transactions can replay it. */
export interface TmRequest {
  method: string;
  /** Decoded path segments after `/mgmt/tm/`: `['ltm', 'pool', '~k8s~web_pool']`. */
  segments: string[];
  query: Record<string, string | undefined>;
  body: unknown;
}

export interface TmResponse {
  status: number;
  body?: unknown;
}

export interface TmContext {
  config: LtmConfig;
  /** Throws (503) when writes are refused, e.g. by the frozen-configuration fault. */
  assertWritable(): void;
}

export type TmHandler = (ctx: TmContext, req: TmRequest, rest: string[]) => TmResponse;
