/**
 * Coded errors of the shared runtime (lifecycle, leader election). The codes follow @npl/core's
 * registry style (stable, never reused), on its CodedError base (the leaf entry `@npl/core/coded-error`:
 * nothing else of @npl/core is imported here).
 */
import { CodedError, codedErrorGuard } from '@npl/core/coded-error';

export const RUNTIME_ERROR_CODES = {
  NPL_RUNNABLE_INVALID: 'a runnable was added twice, after start, or needs leadership without a leader gate',
  NPL_RUNNABLE_START_FAILED: 'a runnable failed to start; what had started was stopped',
  NPL_MANAGER_STOPPED: 'the manager was stopped (or lost leadership) before every runnable had started',
  NPL_RUNNABLE_STOP_FAILED: 'one or more runnables failed to stop or did not stop within their timeout',
  NPL_LEADER_ELECTION_CONFIG_INVALID: 'leader election durations or identity are invalid',
  NPL_LEASE_CONFLICT: 'a Lease write lost a race (HTTP 409: stale resourceVersion or already exists)',
  NPL_LEASE_REQUEST_FAILED: 'a Lease read or write failed for a reason other than a conflict',
  NPL_LEADERSHIP_LOST: 'the Lease could not be renewed within the renew deadline, or another holder took it',
} as const;

export type RuntimeErrorCode = keyof typeof RUNTIME_ERROR_CODES;

/** The error thrown by this package: `code` is stable, `message` is for people, `cause` chains. */
export class RuntimeError extends CodedError<RuntimeErrorCode> {
  override readonly name = 'RuntimeError';
}

/** True when `err` is a RuntimeError, optionally of the given code. */
export const isRuntimeError = codedErrorGuard(RuntimeError);
