import { preset } from '../../jest.preset.mjs';

// End-to-end tests live in e2e/ next to src/ (never shipped in dist/).
export default { ...preset(import.meta.dirname), testMatch: ['<rootDir>/{src,e2e,test}/**/*.test.ts'] };
