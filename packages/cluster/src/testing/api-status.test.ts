import { describe, expect, it } from '@jest/globals';
import { ApiException } from '@kubernetes/client-node';
import { apiStatus } from './api-status.js';

describe('apiStatus', () => {
  it('is 200 when the call succeeds', async () => {
    expect(await apiStatus(() => Promise.resolve({ kind: 'Pod' }))).toBe(200);
  });

  it.each([403, 404, 409])("is the ApiException's code %i when the API server refused the call", async (code) => {
    expect(await apiStatus(() => Promise.reject(new ApiException(code, 'refused', '{}', {})))).toBe(code);
  });

  it('rethrows any other error rather than turning it into a status', async () => {
    await expect(apiStatus(() => Promise.reject(new Error('connect ECONNREFUSED')))).rejects.toThrow('ECONNREFUSED');
  });
});
