import type { V1Container, V1Pod } from '@kubernetes/client-node';

/**
 * Seconds the pod's "containers" take to exit after SIGTERM (default 0: they exit at once, as a
 * well-behaved process does). A large value makes them run until the grace period ends, as a
 * process that ignores SIGTERM does.
 */
export const EXIT_DELAY_ANNOTATION = 'npl.test/exit-delay-seconds';

/**
 * `"false"` makes the pod's application unhealthy: its TCP listeners answer HTTP 503 (same body)
 * so an httpGet readiness probe fails; any other value or none makes it healthy again.
 */
export const READY_ANNOTATION = 'npl.test/ready';

/** Whether the pod's application is switched to unhealthy by READY_ANNOTATION. */
export function markedUnhealthy(pod: V1Pod): boolean {
  return pod.metadata?.annotations?.[READY_ANNOTATION] === 'false';
}

/**
 * Seconds of a container's preStop hook: `sleep.seconds`, or an `exec` of `sleep N`
 * (directly or as `sh -c "sleep N"`); 0 for none or any other hook (nothing runs it).
 */
export function preStopSeconds(c: V1Container): number {
  const h = c.lifecycle?.preStop;
  if (!h) return 0;
  if (h.sleep) return Math.max(0, h.sleep.seconds);
  const cmd = (h.exec?.command ?? []).join(' ');
  const m = /(?:^|\s|-c\s+)sleep\s+(\d+(?:\.\d+)?)\s*$/.exec(cmd);
  return m ? Number(m[1]) : 0;
}

function exitDelaySeconds(pod: V1Pod): number {
  const raw = pod.metadata?.annotations?.[EXIT_DELAY_ANNOTATION];
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    throw new Error(
      `pod ${pod.metadata?.namespace}/${pod.metadata?.name}: annotation ${EXIT_DELAY_ANNOTATION}=${JSON.stringify(raw)}: expected a number of seconds >= 0`,
    );
  }
  return n;
}

/**
 * When (ms since the epoch) the containers of a pod being deleted have exited, as kubelet would
 * see it: the deletion was requested at deletionTimestamp - deletionGracePeriodSeconds; then the
 * preStop hooks run (the longest one), then SIGTERM, after which a container takes
 * EXIT_DELAY_ANNOTATION seconds; the whole is cut at the end of the grace period (SIGKILL).
 * Undefined for a pod that is not being deleted. Throws on a malformed EXIT_DELAY_ANNOTATION.
 */
export function containersExitAt(pod: V1Pod): number | undefined {
  const ts = pod.metadata?.deletionTimestamp;
  if (!ts) return undefined;
  const deadline = new Date(ts).getTime();
  const grace = pod.metadata?.deletionGracePeriodSeconds ?? 0;
  const requested = deadline - grace * 1000;
  const preStop = Math.max(0, ...(pod.spec?.containers ?? []).map(preStopSeconds));
  return Math.min(deadline, requested + (preStop + exitDelaySeconds(pod)) * 1000);
}

/**
 * Seconds after its start at which a pod's "containers" exit by themselves (as a Job's do), with
 * exit code EXIT_CODE_ANNOTATION (default 0). Honoured where kubelet would then end the pod
 * instead of restarting the containers: restartPolicy Never, or OnFailure with exit code 0.
 */
export const COMPLETE_AFTER_ANNOTATION = 'npl.test/complete-after-seconds';
export const EXIT_CODE_ANNOTATION = 'npl.test/exit-code';

/** When and how a running pod completes by itself. */
export interface Completion {
  /** ms since the epoch */
  readonly at: number;
  readonly exitCode: number;
  readonly phase: 'Succeeded' | 'Failed';
}

function numberAnnotation(pod: V1Pod, key: string, what: string, valid: (n: number) => boolean): number | undefined {
  const raw = pod.metadata?.annotations?.[key];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !valid(n)) {
    throw new Error(`pod ${pod.metadata?.namespace}/${pod.metadata?.name}: annotation ${key}=${JSON.stringify(raw)}: expected ${what}`);
  }
  return n;
}

/**
 * The pod's completion if COMPLETE_AFTER_ANNOTATION asks for one that kubelet would not answer
 * with a restart; undefined otherwise. Throws on malformed annotations, naming them.
 */
export function completionOf(pod: V1Pod, startedAt: Date): Completion | undefined {
  const after = numberAnnotation(pod, COMPLETE_AFTER_ANNOTATION, 'a number of seconds >= 0', (n) => Number.isFinite(n) && n >= 0);
  if (after === undefined) return undefined;
  const exitCode = numberAnnotation(pod, EXIT_CODE_ANNOTATION, 'an integer from 0 to 255', (n) => Number.isInteger(n) && n >= 0 && n <= 255) ?? 0;
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0)) return undefined;
  return { at: startedAt.getTime() + after * 1000, exitCode, phase: exitCode === 0 ? 'Succeeded' : 'Failed' };
}
