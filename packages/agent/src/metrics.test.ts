import { describe, expect, it } from '@jest/globals';
import { collectProcessMetrics, createAgentMetrics } from './metrics.js';

describe('agent metrics', () => {
  it('process memory gauges are read at each scrape under the standard Prometheus names', () => {
    const metrics = createAgentMetrics();
    let rss = 50_000_000;
    collectProcessMetrics(metrics, () => ({ rss, heapUsed: 20_000_000, heapTotal: 30_000_000, external: 0, arrayBuffers: 0 }));
    expect(metrics.registry.render()).toContain('process_resident_memory_bytes 50000000');
    rss = 60_000_000;
    const text = metrics.registry.render();
    expect(text).toContain('process_resident_memory_bytes 60000000');
    expect(text).toContain('nodejs_heap_size_used_bytes 20000000');
  });
});
