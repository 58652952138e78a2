/** What RBAC and admission tests assert on: the HTTP status a Kubernetes API call ended with. */
import { ApiException } from '@kubernetes/client-node';

/**
 * HTTP status of an API call: 200 when it succeeded, else the ApiException's code (403 when
 * RBAC forbade it). Any other error (a connection refused, a bug) is rethrown, never a status.
 */
export async function apiStatus(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}
