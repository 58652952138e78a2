/**
 * Static checks of charts/npl (no cluster): helm lint --strict, golden renders and the generated
 * plain manifests against a fresh render, the schema's and templates' error messages, the README
 * listing every value, and the agent's configuration and privileges as rendered.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SpawnSyncReturns } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KubernetesObject, V1ClusterRole, V1DaemonSet, V1Job, V1Role } from '@kubernetes/client-node';
import { loadYaml } from '@kubernetes/client-node';
import { OPTIONS as AGENT_OPTIONS } from '../../agent/src/config.js';
import { CHART_DIR, helm, helmBinary, objects, RENDER_SCRIPT, REPO_ROOT, template } from './helm.js';

const CI_VALUES = readdirSync(path.join(CHART_DIR, 'ci')).filter((f) => f.endsWith('-values.yaml')).sort();

function find<T extends KubernetesObject>(objs: KubernetesObject[], kind: string, name: string): T {
  const o = objs.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!o) throw new Error(`${kind} ${name} not rendered; rendered: ${objs.map((x) => `${x.kind}/${x.metadata?.name}`).join(', ')}`);
  return o as T;
}

function render(extra: readonly string[] = []): KubernetesObject[] {
  return objects(template('npl', 'kube-system', extra));
}

describe('helm lint --strict', () => {
  it.each(['(defaults)', ...CI_VALUES])('passes with %s', (file) => {
    const r = helm(['lint', '--strict', CHART_DIR, ...(file === '(defaults)' ? [] : ['-f', path.join(CHART_DIR, 'ci', file)])]);
    expect(`${r.stdout}${r.stderr}`).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.status).toBe(0);
  });
});

describe('generated files equal a fresh render (bash packages/chart/scripts/render.sh regenerates them)', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'npl-chart-render-'));
  let r: SpawnSyncReturns<string>;
  beforeAll(() => {
    r = spawnSync('bash', [RENDER_SCRIPT, out], { encoding: 'utf8', env: { ...process.env, NPL_HELM: helmBinary() } });
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const files = [
    ...CI_VALUES.map((f) => `packages/chart/golden/${f.replace('-values.yaml', '.yaml')}`),
    'packages/agent/manifests/rbac.yaml',
    'packages/controller/manifests/rbac.yaml',
  ];
  it('the render script succeeds', () => {
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
  it.each(files)('%s', (file) => {
    const committed = readFileSync(path.join(REPO_ROOT, file), 'utf8');
    expect(readFileSync(path.join(out, file), 'utf8')).toBe(committed);
  });
  it('every ci values file has its golden file', () => {
    expect(readdirSync(path.join(REPO_ROOT, 'packages/chart/golden')).sort()).toEqual(CI_VALUES.map((f) => f.replace('-values.yaml', '.yaml')));
  });
});

describe('bad values are rejected with a message naming the value and the expectation', () => {
  it.each([
    [['--set', 'agent.bogus=1'], "at '/agent': additional properties 'bogus' not allowed"],
    [['--set', 'unknownTopLevel=1'], "additional properties 'unknownTopLevel' not allowed"],
    [['--set', 'controller.bigip.credentails.username=x'], "at '/controller/bigip': additional properties 'credentails' not allowed"],
    [['--set', 'agent.dataplane=ebpf'], "at '/agent/dataplane': value must be one of 'nftables', 'iptables'"],
    [['--set', 'agent.portRange=61000'], "at '/agent/portRange'"],
    [['--set', 'agent.portRange=62000-61000'], 'agent.portRange "62000-61000": expected start-end with 1 <= start <= end <= 65535'],
    [['--set', 'agent.workers=0'], "at '/agent/workers': minimum: got 0, want 1"],
    [['--set', 'agent.verifyPeriod=often'], "at '/agent/verifyPeriod'"],
    [['--set', 'agent.logLevel=verbose'], "at '/agent/logLevel': value must be one of"],
    [['--set', 'agent.healthPort=70000'], "at '/agent/healthPort': maximum: got 70,000, want 65,535"],
    [['--set', 'controller.bigip.url=ftp://x/y'], "at '/controller/bigip/url'"],
    [['--set', 'controller.enabled=true'], 'controller.bigip.url is required when controller.enabled is true'],
    [['--set', 'controller.enabled=true', '--set', 'controller.bigip.url=https://192.0.2.1'], 'controller.bigip.credentials: set existingSecret'],
    [
      ['--set', 'controller.enabled=true', '--set', 'controller.bigip.url=https://192.0.2.1', '--set', 'controller.bigip.credentials.existingSecret=s', '--set', 'controller.bigip.credentials.username=u'],
      'set either existingSecret or username and password, not both',
    ],
    [['--set', 'controller.namespaces={Bad_Name}'], "at '/controller/namespaces/0'"],
  ])('%j', (args, message) => {
    const r = helm(['template', 'npl', CHART_DIR, ...args]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
  });
});

interface SchemaNode {
  readonly type?: string | string[];
  /** "one value …": an object documented as one value (resources, updateStrategy). */
  readonly $comment?: string;
  readonly properties?: Record<string, SchemaNode>;
  readonly $ref?: string;
}

