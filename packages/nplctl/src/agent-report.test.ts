import { describe, expect, it } from '@jest/globals';
import { readAgentReport } from './agent-report.js';

const mapping = { pod: { namespace: 'default', name: 'web-0', uid: 'u' }, podIP: '198.18.1.4', podPort: 80, protocol: 'tcp', family: 'IPv4', nodeIP: '198.18.0.3', nodePort: 61000, rule: 'present', socketHeld: true, annotation: 'match', defunct: false, services: [] };

describe('readAgentReport (npl-agent GET /mappings, schema version 1)', () => {
  it('accepts a version 1 body (unknown fields allowed: they may be added within a version)', () => {
    const body = { schemaVersion: 1, node: 'node-1', synced: true, dataplanes: [], mappings: [{ ...mapping, future: 1 }] };
    expect(readAgentReport(body)).toBe(body);
  });

  it.each([
    ['not an object', [], 'the answer is not a JSON object'],
    ['another version', { schemaVersion: 2 }, "schemaVersion 2 is not 1: use an nplctl of the agent's version"],
    ['no mappings', { schemaVersion: 1, dataplanes: [] }, 'mappings is not an array'],
    ['a bad mapping', { schemaVersion: 1, dataplanes: [], mappings: [{ ...mapping, nodePort: '1' }] }, 'mappings[0].nodePort is not a number'],
    ['a mapping without pod', { schemaVersion: 1, dataplanes: [], mappings: [7] }, 'mappings[0] is not an object with a pod'],
    ['no dataplanes', { schemaVersion: 1, mappings: [] }, 'dataplanes is not an array'],
  ])('rejects %s', (_t, body, message) => {
    expect(() => readAgentReport(body)).toThrow(message);
  });
});
