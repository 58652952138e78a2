import { describe, expect, it } from '@jest/globals';
import { createAgentMetrics } from './metrics.js';

describe('agent metrics', () => {
  it('carry the process and Node.js metrics under the standard Prometheus names, read at each scrape', () => {
    const text = createAgentMetrics().registry.render();
    const rss = /^process_resident_memory_bytes (\d+)$/m.exec(text);
    expect(Number(rss?.[1])).toBeGreaterThan(1_000_000);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d+$/m);
    expect(text).toMatch(/^process_cpu_seconds_total [\d.]+$/m);
    expect(text).toContain('# TYPE npl_agent_conntrack_entries_deleted_total counter');
  });
});
