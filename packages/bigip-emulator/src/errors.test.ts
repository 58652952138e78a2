import { describe, expect, it } from '@jest/globals';
import { EMULATOR_ERROR_CODES, EmulatorError, alreadyExists, notFound } from './errors.js';
import type { F5RestError } from './errors.js';

describe('emulator error codes', () => {
  it('are unique, prefixed and described', () => {
    const codes = Object.keys(EMULATOR_ERROR_CODES);
    expect(codes).toEqual(['BIGIP_EMU_OPTIONS_INVALID', 'BIGIP_EMU_TLS_FAILED', 'BIGIP_EMU_LISTEN_FAILED', 'BIGIP_EMU_CREDENTIALS_INVALID']);
    for (const [code, description] of Object.entries(EMULATOR_ERROR_CODES)) {
      expect(code).toMatch(/^BIGIP_EMU_[A-Z_]+$/);
      expect(description.length).toBeGreaterThan(10);
    }
    expect(new EmulatorError('BIGIP_EMU_TLS_FAILED', 'x').code).toBe('BIGIP_EMU_TLS_FAILED');
  });

  it('renders F5 error bodies with code, message, errorStack and apiError', () => {
    expect(notFound('Pool', '/k8s/web_pool').toBody()).toEqual({
      code: 404, message: '01020036:3: The requested Pool (/k8s/web_pool) was not found.', errorStack: [], apiError: 3,
    });
    const exists: F5RestError = alreadyExists('Pool', '/k8s/web_pool', 'k8s');
    expect(exists.toBody()).toEqual({
      code: 409, message: '01020066:3: The requested Pool (/k8s/web_pool) already exists in partition k8s.', errorStack: [], apiError: 3,
    });
  });
});
