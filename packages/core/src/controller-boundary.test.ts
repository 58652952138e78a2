/**
 * npl-controller's dependency boundary: it may import the annotation contract (`@npl/core/annotation`)
 * and nothing else of @npl/core or @npl/agent. The rule lives in eslint.config.js; this runs ESLint's
 * API on snippets placed as if in packages/controller and expects the rule's verdicts. The second
 * part checks the contract entry point itself exposes the codec.
 */
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import * as contract from '@npl/core/annotation';

const root = path.resolve(import.meta.dirname, '../../..');
const eslint = new ESLint({
  cwd: root,
  // Only the import rule: type-aware rules would need the file to exist in a tsconfig project.
  ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

async function restricted(code: string, file = 'packages/controller/src/pools.ts'): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('npl-controller import boundary (eslint no-restricted-imports)', () => {
  it.each([
    "import { parseNplAnnotation, NPL_ANNOTATION_KEY } from '@npl/core/annotation';",
    "import type { CompleteNplEntry } from '@npl/core/annotation';",
    "import { CodedError, codedErrorGuard } from '@npl/core/coded-error';",
    "import { Manager, LeaderElector } from '@npl/runtime';",
    "import { CoreV1Api } from '@kubernetes/client-node';",
    "import { pools } from './pools-plan.js';",
  ])('allows %s', async (code) => {
    expect(await restricted(code)).toEqual([]);
  });

  it.each([
    ["import { parseNplAnnotation } from '@npl/core';", 'only @npl/core/annotation'],
    ["import type { PortTable } from '@npl/core';", 'only @npl/core/annotation'],
    ["import { renderNftables } from '@npl/core/render-nftables';", 'only @npl/core/annotation'],
    ["import { x } from '@npl/core/dist/annotation.js';", 'only @npl/core/annotation'],
    ["import { FakePortReserver } from '@npl/core/testing';", 'only @npl/core/annotation'],
    ["import { startAgent } from '@npl/agent';", 'must not depend on npl-agent'],
    ["import { FakeDataplane } from '@npl/agent/testing';", 'must not depend on npl-agent'],
    ["import { parseNplAnnotation } from '../../core/src/annotation.js';", 'must not reach into'],
    ["import { NplController } from '../../agent/src/controller.js';", 'must not reach into'],
  ])('refuses %s', async (code, why) => {
    const messages = await restricted(code);
    expect(messages.length).toBeGreaterThanOrEqual(1);
    expect(messages.every((m) => m.startsWith('no-restricted-imports: '))).toBe(true);
    expect(messages.some((m) => m.includes(why))).toBe(true);
  });

  it('applies to packages/controller only (the agent may import @npl/core)', async () => {
    expect(await restricted("import { PortTable } from '@npl/core';", 'packages/agent/src/x.ts')).toEqual([]);
    expect(await restricted("import { PortTable } from '@npl/core';", 'packages/controller/test/x.test.ts')).toHaveLength(1);
  });
});

describe('@npl/core/annotation entry point', () => {
  it('exposes the keys, the codec and its error, and nothing else', () => {
    expect(Object.keys(contract).sort()).toEqual(
      [
        'NPL_ANNOTATION_KEY',
        'NPL_ENABLED_ANNOTATION_KEY',
        'NplError',
        'annotationUpToDate',
        'annotationsEqual',
        'formatNplAnnotation',
        'ipFamilyForAnnotation',
        'isCompleteNplEntry',
        'isNplError',
        'parseNplAnnotation',
      ].sort(),
    );
    const text = contract.formatNplAnnotation([{ podPort: 8080, nodeIP: '198.18.0.10', nodePort: 61000, protocol: 'tcp', ipFamily: 'IPv4' }]);
    expect(text).toBe('[{"podPort":8080,"nodeIP":"198.18.0.10","nodePort":61000,"protocol":"tcp","ipFamily":"IPv4"}]');
    expect(contract.parseNplAnnotation(text).filter(contract.isCompleteNplEntry)).toHaveLength(1);
    let err: unknown;
    try {
      contract.parseNplAnnotation('{');
    } catch (e) {
      err = e;
    }
    expect(contract.isNplError(err, 'NPL_ANNOTATION_INVALID')).toBe(true);
  });
});
