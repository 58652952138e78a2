/**
 * The container images as a user gets them: scripts/images.sh builds them (base images included,
 * as stand-ins where none can be pulled), then each image is run the way the chart runs it.
 * Needs a Docker engine (scripts/docker.sh starts a private one as root). Run it under the
 * machine-wide lock: it starts containers and a docker network (npl-images-test, 198.18.56.0/24).
 */
import { request } from 'node:https';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { eventually } from '@npl/runtime';
import { describeUnless, shippedTestCode } from '@npl/testkit';
import type { SkipReason } from '@npl/testkit';
import type { ImageName, ImageRefs, RunResult } from '../src/images.js';
import { contentTag, dockerCli, dockerEnv, forbiddenPackages, IMAGE_SOURCES, parseImageRefs, readRepoFile, REPO_ROOT, run, virtualStorePackages } from '../src/images.js';

/** Generous bounds that still catch a build stage or a toolchain leaking into an image. */
const MAX_IMAGE_BYTES = 450e6;
const MAX_ADDED_BYTES = 100e6; // above the node base image
const NETWORK = 'npl-images-test';
const SUBNET = '198.18.56.0/24';
const BASE = 'node:24.21.0-bookworm-slim';

function skipReason(): SkipReason {
  if (process.getuid?.() === 0) return undefined;
  return run('docker', ['info'], { timeoutMs: 20_000 }).status === 0 ? undefined : 'needs root (to start the private Docker engine) or a Docker engine; run the tests as root';
}

let docker: ReturnType<typeof dockerCli>;
let refs: ImageRefs;
const containers: string[] = [];
let createdNetwork = false;

