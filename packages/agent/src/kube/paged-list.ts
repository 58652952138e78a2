/**
 * Lists a collection in pages (as client-go's reflector does, 500 objects a page), slimming each
 * page before asking for the next: a LIST of 10,000 Services then never sits in memory as 10,000
 * typed client-node objects at once, which set the agent's peak heap (and so its RSS) (issue 11).
 * All pages come from one snapshot of the API server (the continue token carries its
 * resourceVersion); an expired token fails the list and the informer retries it with backoff.
 */
import { Observable, ResponseContext } from '@kubernetes/client-node';
import type { setHeaderOptions } from '@kubernetes/client-node';

export const PAGE_SIZE = 500;

/** The middleware type a call's options take (client-node's Observable-based one). */
type OptionsMiddleware = NonNullable<NonNullable<Parameters<typeof setHeaderOptions>[2]>['middleware']>[number];

/**
 * Slims the items of a successful list response before client-node deserializes it: client-node
 * would otherwise turn each full object (managedFields, statuses, volumes…) into typed model
 * instances only for `slim` to drop most of them, the largest share of the agent's start-up CPU and
 * garbage with 10,000 Services. `slim` reads the wire JSON, whose field names the typed models share
 * for everything the slim functions keep. Error responses and non-JSON bodies pass untouched.
 */
export function slimListBody(slim: (obj: never) => unknown): OptionsMiddleware {
  return {
    pre: (ctx) => new Observable(Promise.resolve(ctx)),
    post: (rsp) =>
      new Observable(
        (async () => {
          if (rsp.httpStatusCode < 200 || rsp.httpStatusCode > 299) return rsp;
          const text = await rsp.body.text();
          let list: { items?: unknown };
          try {
            list = JSON.parse(text) as { items?: unknown };
          } catch {
            list = {};
          }
          const out = Array.isArray(list.items) ? JSON.stringify({ ...list, items: list.items.map((o) => slim(o as never)) }) : text;
          return new ResponseContext(rsp.httpStatusCode, rsp.headers, {
            text: () => Promise.resolve(out),
            binary: () => Promise.resolve(Buffer.from(out)),
            stream: () => null,
          });
        })(),
      ),
  };
}

export interface Page<T> {
  readonly items: T[];
  readonly metadata?: { readonly resourceVersion?: string; readonly _continue?: string };
}

export async function listInPages<T>(
  fetchPage: (continueToken: string | undefined) => Promise<Page<T>>,
  slim: (obj: T) => T,
): Promise<{ items: T[]; metadata: { resourceVersion?: string } }> {
  const items: T[] = [];
  let token: string | undefined;
  let resourceVersion: string | undefined;
  do {
    const page = await fetchPage(token);
    for (const obj of page.items) items.push(slim(obj));
    resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    token = page.metadata?._continue || undefined;
  } while (token);
  return { items, metadata: resourceVersion === undefined ? {} : { resourceVersion } };
}
