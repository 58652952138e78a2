/**
 * The Kubernetes side of the demo: create the sample app, scale it, and watch its pods and its
 * Deployment (list + watch through @npl/runtime's Informer, which retries and relists by itself).
 */
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { Informer, kubeListWatch } from '@npl/runtime';

export interface AppSpec {
  readonly namespace: string;
  readonly name: string;
  readonly replicas: number;
  /** Container and Service port. */
  readonly port: number;
  /** `addr:port` of the BIG-IP virtual server (annotation `bigip.nodeportlocal.io/virtual-server`). */
  readonly virtualServer: string;
}

export interface AppWatchHandlers {
  /** A pod of the app was added or changed (`deleted` false) or is gone (`deleted` true). */
  pod(pod: V1Pod, deleted: boolean): void;
  /** The app's Deployment as now seen (undefined once deleted). */
  deployment(d: V1Deployment | undefined): void;
  /** A list or watch failed; the informers retry by themselves. */
  error(err: unknown, context: string): void;
}

/** One interface per side effect: what the demo does to and reads from the cluster. */
export interface AppCluster {
  /** Creates the Deployment and the opted-in Service. Throws the API's error (e.g. 409 when they exist). */
  deploy(spec: AppSpec): Promise<void>;
  /** Sets spec.replicas of the Deployment. */
  scale(spec: Pick<AppSpec, 'namespace' | 'name'>, replicas: number): Promise<void>;
  /** Lists and watches the app's pods (label app=<name>) and its Deployment until stop(). */
  watch(spec: Pick<AppSpec, 'namespace' | 'name'>, handlers: AppWatchHandlers): { stop(): Promise<void> };
}

export function kubeAppCluster(kc: KubeConfig): AppCluster {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  return {
    async deploy(spec) {
      const labels = { app: spec.name };
      await apps.createNamespacedDeployment({
        namespace: spec.namespace,
        body: {
          metadata: { name: spec.name, labels },
          spec: {
            replicas: spec.replicas,
            selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'web:1', ports: [{ containerPort: spec.port }] }] } },
          },
        },
      });
      await core.createNamespacedService({
        namespace: spec.namespace,
        body: {
          metadata: {
            name: spec.name,
            labels,
            annotations: { 'nodeportlocal.antrea.io/enabled': 'true', 'bigip.nodeportlocal.io/virtual-server': spec.virtualServer },
          },
          spec: { selector: labels, ports: [{ port: spec.port, targetPort: spec.port }] },
        },
      });
    },
    async scale(spec, replicas) {
      await apps.patchNamespacedDeployment({ name: spec.name, namespace: spec.namespace, body: [{ op: 'replace', path: '/spec/replicas', value: replicas }] });
    },
    watch(spec, handlers) {
      const labelSelector = `app=${spec.name}`;
      const pods = new Informer<V1Pod>({
        name: 'demo-pods',
        source: kubeListWatch<V1Pod>(kc, { path: `/api/v1/namespaces/${spec.namespace}/pods`, labelSelector, list: (o) => core.listNamespacedPod({ namespace: spec.namespace, ...o }) }),
        relistMs: 60_000,
        onError: (err, context) => handlers.error(err, context),
      });
      pods.on('add', (p) => handlers.pod(p, false));
      pods.on('update', (p) => handlers.pod(p, false));
      pods.on('delete', (p) => handlers.pod(p, true));
      const deployments = new Informer<V1Deployment>({
        name: 'demo-deployment',
        source: kubeListWatch<V1Deployment>(kc, {
          path: `/apis/apps/v1/namespaces/${spec.namespace}/deployments`,
          labelSelector,
          list: (o) => apps.listNamespacedDeployment({ namespace: spec.namespace, ...o }),
        }),
        relistMs: 60_000,
        onError: (err, context) => handlers.error(err, context),
      });
      const ours = (d: V1Deployment) => d.metadata?.name === spec.name;
      deployments.on('add', (d) => ours(d) && handlers.deployment(d));
      deployments.on('update', (d) => ours(d) && handlers.deployment(d));
      deployments.on('delete', (d) => ours(d) && handlers.deployment(undefined));
      pods.start();
      deployments.start();
      return { stop: async () => void (await Promise.all([pods.stop(), deployments.stop()])) };
    },
  };
}
