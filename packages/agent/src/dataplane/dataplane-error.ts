import { NplError } from '@npl/core';

const MAX_STDERR = 2000;

/** The tool output that goes into an error message: trimmed, and capped for huge batches. */
export function stderrForMessage(stderr: string): string {
  const t = stderr.trim();
  return t.length > MAX_STDERR ? `${t.slice(0, MAX_STDERR)}…` : t;
}

/**
 * A failed dataplane command (NPL_DATAPLANE_FAILED). `tableMissing` tells the controller that our
 * table (nftables) or chain (iptables) was deleted behind our back: incremental changes cannot work
 * until `repair` reinstalls everything.
 */
export class DataplaneError extends NplError {
  readonly tableMissing: boolean;
  readonly stderr: string;

  constructor(message: string, details: { tableMissing: boolean; stderr: string; cause?: unknown }) {
    super('NPL_DATAPLANE_FAILED', message, { cause: details.cause });
    this.tableMissing = details.tableMissing;
    this.stderr = details.stderr;
  }
}

export function isDataplaneError(err: unknown): err is DataplaneError {
  return err instanceof DataplaneError;
}
