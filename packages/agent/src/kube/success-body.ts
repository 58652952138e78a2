/**
 * Rewrites the body of a successful (2xx) response before client-node deserializes it; error
 * responses pass untouched, so ApiException keeps the API server's Status. The agent uses it where
 * client-node would otherwise build typed objects it throws away (annotation-writer.ts,
 * paged-list.ts).
 */
import type { ObservableMiddleware } from '@kubernetes/client-node';
import { Observable, ResponseContext } from '@kubernetes/client-node';

/** A middleware replacing a 2xx body `text` with `transform(text)`. */
export function rewriteSuccessBody(transform: (text: string) => string): ObservableMiddleware {
  return {
    pre: (ctx) => new Observable(Promise.resolve(ctx)),
    post: (rsp) =>
      new Observable(
        (async () => {
          if (rsp.httpStatusCode < 200 || rsp.httpStatusCode > 299) return rsp;
          const out = transform(await rsp.body.text());
          return new ResponseContext(rsp.httpStatusCode, rsp.headers, {
            text: () => Promise.resolve(out),
            binary: () => Promise.resolve(Buffer.from(out)),
            stream: () => null,
          });
        })(),
      ),
  };
}
