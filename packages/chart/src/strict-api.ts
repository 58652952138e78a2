/**
 * A KubernetesObjectApi whose create sends the object exactly as given (not re-serialised through
 * client-node's typed models, which silently drop fields they do not know) with
 * `fieldValidation=Strict`, so the API server rejects any unknown or duplicate field.
 */
import type { KubeConfig, KubernetesObject, ObservableMiddleware, RequestContext, ResponseContext } from '@kubernetes/client-node';
import { createConfiguration, HttpMethod, KubernetesObjectApi, Observable, ServerConfiguration } from '@kubernetes/client-node';

export interface StrictObjectApi {
  /** Create `obj` (`dryRun` 'All': validated and admitted, never stored). Throws ApiException. */
  create(obj: KubernetesObject, dryRun?: 'All'): Promise<KubernetesObject>;
}

export function strictObjectApi(kc: KubeConfig): StrictObjectApi {
  let body = '';
  const strict: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      // Only the create itself; the discovery GETs that resolve the resource path pass unchanged.
      if (ctx.getHttpMethod() === HttpMethod.POST) {
        ctx.setQueryParam('fieldValidation', 'Strict');
        ctx.setBody(body);
      }
      return new Observable(Promise.resolve(ctx));
    },
    post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
  };
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('kubeconfig has no current cluster');
  const api = new KubernetesObjectApi(createConfiguration({ baseServer: new ServerConfiguration(server, {}), authMethods: { default: kc }, middleware: [strict] }));
  let queue = Promise.resolve();
  return {
    create(obj, dryRun) {
      // One request at a time: the middleware holds the body of the request in flight.
      const run = queue.then(() => {
        body = JSON.stringify(obj);
        return api.create(obj, undefined, dryRun);
      });
      queue = run.then(() => undefined, () => undefined);
      return run;
    },
  };
}
