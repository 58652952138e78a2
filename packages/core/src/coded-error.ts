/**
 * `@npl/core/coded-error`: the base of the packages' coded errors (NplError, RuntimeError,
 * ControllerError, DemoError). Each package keeps its own registry (`XXX_ERROR_CODES`:
 * stable codes, never reused, enumerated by its errors test) and a subclass that only names itself.
 * A leaf module with no imports, so packages that must not depend on the rest of @npl/core
 * (the runtime, npl-controller) can import it.
 */

/** `code` is a key of the package's registry, `message` is for people, `cause` chains. */
export abstract class CodedError<Code extends string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * The `isXxxError(err, code?)` of a CodedError subclass: true when `err` is an instance of `type`
 * (subclasses included), and of `code` when one is given.
 */
export function codedErrorGuard<E extends CodedError<string>>(type: abstract new (...args: never[]) => E): (err: unknown, code?: E['code']) => err is E {
  return (err, code): err is E => err instanceof type && (code === undefined || err.code === code);
}
