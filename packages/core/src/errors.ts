/**
 * Coded errors for every @npl package. A code is stable and never reused for another meaning;
 * `errors.test.ts` enumerates them. Messages name the object, the field and what was expected.
 */
import { CodedError, codedErrorGuard } from './coded-error.js';

export const ERROR_CODES = {
  NPL_ANNOTATION_INVALID: 'a pod annotation value could not be parsed',
  NPL_PORT_RANGE_INVALID: 'a port range is not of the form start-end with 1 <= start < end <= 65535',
  NPL_PORT_EXHAUSTED: 'no free node port is left in the range for a protocol and family',
  NPL_DUPLICATE_ENTRY: 'a port table already holds a mapping for this pod port and protocol',
  NPL_PROTOCOL_UNSUPPORTED: 'a protocol other than tcp or udp was asked for',
  NPL_ADDRESS_INVALID: 'an IP address could not be parsed',
  NPL_DATAPLANE_FAILED: 'programming the dataplane failed',
  NPL_PORT_RESERVE_FAILED: 'a node port could not be held by a socket',
  NPL_PORT_RELEASE_FAILED: 'a node port socket could not be closed',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The error of @npl/core and the agent: `code` is stable, `message` is for people, `cause` chains. */
export class NplError extends CodedError<ErrorCode> {
  override readonly name = 'NplError';
}

/** True when `err` is an NplError, optionally of the given code. */
export const isNplError = codedErrorGuard(NplError);
