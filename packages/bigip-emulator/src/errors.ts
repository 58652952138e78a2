/**
 * Errors of the emulator itself (start-up, TLS, options), each with a stable code never reused,
 * and `F5RestError`, the iControl REST error a handler throws to answer with an F5 error body.
 */

export const EMULATOR_ERROR_CODES = {
  BIGIP_EMU_OPTIONS_INVALID: 'an emulator option or command-line flag has an invalid value',
  BIGIP_EMU_TLS_FAILED: 'generating the self-signed CA or server certificate with openssl failed',
  BIGIP_EMU_LISTEN_FAILED: 'the emulator could not listen on the requested address and port',
  BIGIP_EMU_CREDENTIALS_INVALID: 'the admin credentials (or the password file) could not be read',
} as const;

export type EmulatorErrorCode = keyof typeof EMULATOR_ERROR_CODES;

export class EmulatorError extends Error {
  override readonly name = 'EmulatorError';
  readonly code: EmulatorErrorCode;

  constructor(code: EmulatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The JSON body of every iControl REST error: `{code, message, errorStack, apiError}`. */
export interface F5ErrorBody {
  code: number;
  message: string;
  errorStack: string[];
  apiError?: number;
  [extra: string]: unknown;
}

/** An iControl REST error: `status` is the HTTP status, `message` carries the F5 code (`01020036:3: ...`). */
export class F5RestError extends Error {
  override readonly name = 'F5RestError';
  readonly status: number;
  readonly extra: Record<string, unknown>;

  constructor(status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.extra = extra;
  }

  toBody(): F5ErrorBody {
    return { code: this.status, message: this.message, errorStack: [], apiError: 3, ...this.extra };
  }
}

/** 404 `01020036`: `The requested <Kind> (<fullPath>) was not found.` */
export function notFound(kind: string, fullPath: string): F5RestError {
  return new F5RestError(404, `01020036:3: The requested ${kind} (${fullPath}) was not found.`);
}

/** 409 `01020066`: `The requested <Kind> (<fullPath>) already exists in partition <P>.` */
export function alreadyExists(kind: string, fullPath: string, partition: string): F5RestError {
  return new F5RestError(409, `01020066:3: The requested ${kind} (${fullPath}) already exists in partition ${partition}.`);
}

/** 400 `01020036` for a partition (folder) that does not exist, as BIG-IP answers a create in it. */
export function folderNotFound(folderPath: string): F5RestError {
  return new F5RestError(400, `01020036:3: The requested folder (${folderPath}) was not found.`);
}

/** 400 `01070734`: a configuration (validation) error. */
export function configError(detail: string): F5RestError {
  return new F5RestError(400, `01070734:3: Configuration error: ${detail}`);
}

/** 400: a JSON property BIG-IP does not know for this object. */
export function unexpectedProperty(item: string, key: string, value: unknown): F5RestError {
  return new F5RestError(
    400,
    `Found unexpected json pair at configuration item ${item}. The json pair "${key}":${JSON.stringify(value)} is not allowed.`,
    { apiError: 1 },
  );
}

/** 400: a property of the wrong type or outside its allowed values. */
export function invalidProperty(item: string, key: string, value: unknown, expected: string): F5RestError {
  return new F5RestError(
    400,
    `Invalid value for property "${key}" of ${item}: ${JSON.stringify(value)} (expected ${expected}).`,
    { apiError: 1 },
  );
}

/** 400: the request body is not JSON. */
export function invalidJson(): F5RestError {
  return new F5RestError(400, 'Found invalid JSON body in the request.', { apiError: 1 });
}

export function isF5RestError(err: unknown): err is F5RestError {
  return err instanceof F5RestError;
}
