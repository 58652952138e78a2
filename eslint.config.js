// Lint rules for every package. Type-aware: floating promises are errors.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/dist-bench/**', '**/node_modules/**', '**/*.mjs', '**/*.cjs', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      complexity: ['warn', 12],
      'max-params': ['warn', 5],
    },
  },
  {
    // @npl/core is pure: no I/O modules, no Kubernetes client calls (type-only imports are fine).
    files: ['packages/core/src/**/*.ts'],
    ignores: ['packages/core/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(node:)?(net|dgram|child_process|fs|fs/promises|http|https|http2|os|dns|worker_threads|cluster|process)$',
              message: '@npl/core is pure: side effects belong in the deployable packages behind an interface.',
            },
            {
              group: ['@kubernetes/client-node'],
              allowTypeImports: true,
              message: '@npl/core may only import Kubernetes types (import type).',
            },
            { group: ['execa', 'fastify', 'pino'], message: '@npl/core is pure.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'fetch', 'setTimeout', 'setInterval'],
    },
  },
  {
    // npl-controller depends on the annotation contract only (@npl/core/annotation, and the leaf
    // @npl/core/coded-error its error registry extends), never on the agent or on @npl/core's other
    // modules (renderers, port table, planner). Tested in
    // packages/core/src/controller-boundary.test.ts.
    files: ['packages/controller/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@npl/core', message: 'npl-controller may import only @npl/core/annotation (the annotation contract).' }],
          patterns: [
            {
              group: ['@npl/core/*', '!@npl/core/annotation', '!@npl/core/coded-error'],
              message: 'npl-controller may import only @npl/core/annotation (the annotation contract).',
            },
            { group: ['@npl/agent', '@npl/agent/*'], message: 'npl-controller must not depend on npl-agent.' },
            {
              regex: '(^|/)(core|agent)/(src|dist)(/|$)',
              message: 'npl-controller must not reach into @npl/core or @npl/agent files; import @npl/core/annotation.',
            },
          ],
        },
      ],
    },
  },
  {
    // nplctl is a client of the published contracts only: the annotation codec (@npl/core/annotation)
    // and npl-agent's documented GET /mappings JSON, never the agent's or core's internals.
    files: ['packages/nplctl/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@npl/core', message: 'nplctl may import only @npl/core/annotation (the annotation contract).' }],
          patterns: [
            { group: ['@npl/core/*', '!@npl/core/annotation'], message: 'nplctl may import only @npl/core/annotation (the annotation contract).' },
            { group: ['@npl/agent', '@npl/agent/*', '@npl/runtime', '@npl/runtime/*'], message: 'nplctl reads the agent over HTTP (its /mappings JSON), it does not import it.' },
          ],
        },
      ],
    },
  },
);
