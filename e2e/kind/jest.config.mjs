// Jest for e2e/kind's own tests (test/*.test.ts), runnable on its own:
//   node --experimental-vm-modules node_modules/jest/bin/jest.js -c e2e/kind/jest.config.mjs
import { preset } from '../../jest.preset.mjs';

export default { ...preset(import.meta.dirname), displayName: 'e2e-kind' };
