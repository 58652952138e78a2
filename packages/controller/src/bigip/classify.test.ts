import { describe, expect, it } from '@jest/globals';
import { BigipError, classOf, classifyResponse, isRetryable } from './classify.js';

describe('BIG-IP error classification', () => {
  it.each([
    [401, 'X-F5-Auth-Token does not exist.', 'authExpired'],
    [404, '01020036:3: The requested Pool (/k8s/web_pool) was not found.', 'notFound'],
    [400, 'transaction failed:01020036:3: The requested Pool Member (/k8s/p /k8s/192.0.2.1 80) was not found.', 'notFound'],
    [409, '01020066:3: The requested Pool (/k8s/web_pool) already exists in partition k8s.', 'conflict'],
    [400, 'transaction failed:01020066:3: The requested Pool (/k8s/p) already exists in partition k8s.', 'conflict'],
    [503, 'Service Unavailable', 'busy'],
    [503, 'Error: Configuration operation in progress on device undefined, please try again in 2 minutes', 'busy'],
    [400, 'there is an active asynchronous task executing', 'busy'],
    [500, 'Internal error', 'busy'],
    [400, '01070734:3: Configuration error: invalid', 'invalid'],
    [400, '01070110:3: Node address /k8s/192.0.2.1 is referenced by a member of pool /k8s/p.', 'invalid'],
    [422, 'declaration is invalid', 'invalid'],
  ])('HTTP %d "%s" is %s', (status, message, expected) => {
    expect(classifyResponse(status, message)).toBe(expected);
  });

  it('anything that is not a BigipError is a transport failure', () => {
    expect(classOf(new Error('socket hang up'))).toBe('transport');
    expect(classOf(new BigipError({ errorClass: 'busy', method: 'GET', path: '/x', status: 503, f5Message: 'x' }))).toBe('busy');
  });

  it('busy, transport and expired auth are retried with backoff; the others are not', () => {
    expect(['busy', 'transport', 'authExpired', 'invalid', 'notFound', 'conflict'].map((c) => isRetryable(c as never))).toEqual([true, true, true, false, false, false]);
  });

  it('the message names method, path, status and BIG-IP text', () => {
    expect(new BigipError({ errorClass: 'transport', method: 'GET', path: '/mgmt/tm/ltm/pool', status: 0, f5Message: 'ECONNRESET' }).message)
      .toBe('BIG-IP GET /mgmt/tm/ltm/pool: no answer (transport): ECONNRESET');
  });
});
