/**
 * Writes the pod annotation `nodeportlocal.antrea.io` as Antrea does (spec §6.3): a JSON merge patch
 * on the `pods/status` subresource (the agent's RBAC has `pods/status: patch`, not `pods: patch`),
 * `null` to remove the key, no resourceVersion precondition. Each PATCH has a deadline (30 s by
 * default): against a hung API server it fails like any error, so the worker is freed and the Pod
 * requeued; a retry writes the same value (the mapping keeps its node port), so nothing is lost or doubled.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { ApiException, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { NPL_ANNOTATION_KEY } from '@npl/core';
import { DEFAULT_API_TIMEOUT_MS, isApiTimeout, withApiTimeout } from '@npl/runtime';
import { rewriteSuccessBody } from './success-body.js';

export interface AnnotationWriter {
  /**
   * Set (`value` a string) or remove (`null`) the annotation of Pod `namespace/name`. Resolves
   * `false` when the Pod no longer exists (nothing to do), `true` when written. Other API errors,
   * and a PATCH not answered in time, throw, so the caller requeues.
   */
  write(namespace: string, name: string, value: string | null): Promise<boolean>;
}

/** The merge-patch body Antrea sends. */
export function annotationPatch(value: string | null): { metadata: { annotations: Record<string, string | null> } } {
  return { metadata: { annotations: { [NPL_ANNOTATION_KEY]: value } } };
}

/**
 * Drops the body of a successful response before client-node parses it: the PATCH answers with the
 * whole Pod, which client-node would deserialize into typed objects only for us to ignore it (a
 * measured share of the agent's CPU per pod). Error responses keep their body (ApiException).
 */
export const discardSuccessBody = rewriteSuccessBody(() => '{}');

export class ApiAnnotationWriter implements AnnotationWriter {
  private readonly options: ReturnType<typeof withApiTimeout>;

  /** `timeoutMs`: the deadline of one PATCH (the wait in `beforeCall` excluded). */
  constructor(
    private readonly core: CoreV1Api,
    private readonly beforeCall: () => Promise<void> = () => Promise.resolve(),
    private readonly timeoutMs: number = DEFAULT_API_TIMEOUT_MS,
  ) {
    this.options = withApiTimeout(timeoutMs, setHeaderOptions('Content-Type', PatchStrategy.MergePatch, { middleware: [discardSuccessBody], middlewareMergeStrategy: 'append' }));
  }

  async write(namespace: string, name: string, value: string | null): Promise<boolean> {
    await this.beforeCall();
    try {
      await this.core.patchNamespacedPodStatus({ name, namespace, body: annotationPatch(value) }, this.options);
      return true;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return false;
      const status = err instanceof ApiException ? ` (HTTP ${err.code})` : '';
      const why = isApiTimeout(err) ? `the API server did not answer within ${this.timeoutMs} ms` : apiMessage(err);
      throw new Error(`failed to patch NodePortLocal annotation for Pod ${namespace}/${name}${status}: ${why}`, { cause: err });
    }
  }
}

/** The API server's Status message when there is one, else the error text. */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    if (typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: unknown };
        if (typeof parsed.message === 'string') return parsed.message;
      } catch {
        return body.slice(0, 500);
      }
    }
    if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string') {
      return (body as { message: string }).message;
    }
  }
  return err instanceof Error ? err.message : String(err);
}