describe('README.md', () => {
  const schema = JSON.parse(readFileSync(path.join(CHART_DIR, 'values.schema.json'), 'utf8')) as SchemaNode & { definitions: Record<string, SchemaNode> };
  const resolve = (n: SchemaNode): SchemaNode => (n.$ref ? (schema.definitions[n.$ref.replace('#/definitions/', '')] ?? n) : n);
  /** Dotted paths of every value: a leaf of the schema (an object with fixed properties is not a value itself). */
  const leaves = (n: SchemaNode, prefix: string): string[] => {
    const node = resolve(n);
    if (!node.properties || node.$comment?.startsWith('one value')) return [prefix];
    return Object.entries(node.properties).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  };
  const readme = readFileSync(path.join(CHART_DIR, 'README.md'), 'utf8');
  const values = leaves(schema, '');
  it.each(values)('lists %s in the values table', (value) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${value.replace(/\./g, '\\.')}\` \\|`, 'm'));
  });
  it('lists no value the chart does not have', () => {
    const listed = [...readme.matchAll(/^\| `([A-Za-z.]+)` \|/gm)].map((m) => m[1]);
    expect(listed.filter((v) => !values.includes(v as string))).toEqual([]);
  });
  it('every value of values.yaml is in the schema, and the reverse', () => {
    const yamlLeaves = (v: unknown, prefix: string, schemaNode: SchemaNode): string[] => {
      const node = resolve(schemaNode);
      if (!node.properties || node.$comment?.startsWith('one value') || v === null || typeof v !== 'object' || Array.isArray(v)) return [prefix];
      return Object.entries(node.properties).flatMap(([k, s]) => yamlLeaves((v as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k, s));
    };
    const defaults = loadYaml(readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8'));
    expect(yamlLeaves(defaults, '', schema).sort()).toEqual([...values].sort());
  });
});

describe('agent DaemonSet', () => {
  const envOf = (ds: V1DaemonSet): Map<string, string> =>
    new Map((ds.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? `fieldRef:${e.valueFrom?.fieldRef?.fieldPath ?? '?'}`]));

  it('sets every npl-agent variable but KUBECONFIG (in-cluster credentials), and no other', () => {
    const env = envOf(find<V1DaemonSet>(render(), 'DaemonSet', 'npl-agent'));
    const agentVariables = Object.values(AGENT_OPTIONS).map((o) => o.env).filter((e) => e !== 'KUBECONFIG');
    expect([...env.keys()].sort()).toEqual([...agentVariables].sort());
    expect(env.get('NODE_NAME')).toBe('fieldRef:spec.nodeName');
    expect(env.get('NPL_PORT_RANGE')).toBe('61000-62000');
    expect(env.get('NPL_DATAPLANE')).toBe('nftables');
  });

  it('runs on the host network on every node, unprivileged, with NET_ADMIN only by default', () => {
    const ds = find<V1DaemonSet>(render(), 'DaemonSet', 'npl-agent');
    expect(ds.spec).toMatchObject({
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        spec: {
          hostNetwork: true,
          tolerations: [{ operator: 'Exists' }],
          containers: [
            {
              image: 'npl-agent:0.1.0',
              securityContext: { privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } },
              livenessProbe: { httpGet: { path: '/healthz', port: 'metrics' } },
              readinessProbe: { httpGet: { path: '/readyz', port: 'metrics' } },
            },
          ],
        },
      },
    });
  });

  it('adds NET_RAW for iptables and NET_BIND_SERVICE for ports below 1024, and mounts the xtables lock', () => {
    const ds = find<V1DaemonSet>(render(['--set', 'agent.dataplane=iptables', '--set', 'agent.portRange=80-1080']), 'DaemonSet', 'npl-agent');
    const c = ds.spec?.template.spec?.containers[0];
    expect(c?.securityContext?.capabilities?.add).toEqual(['NET_ADMIN', 'NET_RAW', 'NET_BIND_SERVICE']);
    expect(c?.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }, { name: 'xtables-lock', mountPath: '/run/xtables.lock' }]);
    expect(ds.spec?.template.spec?.volumes?.find((v) => v.name === 'xtables-lock')?.hostPath).toEqual({ path: '/run/xtables.lock', type: 'FileOrCreate' });
  });

  it('gives the read-only root file system a small in-memory /tmp (nft reads its rule batches from files there)', () => {
    const spec = find<V1DaemonSet>(render(), 'DaemonSet', 'npl-agent').spec?.template.spec;
    expect(spec?.containers[0]?.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(spec?.containers[0]?.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(spec?.volumes).toEqual([{ name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }]);
  });

  it('the agent ClusterRole writes only pods/status and events', () => {
    const role = find<V1ClusterRole>(render(), 'ClusterRole', 'npl-agent');
    const writes = (role.rules ?? []).filter((r) => r.verbs.some((v) => !['get', 'list', 'watch'].includes(v)));
    expect(writes).toEqual([
      { apiGroups: [''], resources: ['pods/status'], verbs: ['patch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    ]);
  });
});

describe('pre-delete uninstall hook', () => {
  it('is a pre-delete Job in the agent image whose Role can only read and replace the agent DaemonSet', () => {
    const objs = render();
    const job = find<V1Job>(objs, 'Job', 'npl-agent-uninstall');
    expect(job.metadata?.annotations?.['helm.sh/hook']).toBe('pre-delete');
    expect(job.spec?.template.spec?.containers[0]?.image).toBe('npl-agent:0.1.0');
    const role = find<V1Role>(objs, 'Role', 'npl-agent-uninstall');
    expect(role.rules).toEqual([{ apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: ['npl-agent'], verbs: ['get', 'update'] }]);
    const hooks = objs.filter((o) => o.metadata?.annotations?.['helm.sh/hook']);
    expect(hooks.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Job', 'Role', 'RoleBinding', 'ServiceAccount']);
  });
  it('is absent when agent.uninstall.enabled is false', () => {
    expect(render(['--set', 'agent.uninstall.enabled=false']).filter((o) => o.metadata?.annotations?.['helm.sh/hook'])).toEqual([]);
  });
});
