/**
 * Lists a collection in pages (as client-go's reflector does, 500 objects a page), slimming each
 * page before asking for the next: a LIST of 10,000 Services then never sits in memory as 10,000
 * typed client-node objects at once, which set the agent's peak heap (and so its RSS) (issue 11).
 * All pages come from one snapshot of the API server (the continue token carries its
 * resourceVersion); an expired token fails the list and the informer retries it with backoff.
 */
export const PAGE_SIZE = 500;

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
