/**
 * Lists a collection in pages (as client-go's reflector does, 500 objects a page), slimming each
 * page before asking for the next: a LIST of 10,000 Services then never sits in memory as 10,000
 * typed client-node objects at once, which set the agent's peak heap (and so its RSS) (issue 11).
 * All pages come from one snapshot of the API server (the continue token carries its
 * resourceVersion); an expired token fails the list and the informer retries it with backoff.
 */
import type { ObservableMiddleware } from '@kubernetes/client-node';
import { rewriteSuccessBody } from './success-body.js';

export const PAGE_SIZE = 500;

/**
 * Slims the items of a successful list response before client-node deserializes it: client-node
 * would otherwise turn each full object (managedFields, statuses, volumes…) into typed model
 * instances only for `slim` to drop most of them, the largest share of the agent's start-up CPU and
 * garbage with 10,000 Services. `slim` reads the wire JSON, whose field names the typed models share
 * for everything the slim functions keep. Error responses and non-JSON bodies pass untouched.
 */
export function slimListBody(slim: (obj: never) => unknown): ObservableMiddleware {
  return rewriteSuccessBody((text) => {
    let list: { items?: unknown };
    try {
      list = JSON.parse(text) as { items?: unknown };
    } catch {
      return text;
    }
    return Array.isArray(list.items) ? JSON.stringify({ ...list, items: list.items.map((o) => slim(o as never)) }) : text;
  });
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
