// Shared Jest settings for every package: ESM mode, TypeScript through @swc/jest
// (no type-checking here; `tsc --noEmit` is the separate typecheck task).
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(fileURLToPath(import.meta.url));

/** @param {string} dir the package directory */
export function preset(dir) {
  return {
    displayName: path.basename(dir),
    rootDir: dir,
    testEnvironment: 'node',
    extensionsToTreatAsEsm: ['.ts'],
    // Tests next to the code (src/) and integration tests outside src/ (e2e/, test/), which the
    // build (tsconfig.build.json: src only) never compiles into dist/.
    testMatch: ['<rootDir>/{src,e2e,test}/**/*.test.ts'],
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        {
          jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
          module: { type: 'es6' },
          sourceMaps: 'inline',
        },
      ],
    },
    moduleNameMapper: {
      // Workspace packages resolve to their sources, so tests never need a prior build.
      '^@npl/([a-z0-9-]+)$': path.join(root, 'packages/$1/src/index.ts'),
      '^@npl/([a-z0-9-]+)/testing$': path.join(root, 'packages/$1/src/testing/index.ts'),
      // Subpath entry points (package.json `exports`) map to their source file.
      '^@npl/core/annotation$': path.join(root, 'packages/core/src/annotation-contract.ts'),
      '^@npl/core/coded-error$': path.join(root, 'packages/core/src/coded-error.ts'),
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    testTimeout: 30_000,
  };
}
