import { describe, expect, it } from '@jest/globals';
import { renderLineChart, scaleFor } from './svg.js';
import type { Chart } from './types.js';

const chart: Chart = {
  id: 'agent-dataplane-latency',
  title: 'Connect p50 <vs> mappings',
  x: { label: 'mappings', log: true },
  y: { label: 'connect p50', unit: 'µs' },
  series: [
    { name: 'nft (ours)', points: [[1, 43.7], [1000, 39.8], [10000, 43.5], [30000, 41.4]] },
    { name: 'iptables-nft', points: [[30000, 455], [1, 46], [1000, 56.6], [10000, 178.4]] },
    { name: 'iptables-legacy', points: [[1, 38.6], [1000, 63.8], [10000, 276.6], [30000, 744.8]] },
  ],
};

const all = (svg: string, re: RegExp): RegExpExecArray[] => [...svg.matchAll(new RegExp(re, 'g'))];

describe('scaleFor', () => {
  it('log axis: whole decades covering the data', () => {
    const s = scaleFor({ label: 'x', log: true }, [1, 30000], false);
    expect([s.lo, s.hi]).toEqual([1, 100000]);
    expect(s.ticks).toEqual([1, 10, 100, 1000, 10000, 100000]);
  });
  it('short log axis gets 2 and 5 ticks', () => {
    expect(scaleFor({ label: 'x', log: true }, [3, 40], false).ticks).toEqual([1, 2, 5, 10, 20, 50, 100]);
  });
  it('linear axis: from zero in nice steps', () => {
    const s = scaleFor({ label: 'y' }, [38.6, 744.8], true);
    expect(s.lo).toBe(0);
    expect(s.hi).toBeGreaterThanOrEqual(744.8);
    expect(s.ticks[0]).toBe(0);
    const steps = new Set(s.ticks.slice(1).map((t, i) => t - s.ticks[i]!));
    expect(steps.size).toBe(1);
    expect([100, 200, 250]).toContain([...steps][0]);
  });
  it('linear axis with one value still has a range', () => {
    const s = scaleFor({ label: 'y' }, [0], true);
    expect(s.hi).toBeGreaterThan(s.lo);
  });
});

describe('renderLineChart', () => {
  const svg = renderLineChart(chart);

  it('is one SVG document with an escaped title', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('<title>Connect p50 &lt;vs&gt; mappings</title>');
    expect(svg).not.toContain('<vs>');
  });

  it('draws one polyline per series with one marker per point, in x order', () => {
    const groups = all(svg, /<g class="series" data-series="([^"]+)">\n<polyline [^>]*points="([^"]+)"\/>/);
    expect(groups.map((g) => g[1])).toEqual(['nft (ours)', 'iptables-nft', 'iptables-legacy']);
    for (const g of groups) {
      const xs = g[2]!.split(' ').map((p) => Number(p.split(',')[0]));
      expect(xs).toHaveLength(4);
      expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    }
    expect(all(svg, /<circle /)).toHaveLength(12);
  });

  it('places values on the axes: log x by decade, higher y further up', () => {
    const ticks = all(svg, /<text class="tick-x" x="([\d.]+)"[^>]*>([^<]+)</);
    expect(ticks.map((t) => t[2])).toEqual(['1', '10', '100', '1,000', '10,000', '100,000']);
    const gaps = ticks.slice(1).map((t, i) => Number(t[1]) - Number(ticks[i]![1]));
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThanOrEqual(0.2);
    const legacy = all(svg, /data-series="iptables-legacy">\n<polyline [^>]*points="([^"]+)"/)[0]![1]!.split(' ').map((p) => p.split(',').map(Number));
    // 744.8 µs at 30,000 sits higher (smaller y) than 38.6 µs at 1; x of 1 is the first x tick.
    expect(legacy[3]![1]).toBeLessThan(legacy[0]![1]!);
    expect(legacy[0]![0]).toBe(Number(ticks[0]![1]));
    expect(svg).toContain('mappings — log scale');
    expect(svg).toContain('connect p50 (µs)');
  });

  it('has a legend entry per series and stays the same for the same chart', () => {
    expect(all(svg, /<g class="legend">/)).toHaveLength(3);
    expect(renderLineChart(chart)).toBe(svg);
  });
});

describe('tick labels', () => {
  it('linear ticks share the step’s decimals', () => {
    const svg = renderLineChart({ id: 'c', title: 't', x: { label: 'x' }, y: { label: 'y' }, series: [{ name: 's', points: [[0, 0.1], [11.1, 1]] }] });
    const xs = [...svg.matchAll(/class="tick-x"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(xs).toEqual(['0.0', '2.5', '5.0', '7.5', '10.0', '12.5']);
    const ys = [...svg.matchAll(/class="tick-y"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(ys).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
  });
});
