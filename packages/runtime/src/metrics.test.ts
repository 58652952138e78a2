import { describe, expect, it } from '@jest/globals';
import { Registry } from './metrics.js';

describe('Registry', () => {
  it('renders counters, gauges and histograms in the Prometheus text format', () => {
    const r = new Registry();
    const c = r.counter('npl_mappings_added_total', 'Mappings added.');
    const g = r.gauge('npl_mappings', 'Mappings held.');
    const h = r.histogram('npl_sync_seconds', 'Sync duration.', [0.1, 1]);
    c.inc({ protocol: 'tcp', family: 'IPv4' });
    c.inc({ family: 'IPv4', protocol: 'tcp' }, 2);
    g.set(5, { family: 'IPv6' });
    h.observe(0.05);
    h.observe(0.5);
    h.observe(3);
    expect(r.render()).toBe(
      [
        '# HELP npl_mappings_added_total Mappings added.',
        '# TYPE npl_mappings_added_total counter',
        'npl_mappings_added_total{family="IPv4",protocol="tcp"} 3',
        '# HELP npl_mappings Mappings held.',
        '# TYPE npl_mappings gauge',
        'npl_mappings{family="IPv6"} 5',
        '# HELP npl_sync_seconds Sync duration.',
        '# TYPE npl_sync_seconds histogram',
        'npl_sync_seconds_bucket{le="0.1"} 1',
        'npl_sync_seconds_bucket{le="1"} 2',
        'npl_sync_seconds_bucket{le="+Inf"} 3',
        'npl_sync_seconds_sum 3.55',
        'npl_sync_seconds_count 3',
        '',
      ].join('\n'),
    );
  });

  it('counts an observation on a bucket bound in that bucket, cumulatively, per label set in any key order', () => {
    const r = new Registry();
    const h = r.histogram('h_seconds', 'h', [0.5, 1, 10]);
    for (const v of [0.5, 0.5, 1, 5, 50]) h.observe(v, { b: '2', a: '1' });
    h.observe(0.75, { a: '1', b: '2' });
    expect(h.count({ a: '1', b: '2' })).toBe(6);
    expect(r.render()).toContain(
      [
        'h_seconds_bucket{a="1",b="2",le="0.5"} 2',
        'h_seconds_bucket{a="1",b="2",le="1"} 4',
        'h_seconds_bucket{a="1",b="2",le="10"} 5',
        'h_seconds_bucket{a="1",b="2",le="+Inf"} 6',
        'h_seconds_sum{a="1",b="2"} 57.75',
        'h_seconds_count{a="1",b="2"} 6',
      ].join('\n'),
    );
  });

  it('escapes label values', () => {
    const r = new Registry();
    r.counter('x_total', 'x').inc({ pod: 'a"b\\c\nd' });
    expect(r.render()).toContain('x_total{pod="a\\"b\\\\c\\nd"} 1');
  });

  it('refuses duplicate names, bad names, decreasing counters and unsorted buckets', () => {
    const r = new Registry();
    r.gauge('dup', 'd');
    expect(() => r.gauge('dup', 'd')).toThrow('registered twice');
    expect(() => r.counter('bad-name', 'b')).toThrow('not a valid Prometheus name');
    expect(() => r.counter('c_total', 'c').inc({}, -1)).toThrow('cannot decrease');
    expect(() => r.histogram('h', 'h', [1, 1])).toThrow('buckets must increase');
  });

  it('runs collectors at render time, and a throwing one does not stop the rest', () => {
    const r = new Registry();
    const g = r.gauge('npl_items', 'Items.');
    let items = 0;
    r.onCollect(() => {
      throw new Error('broken');
    });
    r.onCollect(() => g.set(items));
    items = 3;
    expect(r.render()).toContain('npl_items 3');
    items = 5;
    expect(r.render()).toContain('npl_items 5');
  });
});
