/**
 * Clean uninstall (Antrea has none: disabling NPL leaves its chain, rules and annotations, §4.5):
 * removes our nftables tables or iptables chain in both families, then this node's Pod annotations.
 * Idempotent; run as the chart's pre-delete hook on every node, or by hand.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import { IP_FAMILIES, NPL_ANNOTATION_KEY } from '@npl/core';
import type { Logger } from '@npl/runtime';
import type { AgentConfig } from './config.js';
import type { Dataplane } from './dataplane/types.js';
import { ApiAnnotationWriter } from './kube/annotation-writer.js';

export interface UninstallResult {
  readonly dataplanesRemoved: number;
  readonly annotationsRemoved: number;
  readonly errors: readonly string[];
}

export async function uninstall(
  config: AgentConfig,
  logger: Logger,
  deps: { readonly dataplane: (family: (typeof IP_FAMILIES)[number]) => Dataplane; readonly kubeConfig?: KubeConfig },
): Promise<UninstallResult> {
  const errors: string[] = [];
  let dataplanesRemoved = 0;
  for (const family of IP_FAMILIES) {
    const dp = deps.dataplane(family);
    try {
      await dp.teardown();
      dataplanesRemoved++;
      logger.info({ family, dataplane: dp.describe() }, 'Removed NodePortLocal rules');
    } catch (err) {
      errors.push(`${family} ${dp.describe()}: ${(err as Error).message}`);
    } finally {
      dp.close();
    }
  }
  let annotationsRemoved = 0;
  if (deps.kubeConfig) {
    const core = deps.kubeConfig.makeApiClient(CoreV1Api);
    const writer = new ApiAnnotationWriter(core);
    const pods = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${config.nodeName}` });
    for (const pod of pods.items) {
      if (pod.metadata?.annotations?.[NPL_ANNOTATION_KEY] === undefined) continue;
      try {
        if (await writer.write(pod.metadata.namespace ?? '', pod.metadata.name ?? '', null)) annotationsRemoved++;
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    logger.info({ annotationsRemoved }, 'Removed NodePortLocal annotations');
  }
  return { dataplanesRemoved, annotationsRemoved, errors };
}
