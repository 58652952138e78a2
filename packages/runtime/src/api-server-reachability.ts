/**
 * A process's shared view of whether the API server answers (ApiReachability, api-reachability.ts),
 * probed with GET /readyz: the cheapest request there is (no object read, allowed to every
 * authenticated client by the default `system:public-info-viewer` role), sent through the same shared
 * connection as every other call when the KubeConfig went through `reuseConnections`. A /readyz that
 * answers 403 (a cluster without that role) is no recovery: the informers then keep their plain
 * backoff. Both the agent and the controller pass it to all their informers; `stop()` ends the probe.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { Health } from '@kubernetes/client-node';
import { ApiReachability } from './api-reachability.js';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';

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
