// Root Jest config: every package's tests and the e2e suite in one run (used by scripts/test-all.sh).
// e2e/ is the scenario suite (@npl/e2e); e2e/kind and e2e/kind/cni hold the kind and CNI scripts'
// own tests when they have a Jest config.
import { readdirSync, existsSync } from 'node:fs';

const hasConfig = (dir) => existsSync(new URL(`./${dir}/jest.config.mjs`, import.meta.url));
const packages = readdirSync(new URL('./packages/', import.meta.url)).map((name) => `packages/${name}`);
const projects = [...packages, 'e2e', 'e2e/kind', 'e2e/kind/cni'].filter(hasConfig).map((dir) => `<rootDir>/${dir}`);

export default { projects };
