/**
 * A backend makes one BIG-IP partition match a desired state. Implementations: `icontrol` (LTM
 * objects through iControl REST) and `as3` (one declaration per tenant); a stateful fake for engine
 * tests.
 */
import type { DesiredState } from '../model.js';

export type BackendKind = 'icontrol' | 'as3';

export interface SyncReport {
  /** Writes sent to BIG-IP (0 when it already matched). */
  readonly writes: number;
  /** One line per change, for logs and Events. */
  readonly changes: readonly string[];
  /** True when a write met a conflict or a vanished object: the caller should sync again at once. */
  readonly resyncNeeded: boolean;
}

export interface Backend {
  readonly kind: BackendKind;
  /**
   * Reads the partition, computes the smallest change and applies it. Idempotent: a second call
   * with the same desired state writes nothing. Throws BigipError (classified) when BIG-IP fails;
   * what was applied before a failure stays applied and the next call continues from the device's
   * real state.
   */
  sync(desired: DesiredState, signal?: AbortSignal): Promise<SyncReport>;
}
