/**
 * The chart talks to the binaries through environment variables only. Contract checked here: every
 * variable a rendered container sets is one its binary reads, as the binary itself documents it in
 * `--help` (the option table, plus the variables its help text names); the variables the chart must
 * set are set. A variable the binary ignores (a renamed option, a typo) fails this test instead of
 * being silently dropped on a production node.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { V1Container, V1DaemonSet, V1Deployment, V1Job } from '@kubernetes/client-node';
import { objects, REPO_ROOT, template } from './helm.js';

/** Every UPPER_CASE variable name the binary's `--help` prints. */
function documentedVariables(bin: string): Set<string> {
  const r = spawnSync(process.execPath, [`${REPO_ROOT}${bin}`, '--help'], { encoding: 'utf8', timeout: 30_000 });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`${bin} --help exited ${r.status} (is the package built? pnpm build): ${out}`);
  return new Set(out.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\bKUBECONFIG\b/g) ?? []);
}

const AGENT_BIN = 'packages/agent/dist/cli.js';
const CONTROLLER_BIN = 'packages/controller/dist/cli.js';

const CONTROLLER_VALUES = [
  '--set', 'controller.enabled=true',
  '--set', 'controller.bigip.url=https://192.0.2.1',
  '--set', 'controller.bigip.credentials.existingSecret=bigip',
  '--set', 'controller.bigip.ca.configMap=bigip-ca',
  '--set', 'controller.namespaces={team-a,team-b}',
  '--set', 'controller.namespaceLabelSelector=npl=on',
];

function rendered(extra: readonly string[]): ReturnType<typeof objects> {
  return objects(template('npl', 'npl-system', extra));
}

function podContainers(ds: V1DaemonSet): V1Container[] {
  const spec = ds.spec?.template.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

function envNames(c: V1Container): string[] {
  return (c.env ?? []).map((e) => e.name);
}

describe('environment variables between the chart and the binaries', () => {
  const agentVars = documentedVariables(AGENT_BIN);
  const controllerVars = documentedVariables(CONTROLLER_BIN);

  it('the binaries document their variables (sanity of the parser above)', () => {
    expect(agentVars).toContain('NPL_PORT_RANGE');
    expect(controllerVars).toContain('BIGIP_URL');
    expect(controllerVars).toContain('POD_NAMESPACE');
  });

  it.each([
    ['defaults', [] as string[]],
    ['iptables dataplane, custom values', ['--set', 'agent.dataplane=iptables', '--set', 'agent.portRange=30000-30100', '--set', 'agent.logLevel=debug']],
  ])('agent DaemonSet (%s): only variables npl-agent reads, NODE_NAME from the downward API', (_name, extra) => {
    const containers = podContainers(rendered(extra).find((o) => o.kind === 'DaemonSet') as V1DaemonSet);
    expect(containers.length).toBeGreaterThan(0);
    for (const c of containers) {
      expect({ container: c.name, unknown: envNames(c).filter((n) => !agentVars.has(n)) }).toEqual({ container: c.name, unknown: [] });
    }
    const agent = containers.find((c) => c.name === 'npl-agent');
    expect(agent?.env?.find((e) => e.name === 'NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
  });

  it('controller Deployment: only variables npl-controller reads, and the ones it needs to start', () => {
    const dep = rendered(CONTROLLER_VALUES).find((o) => o.kind === 'Deployment') as V1Deployment;
    const c = dep.spec?.template.spec?.containers.find((x) => x.name === 'npl-controller');
    expect(c).toBeDefined();
    const names = envNames(c as V1Container);
    expect(names.filter((n) => !controllerVars.has(n))).toEqual([]);
    for (const needed of ['BIGIP_URL', 'BIGIP_CREDENTIALS_DIR', 'BIGIP_CA_FILE', 'NPL_NAMESPACES', 'NPL_NAMESPACE_LABEL_SELECTOR', 'POD_NAMESPACE']) {
      expect(names).toContain(needed);
    }
  });

  it('the uninstall hook sets only variables its script documents in its header and reads', () => {
    const hook = rendered([]).find((o): o is V1Job => o.kind === 'Job');
    expect(hook).toBeDefined();
    // The pod template the hook writes is the agent's (checked above); the hook's own container
    // runs charts/npl/files/uninstall-agents.mjs, whose header comment lists its variables.
    const source = readFileSync(`${REPO_ROOT}charts/npl/files/uninstall-agents.mjs`, 'utf8');
    const header = source.split('\n').filter((l) => l.startsWith('//')).join(' ');
    const names = (hook?.spec?.template.spec?.containers ?? []).flatMap(envNames);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      expect({ name, documented: new RegExp(`\\b${name}\\b`).test(header), read: source.includes(name) }).toEqual({ name, documented: true, read: true });
    }
  });
});
