import { describe, expect, it } from '@jest/globals';
import { CONTROLLER_ERROR_CODES, ControllerError, isControllerError } from './errors.js';

describe('controller errors', () => {
  it('every code is prefixed CTL_ and described', () => {
    for (const [code, text] of Object.entries(CONTROLLER_ERROR_CODES)) {
      expect(code).toMatch(/^CTL_[A-Z0-9_]+$/);
      expect(text.length).toBeGreaterThan(10);
    }
  });

  it('carries its code and cause', () => {
    const cause = new Error('inner');
    const err = new ControllerError('CTL_CONFIG_INVALID', 'bad', { cause });
    expect(isControllerError(err, 'CTL_CONFIG_INVALID')).toBe(true);
    expect(isControllerError(err, 'CTL_BIGIP_REQUEST_FAILED')).toBe(false);
    expect(err.cause).toBe(cause);
  });
});
