import { describe, expect, it } from '@jest/globals';
import { CodedError, codedErrorGuard } from './coded-error.js';

type Code = 'X_FIRST' | 'X_SECOND';

class XError extends CodedError<Code> {
  override readonly name = 'XError';
}
class YError extends CodedError<Code> {
  override readonly name = 'YError';
}
const isXError = codedErrorGuard(XError);

describe('CodedError', () => {
  it("carries its code, message and cause, and the subclass's name", () => {
    const cause = new Error('inner');
    const err = new XError('X_FIRST', 'outer', { cause });
    expect([err.code, err.message, err.cause, err.name, String(err)]).toEqual(['X_FIRST', 'outer', cause, 'XError', 'XError: outer']);
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(CodedError);
  });
});

describe('codedErrorGuard', () => {
  it('is true for an instance of its class, of the given code when one is given', () => {
    const err = new XError('X_FIRST', 'm');
    expect(isXError(err)).toBe(true);
    expect(isXError(err, 'X_FIRST')).toBe(true);
    expect(isXError(err, 'X_SECOND')).toBe(false);
  });

  it("is false for another registry's error with the same code, a plain Error and non-errors", () => {
    expect(isXError(new YError('X_FIRST', 'm'), 'X_FIRST')).toBe(false);
    expect(isXError(Object.assign(new Error('m'), { code: 'X_FIRST' }))).toBe(false);
    expect(isXError(undefined)).toBe(false);
    expect(isXError({ code: 'X_FIRST', name: 'XError' })).toBe(false);
  });
});
