import { describe, expect, it } from '@jest/globals';
import { ecdf, median, percentile } from './stats.js';
import { tableFromMarkdown } from './table.js';

describe('stats', () => {
  it('median of odd and even counts, NaN for none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
  it('nearest-rank percentile', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([5], 50)).toBe(5);
  });
  it('ecdf is sorted and ends at 1', () => {
    expect(ecdf([3, 1, 2, 2])).toEqual([[1, 0.25], [2, 0.5], [2, 0.75], [3, 1]]);
  });
});

describe('tableFromMarkdown', () => {
  it('reads the header and rows of a pipe table, keeping cell formatting', () => {
    const t = tableFromMarkdown('intro\n| a | b |\n|---|---|\n| 1 | **2** |\n| x | y |\n\nafter', 'T');
    expect(t).toEqual({ title: 'T', columns: ['a', 'b'], rows: [['1', '**2**'], ['x', 'y']] });
  });
  it('rejects text without a table and ragged rows', () => {
    expect(() => tableFromMarkdown('none')).toThrow('no Markdown table');
    expect(() => tableFromMarkdown('| a | b |\n|---|---|\n| 1 |')).toThrow('has 1 cells, the header 2');
  });
});
