/**
 * Coded errors of the demo (registry style of @npl/core: stable codes, never reused).
 */
import { CodedError } from '@npl/core/coded-error';

export const DEMO_ERROR_CODES = {
  NPL_DEMO_USAGE: 'a command-line flag of the demo is unknown or has a bad value',
  NPL_DEMO_NOT_ROOT: 'the demo needs root (it starts the local cluster: network namespaces)',
  NPL_DEMO_ALREADY_RUNNING: 'a cluster of the demo name already runs',
  NPL_DEMO_BIGIP: 'a read of the emulated BIG-IP failed',
  NPL_DEMO_TRAFFIC: 'the request loop through the virtual server could not run',
} as const;

export type DemoErrorCode = keyof typeof DEMO_ERROR_CODES;

/** The error thrown by this package: `code` is stable, `message` is for people, `cause` chains. */
export class DemoError extends CodedError<DemoErrorCode> {
  override readonly name = 'DemoError';
}
