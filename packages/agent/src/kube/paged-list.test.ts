import { describe, expect, it } from '@jest/globals';
import { ResponseContext } from '@kubernetes/client-node';
import { listInPages, slimListBody } from './paged-list.js';

function response(status: number, body: string): ResponseContext {
  return new ResponseContext(status, { 'content-type': 'application/json' }, { text: () => Promise.resolve(body), binary: () => Promise.resolve(Buffer.from(body)), stream: () => null });
}

describe('listInPages', () => {
  it('follows continue tokens, slims every item and keeps the snapshot resourceVersion', async () => {
    const asked: (string | undefined)[] = [];
    const pages: Record<string, { items: { n: number; big?: string }[]; metadata: { resourceVersion: string; _continue?: string } }> = {
      first: { items: [{ n: 1, big: 'x' }, { n: 2, big: 'x' }], metadata: { resourceVersion: '77', _continue: 'a' } },
      a: { items: [{ n: 3, big: 'x' }], metadata: { resourceVersion: '77', _continue: 'b' } },
      b: { items: [{ n: 4, big: 'x' }], metadata: { resourceVersion: '77', _continue: '' } },
    };
    const result = await listInPages(
      (token) => {
        asked.push(token);
        return Promise.resolve(pages[token ?? 'first']!);
      },
      ({ n }) => ({ n }),
    );
    expect(asked).toEqual([undefined, 'a', 'b']);
    expect(result).toEqual({ items: [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }], metadata: { resourceVersion: '77' } });
  });

  it('passes a failed page on (an expired continue token: the informer relists with backoff)', async () => {
    let calls = 0;
    const fetchPage = (): Promise<{ items: number[]; metadata: { _continue: string } }> => (++calls === 1 ? Promise.resolve({ items: [1], metadata: { _continue: 'x' } }) : Promise.reject(new Error('410 Gone')));
    await expect(listInPages(fetchPage, (x) => x)).rejects.toThrow('410 Gone');
  });

  it('slims the items of a successful list body before client-node parses it, and nothing else', async () => {
    const mw = slimListBody(({ n }: { n: number }) => ({ n }));
    const body = JSON.stringify({ kind: 'ServiceList', metadata: { resourceVersion: '9', continue: 'c' }, items: [{ n: 1, big: 'x' }, { n: 2, big: 'y' }] });
    const out = await mw.post(response(200, body)).toPromise();
    expect(out.httpStatusCode).toBe(200);
    expect(JSON.parse(await out.body.text())).toEqual({ kind: 'ServiceList', metadata: { resourceVersion: '9', continue: 'c' }, items: [{ n: 1 }, { n: 2 }] });
    const error = '{"kind":"Status","code":410,"items":[{"n":1,"big":"x"}]}';
    expect(await (await mw.post(response(410, error)).toPromise()).body.text()).toBe(error);
    expect(await (await mw.post(response(200, 'not json')).toPromise()).body.text()).toBe('not json');
  });
});
