// Root Jest config: every package's tests and the e2e scenario suite in one run (used by scripts/test-all.sh).
import { readdirSync, existsSync } from 'node:fs';

const projects = readdirSync(new URL('./packages/', import.meta.url))
  .filter((name) => existsSync(new URL(`./packages/${name}/jest.config.mjs`, import.meta.url)))
  .map((name) => `<rootDir>/packages/${name}`);

export default { projects: [...projects, '<rootDir>/e2e'] };
