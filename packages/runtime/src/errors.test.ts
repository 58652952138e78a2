import { describe, expect, it } from '@jest/globals';
import { isRuntimeError, RUNTIME_ERROR_CODES, RuntimeError } from './errors.js';

describe('runtime error codes', () => {
  it('are unique, prefixed NPL_, described, and carried by RuntimeError', () => {
    const codes = Object.keys(RUNTIME_ERROR_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [code, description] of Object.entries(RUNTIME_ERROR_CODES)) {
      expect(code).toMatch(/^NPL_[A-Z_]+$/);
      expect(description.length).toBeGreaterThan(10);
    }
    const err = new RuntimeError('NPL_LEASE_CONFLICT', 'x', { cause: 'y' });
    expect(isRuntimeError(err, 'NPL_LEASE_CONFLICT')).toBe(true);
    expect(isRuntimeError(err, 'NPL_LEADERSHIP_LOST')).toBe(false);
    expect(isRuntimeError(new Error('x'))).toBe(false);
  });
});
