/**
 * The agent's shared view of whether the API server answers (runtime's ApiReachability), probed with
 * GET /readyz: the cheapest request there is (no object read, allowed to every authenticated client
 * by the default `system:public-info-viewer` role), sent through the same shared connection as
 * every other call (reuseConnections, @npl/runtime). A /readyz that answers 403 (a cluster without that role) is
 * no recovery: the informers then keep their plain backoff.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { Health } from '@kubernetes/client-node';
import type { Clock, Logger } from '@npl/runtime';
import { ApiReachability } from '@npl/runtime';

export function apiServerReachability(kc: KubeConfig, clock: Clock, logger: Logger): ApiReachability {
  const health = new Health(kc);
  return new ApiReachability({
    clock,
    probe: (signal) => health.readyz({ signal }),
    onChange(state, previous) {
      if (state === 'unreachable') logger.warn('API server unreachable: probing /readyz until it answers');
      else if (previous === 'unreachable') logger.info('API server reachable again: informers relist now');
    },
  });
}
