/**
 * Helpers for the image tests: run scripts/images.sh and the Docker CLI against the engine that
 * scripts/docker.sh chooses, and read what images.sh prints. Everything that calls a process is
 * synchronous and bounded; a non-zero exit is returned, not thrown, so tests can assert on it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The images scripts/images.sh builds, by the key of its output line. */
export const IMAGE_KEYS = {
  agent: 'NPL_IMAGE_AGENT',
  controller: 'NPL_IMAGE_CONTROLLER',
  emulator: 'NPL_IMAGE_EMULATOR',
} as const;

export type ImageName = keyof typeof IMAGE_KEYS;
export type ImageRefs = Record<ImageName, string>;

/** The repository and package directory of each image (as in its Dockerfile's build command). */
export const IMAGE_SOURCES: Record<ImageName, { readonly repository: string; readonly packageDir: string }> = {
  agent: { repository: 'npl-agent', packageDir: 'packages/agent' },
  controller: { repository: 'npl-controller', packageDir: 'packages/controller' },
  emulator: { repository: 'npl-bigip-emulator', packageDir: 'packages/bigip-emulator' },
};

/**
 * The image references in images.sh's stdout (`KEY=repository:tag` lines; other lines ignored).
 * Throws naming the first key that is missing or whose value is not `<repository>:<12 hex digits>`.
 */
export function parseImageRefs(stdout: string): ImageRefs {
  const values = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) values.set(m[1], m[2]);
  }
  const refs: Partial<ImageRefs> = {};
  for (const [name, key] of Object.entries(IMAGE_KEYS) as [ImageName, string][]) {
    const value = values.get(key);
    if (value === undefined) throw new Error(`images.sh printed no ${key}= line`);
    const { repository } = IMAGE_SOURCES[name];
    if (!new RegExp(`^${repository}:[0-9a-f]{12}$`).test(value)) {
      throw new Error(`images.sh printed ${key}=${value}: expected ${repository}:<first 12 hex digits of the image ID>`);
    }
    refs[name] = value;
  }
  return refs as ImageRefs;
}

/** The tag images.sh gives an image: the first 12 hex digits of its ID (`sha256:<64 hex>`). */
export function contentTag(imageId: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(imageId);
  if (!m?.[1]) throw new Error(`not an image ID: ${JSON.stringify(imageId)}`);
  return m[1].slice(0, 12);
}

/**
 * Packages that must never be in an image: the devDependencies of the repository root and of the
 * image's package, except type packages (`@types/*`, which runtime dependencies such as
 * @kubernetes/client-node list as their own dependencies and which hold no code).
 */
export function forbiddenPackages(rootPackageJson: string, packageJson: string): string[] {
  const names = new Set<string>();
  for (const text of [rootPackageJson, packageJson]) {
    const dev = (JSON.parse(text) as { devDependencies?: Record<string, string> }).devDependencies ?? {};
    for (const name of Object.keys(dev)) if (!name.startsWith('@types/')) names.add(name);
  }
  return [...names].sort();
}

/**
 * The package names in a listing of a pnpm virtual store (`node_modules/.pnpm` entries such as
 * `@kubernetes+client-node@2.0.1_bare-buffer@3.7.3` or `@npl+core@file+...`); `node_modules` and
 * `lock.yaml` are not packages.
 */
export function virtualStorePackages(entries: readonly string[]): string[] {
  const out = new Set<string>();
  for (const entry of entries) {
    const m = /^(@[^+]+\+)?([^@]+)@/.exec(entry);
    if (!m?.[2]) continue;
    out.add(m[1] ? `${m[1].slice(0, -1)}/${m[2]}` : m[2]);
  }
  return [...out].sort();
}

export function readRepoFile(path: string): string {
  return readFileSync(`${REPO_ROOT}${path}`, 'utf8');
}

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export function run(cmd: string, args: readonly string[], options: RunOptions = {}): RunResult {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    cwd: REPO_ROOT,
    input: options.input,
    timeout: options.timeoutMs ?? 120_000,
    env: options.env ?? process.env,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The environment in which `docker` talks to the engine scripts/docker.sh chooses (it starts the
 * private engine when needed). Throws with that script's message when there is none.
 */
export function dockerEnv(): NodeJS.ProcessEnv {
  const r = run('bash', ['-c', 'source scripts/docker.sh && npl_ensure_docker && printf %s "${DOCKER_HOST:-}"'], { timeoutMs: 300_000 });
  if (r.status !== 0) throw new Error(`npl_ensure_docker failed: ${r.stderr}`);
  const env = { ...process.env };
  if (r.stdout) env.DOCKER_HOST = r.stdout;
  return env;
}

/** A Docker CLI bound to one environment (from dockerEnv). */
export function dockerCli(env: NodeJS.ProcessEnv): (args: readonly string[], options?: RunOptions) => RunResult {
  return (args, options = {}) => run('docker', args, { ...options, env });
}