function ok(r: RunResult, what: string): string {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** `docker run --rm` of an image with extra run flags, the entrypoint replaced by `sh -c script`. */
function sh(image: ImageName, script: string, flags: readonly string[] = []): RunResult {
  return docker(['run', '--rm', '--network', 'none', ...flags, '--entrypoint', 'sh', refs[image], '-c', script]);
}

function inspect<T>(ref: string, format: string): T {
  return JSON.parse(ok(docker(['image', 'inspect', '-f', `{{json ${format}}}`, ref]), `docker image inspect ${ref}`)) as T;
}

function buildImages(): { stdout: string; stderr: string } {
  const r = run('bash', ['scripts/images.sh'], { timeoutMs: 40 * 60_000 });
  if (r.status !== 0) throw new Error(`scripts/images.sh exited ${r.status}:\n${r.stderr.split('\n').slice(-40).join('\n')}`);
  return r;
}

describeUnless(skipReason(), 'container images (scripts/images.sh)', () => {
  beforeAll(() => {
    docker = dockerCli(dockerEnv());
    refs = parseImageRefs(buildImages().stdout);
  }, 45 * 60_000);

  afterAll(() => {
    for (const name of containers) docker(['rm', '-f', name]);
    if (createdNetwork) docker(['network', 'rm', NETWORK]);
  });

  it('tags each image with its content: the tag is the image ID, and a second run with nothing changed prints the same tags', () => {
    for (const ref of Object.values(refs)) {
      expect(ref.split(':')[1]).toBe(contentTag(inspect<string>(ref, '.Id')));
    }
    expect(parseImageRefs(buildImages().stdout)).toEqual(refs);
  }, 10 * 60_000);

  it('the node base (official, or the stand-in built here) keeps the official image\'s contract', () => {
    const config = inspect<{ Env: string[]; Entrypoint: string[]; Cmd: string[] }>(BASE, '.Config');
    expect(config.Env).toEqual(expect.arrayContaining(['NODE_VERSION=24.21.0', expect.stringMatching(/^PATH=\/usr\/local\/sbin:\/usr\/local\/bin:/)]));
    expect({ entrypoint: config.Entrypoint, cmd: config.Cmd }).toEqual({ entrypoint: ['docker-entrypoint.sh'], cmd: ['node'] });
    // docker-entrypoint.sh runs node for an argument starting with "-".
    expect(ok(docker(['run', '--rm', '--network', 'none', BASE, '--version']), 'node --version')).toBe('v24.21.0\n');
    const out = ok(docker(['run', '--rm', '--network', 'none', BASE, 'sh', '-c', 'id node; npm --version; . /etc/os-release; echo "$VERSION_CODENAME"']), 'base');
    expect(out).toMatch(/^uid=1000\(node\) gid=1000\(node\) groups=1000\(node\)\n\d+\.\d+\.\d+\nbookworm\n$/);
  });

  it('labels each image (OCI): title, version from its package.json, licenses, source', () => {
    for (const [name, { repository, packageDir }] of Object.entries(IMAGE_SOURCES) as [ImageName, (typeof IMAGE_SOURCES)[ImageName]][]) {
      const labels = inspect<Record<string, string>>(refs[name], '.Config.Labels');
      const { version } = JSON.parse(readRepoFile(`${packageDir}/package.json`)) as { version: string };
      expect(labels).toMatchObject({ 'org.opencontainers.image.title': repository, 'org.opencontainers.image.version': version });
      expect(labels).toHaveProperty(['org.opencontainers.image.licenses']);
      expect(labels).toHaveProperty(['org.opencontainers.image.source']);
      expect(readRepoFile(`${packageDir}/Dockerfile`)).toContain(`ARG VERSION=${version}\n`);
    }
  });

  it('prints the image sizes, each within its bound', () => {
    const base = inspect<number>(BASE, '.Size');
    const sizes = Object.entries(refs).map(([name, ref]) => ({ name, ref, size: inspect<number>(ref, '.Size') }));
    process.stdout.write(`image sizes (MB): base ${BASE} ${(base / 1e6).toFixed(1)}; ${sizes.map((s) => `${s.ref} ${(s.size / 1e6).toFixed(1)} (+${((s.size - base) / 1e6).toFixed(1)})`).join('; ')}\n`);
    for (const s of sizes) {
      expect(s.size).toBeLessThan(MAX_IMAGE_BYTES);
      expect(s.size - base).toBeLessThan(MAX_ADDED_BYTES);
    }
  });

  it('npl-agent: entrypoint npl-agent as root, --help exits 0', () => {
    expect(inspect<string[]>(refs.agent, '.Config.Entrypoint')).toEqual(['npl-agent']);
    expect(inspect<string>(refs.agent, '.Config.User')).toMatch(/^(0(:0)?)?$/);
    const r = docker(['run', '--rm', '--network', 'none', '--read-only', '--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN', refs.agent, '--help']);
    expect(ok(r, 'npl-agent --help')).toMatch(/^Usage: npl-agent \[options\]/);
    expect(r.stdout).toContain('npl-agent uninstall');
  });

  it('npl-agent: has nft, iptables and ip6tables with both backends (and their save/restore), conntrack', () => {
    const tools = ['nft', 'conntrack', 'iptables-nft', 'iptables-legacy', 'ip6tables-nft', 'ip6tables-legacy',
      'iptables-nft-save', 'iptables-nft-restore', 'iptables-legacy-save', 'iptables-legacy-restore',
      'ip6tables-nft-save', 'ip6tables-nft-restore', 'ip6tables-legacy-save', 'ip6tables-legacy-restore'];
    const out = ok(sh('agent', `for t in ${tools.join(' ')}; do if v=$($t --version 2>&1); then echo "$t: $(echo "$v" | head -n 1) (exit 0)"; else echo "$t: failed: $v"; fi; done`), 'tool versions');
    for (const t of tools) expect(out).toMatch(new RegExp(`^${t}: .* v\\d[^\\n]*\\(exit 0\\)$`, 'm'));
    expect(out).toMatch(/^iptables-legacy: iptables v[\d.]+ \(legacy\) \(exit 0\)$/m);
    expect(out).toMatch(/^iptables-nft: iptables v[\d.]+ \(nf_tables\) \(exit 0\)$/m);
  });

  it('npl-agent: programs nftables in its own network namespace with only NET_ADMIN, and cannot without it', () => {
    const script = 'nft add table ip npl_image_test && nft add chain ip npl_image_test c && nft list table ip npl_image_test && iptables-nft -t nat -N NPL-IMAGE-TEST && iptables-nft-save -t nat';
    const caps = ['--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN', '--read-only'];
    const out = ok(sh('agent', script, caps), 'nft with NET_ADMIN');
    expect(out).toContain('table ip npl_image_test {');
    expect(out).toContain('chain c {');
    expect(out).toContain(':NPL-IMAGE-TEST - [0:0]');
    const denied = sh('agent', 'nft add table ip npl_image_test', ['--cap-drop', 'ALL']);
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toMatch(/Operation not permitted/);
  });

  it('npl-agent: iptables-legacy works with NET_ADMIN and NET_RAW (what the chart grants the iptables dataplane)', () => {
    const script = 'iptables-legacy -t nat -N NPL-IMAGE-TEST && iptables-legacy -t nat -A NPL-IMAGE-TEST -p tcp --dport 61000 -j DNAT --to-destination 198.18.56.9:80 && iptables-legacy-save -t nat';
    // iptables-legacy serialises on /run/xtables.lock: the chart mounts the node's, here a tmpfs.
    const flags = ['--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN', '--cap-add', 'NET_RAW', '--read-only', '--tmpfs', '/run'];
    const out = ok(sh('agent', script, flags), 'iptables-legacy');
    expect(out).toContain('-A NPL-IMAGE-TEST -p tcp -m tcp --dport 61000 -j DNAT --to-destination 198.18.56.9:80');
  });

  it('npl-agent: runs the chart uninstall hook\'s `node /scripts/uninstall-agents.mjs` as uid 65532, read-only, no capabilities', () => {
    const flags = ['--user', '65532:65532', '--read-only', '--cap-drop', 'ALL', '-v', `${REPO_ROOT}charts/npl/files:/scripts:ro`];
    expect(ok(docker(['run', '--rm', '--network', 'none', ...flags, '--entrypoint', 'node', refs.agent, '--version']), 'node --version')).toBe('v24.21.0\n');
    // Without the hook's environment the script stops at its own first check: proof that node ran it.
    const r = docker(['run', '--rm', '--network', 'none', ...flags, '--entrypoint', 'node', refs.agent, '/scripts/uninstall-agents.mjs']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('DAEMONSET, NAMESPACE and KUBERNETES_SERVICE_HOST must be set');
  });

  it('npl-controller: entrypoint npl-controller as uid 65532, --help exits 0, render prints the desired BIG-IP pools', () => {
    expect(inspect<string[]>(refs.controller, '.Config.Entrypoint')).toEqual(['npl-controller']);
    expect(inspect<string>(refs.controller, '.Config.User')).toBe('65532:65532');
    const flags = ['--rm', '--network', 'none', '--read-only', '--cap-drop', 'ALL'];
    expect(ok(docker(['run', ...flags, refs.controller, '--help']), 'npl-controller --help')).toMatch(/^Usage: npl-controller \[options\]/);
    expect(ok(docker(['run', ...flags, '--entrypoint', 'id', refs.controller]), 'id')).toBe('uid=65532 gid=65532 groups=65532\n');
    const web = readRepoFile('packages/controller/src/testdata/web.yaml');
    expect(ok(docker(['run', '-i', ...flags, refs.controller, 'render', '-f', '-'], { input: web }), 'npl-controller render'))
      .toBe('pool /k8s/my_app_8080_prod prod/my-app:8080/tcp monitor=/Common/http\n  member 192.0.2.10 61001\n  member 192.0.2.11 61002 disabled\n');
  });

  it('bigip-emulator: entrypoint bigip-emulator as uid 65532, --help exits 0', () => {
    expect(inspect<string[]>(refs.emulator, '.Config.Entrypoint')).toEqual(['bigip-emulator']);
    expect(inspect<string>(refs.emulator, '.Config.User')).toBe('65532:65532');
    expect(ok(docker(['run', '--rm', '--network', 'none', '--cap-drop', 'ALL', refs.emulator, '--help']), 'bigip-emulator --help')).toMatch(/^bigip-emulator: a BIG-IP iControl REST/);
    expect(ok(docker(['run', '--rm', '--network', 'none', '--entrypoint', 'id', refs.emulator]), 'id')).toBe('uid=65532 gid=65532 groups=65532\n');
  });

  it('bigip-emulator: serves iControl REST and AS3 on its default address, reached through a published loopback port', async () => {
    ensureNetwork();
    const name = `npl-images-emulator-${process.pid}`;
    containers.push(name);
    ok(docker(['run', '-d', '--name', name, '--network', NETWORK, '--cap-drop', 'ALL', '-p', '127.0.0.1::8443', refs.emulator]), 'docker run emulator');
    const caFile = await eventually(() => Promise.resolve(/^BIGIP_CA_FILE=(.+)$/m.exec(docker(['logs', name]).stdout)?.[1]), 60_000, 'the emulator printing BIGIP_CA_FILE=');
    const ca = ok(docker(['exec', name, 'cat', caFile]), 'cat CA');
    const port = Number(/^127\.0\.0\.1:(\d+)$/m.exec(ok(docker(['port', name, '8443/tcp']), 'docker port'))?.[1]);
    const call = (method: string, path: string, body?: unknown) => https({ port, ca, method, path, body });

    const login = await eventually(() => call('POST', '/mgmt/shared/authn/login', { username: 'admin', password: 'admin', loginProviderName: 'tmos' }), 30_000, 'login');
    expect(login.status).toBe(200);
    expect((login.body as { token?: { token?: string } }).token?.token).toEqual(expect.any(String));
    // What npl-controller's as3 backend would send for the testdata, rendered by the controller image.
    const web = readRepoFile('packages/controller/src/testdata/web.yaml');
    const declaration = JSON.parse(ok(docker(['run', '-i', '--rm', '--network', 'none', refs.controller, 'render', '-f', '-', '--backend', 'as3', '--bigip-partition', 'tenant1'], { input: web }), 'render as3')) as unknown;
    const declared = await call('POST', '/mgmt/shared/appsvcs/declare', declaration);
    expect({ status: declared.status, body: declared.body }).toMatchObject({ status: 200, body: { results: [expect.objectContaining({ tenant: 'tenant1', code: 200 })] } });
    const pools = await call('GET', '/mgmt/tm/ltm/pool');
    expect(pools.status).toBe(200);
    expect((pools.body as { items: { fullPath: string }[] }).items.map((p) => p.fullPath)).toEqual([expect.stringMatching(/^\/tenant1\//)]);
  }, 120_000);

  it('no test, testing, e2e or bench code and no devDependency in any image', () => {
    const rootPackage = readRepoFile('package.json');
    for (const [name, { packageDir }] of Object.entries(IMAGE_SOURCES) as [ImageName, (typeof IMAGE_SOURCES)[ImageName]][]) {
      const app = `/opt/npl/${packageDir.split('/')[1]}`;
      const files = ok(sh(name, `cd ${app} && find . -type f | sed 's|^\\./||'`), 'find').split('\n').filter(Boolean);
      expect(files.length).toBeGreaterThan(10);
      const testFiles = files.filter((f) => /\.(test|spec)\.[cm]?[jt]s$/.test(f) || /(^|\/)__tests__\//.test(f));
      expect({ image: refs[name], testFiles }).toEqual({ image: refs[name], testFiles: [] });
      // Our own packages' dist/ (the app's and each workspace dependency's) under the dist check.
      const dists = files.filter((f) => /(^|\/)dist\//.test(f)).map((f) => f.slice(f.lastIndexOf('dist/') + 5));
      expect({ image: refs[name], shipped: shippedTestCode(dists) }).toEqual({ image: refs[name], shipped: [] });
      const store = ok(sh(name, `ls ${app}/node_modules/.pnpm`), 'ls .pnpm').split('\n').filter(Boolean);
      const forbidden = forbiddenPackages(rootPackage, readRepoFile(`${packageDir}/package.json`));
      expect({ image: refs[name], devDependencies: virtualStorePackages(store).filter((p) => forbidden.includes(p)) }).toEqual({ image: refs[name], devDependencies: [] });
      expect(virtualStorePackages(store)).not.toContain('typescript');
      expect(virtualStorePackages(store)).not.toContain('jest');
    }
  });
});

/** The test's docker network: a bridge without masquerade in the benchmark range (see the header). */
function ensureNetwork(): void {
  if (docker(['network', 'inspect', NETWORK]).status === 0) return;
  ok(docker(['network', 'create', '--driver', 'bridge', '--subnet', SUBNET, '-o', 'com.docker.network.bridge.enable_ip_masquerade=false',
    '-o', `com.docker.network.bridge.name=${NETWORK}`, NETWORK]), 'docker network create');
  createdNetwork = true;
}

interface HttpsCall {
  readonly port: number;
  readonly ca: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
}

/** One HTTPS request to 127.0.0.1 as admin (Basic), trusting only the emulator's CA. */
function https(c: HttpsCall): Promise<{ status: number; body: unknown }> {
  const payload = c.body === undefined ? undefined : JSON.stringify(c.body);
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port: c.port, method: c.method, path: c.path, ca: c.ca, timeout: 20_000,
      headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : undefined }));
    });
    req.on('timeout', () => req.destroy(new Error(`${c.method} ${c.path}: no answer in 20 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}
