import { describe, expect, it } from '@jest/globals';
import { warnOnEphemeralOverlap } from './agent.js';
import { parseAgentConfig } from './config.js';
import { captureLogs } from '@npl/runtime/testing';


function config(range: string) {
  const r = parseAgentConfig(['--node-name', 'n', '--port-range', range], {});
  if (r.help) throw new Error('unexpected');
  return r.config;
}

describe('warnOnEphemeralOverlap (Antrea #2381)', () => {
  it('warns with both ranges and the overlap when the node port range overlaps ip_local_port_range', async () => {
    const { lines, logger } = captureLogs();
    await warnOnEphemeralOverlap(config('40000-41000'), logger, '32768\t60999\n');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', portRange: '40000-41000', ephemeral: '32768-60999', overlap: '40000-41000' }),
    ]);
  });

  it('says nothing for the default range against the default kernel range', async () => {
    const { lines, logger } = captureLogs();
    await warnOnEphemeralOverlap(config('61000-62000'), logger, '32768\t60999\n');
    expect(lines).toEqual([]);
  });
});
