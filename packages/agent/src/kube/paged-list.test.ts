import { describe, expect, it } from '@jest/globals';
import { listInPages } from './paged-list.js';

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
});
