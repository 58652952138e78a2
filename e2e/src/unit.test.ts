/** The suite's pure parts: script output parsing, image references, options, scenario selection. */
import { describe, expect, it } from '@jest/globals';
import type { Capability } from './driver.js';
import { splitImage } from './kind/driver.js';
import { slotFromEnv } from './kind/options.js';
import { failureLines, parseKeyValues } from './kind/scripts.js';
import { SCENARIOS, scenariosFor } from './suite.js';

describe('script contract', () => {
  it('reads KEY=VALUE lines and ignores everything else', () => {
    expect(parseKeyValues('noise\nKUBECONFIG=/a/b c\nNPL_KIND_NODES=n1 n2\n lower=x\nA=\n')).toEqual({ KUBECONFIG: '/a/b c', NPL_KIND_NODES: 'n1 n2', A: '' });
  });

  it('quotes the error: lines of a failed script, else its last lines', () => {
    expect(failureLines('kind: step\nerror: no Docker engine\nkind: more\n')).toBe('error: no Docker engine');
    expect(failureLines(Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n'))).toBe(Array.from({ length: 15 }, (_, i) => `line ${i + 5}`).join('\n'));
  });
});

describe('image references', () => {
  it('splits at the last colon, keeping a registry port in the repository', () => {
    expect(splitImage('npl-agent:0123456789ab')).toEqual(['npl-agent', '0123456789ab']);
    expect(splitImage('registry.example.com:5000/npl/npl-agent:1.0')).toEqual(['registry.example.com:5000/npl/npl-agent', '1.0']);
  });

  it('refuses a reference without a tag, naming it', () => {
    expect(() => splitImage('registry.example.com:5000/npl-agent')).toThrow('image reference "registry.example.com:5000/npl-agent": expected repository:tag');
    expect(() => splitImage('npl-agent')).toThrow('expected repository:tag');
  });
});

describe('NPL_E2E_SLOT', () => {
  it('defaults, reads 0-7, and refuses anything else with the variable named', () => {
    expect(slotFromEnv(6, {})).toBe(6);
    expect(slotFromEnv(6, { NPL_E2E_SLOT: '4' })).toBe(4);
    expect(() => slotFromEnv(0, { NPL_E2E_SLOT: '8' })).toThrow('NPL_E2E_SLOT="8": expected a kind address slot 0-7');
  });
});

describe('scenario selection', () => {
  const names = (caps: Capability[]): string[] => scenariosFor({ capabilities: new Set(caps) }).map((s) => s.name);

  it("registers Antrea's cases by name on every driver, and the node restart only where nodes can restart", () => {
    const none = names([]);
    for (const n of ['NPLTestMultiplePods', 'NPLTestPodAddMultiPort', 'NPLTestPodAddMultiProtocol', 'NPLTestLocalAccess', 'testNPLMultiplePodsAgentRestart', 'testNPLChangePortRangeAgentRestart']) {
      expect(none).toContain(n);
    }
    expect(none).not.toContain('node restart');
    expect(names(['nodeRestart', 'chart'])).toContain('node restart');
  });

  it('keeps the uninstall last, so nothing runs after the agent is gone', () => {
    expect(SCENARIOS.at(-1)?.name).toBe('uninstall leaves nothing');
    expect(names(['nodeRestart']).at(-1)).toBe('uninstall leaves nothing');
  });
});
