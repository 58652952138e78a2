// Pre-delete hook of the npl chart: runs `npl-agent uninstall` on every node that runs the agent.
//
// It replaces the agent DaemonSet's pod template with one whose init container runs
// `npl-agent uninstall` (same image, env, host network and capabilities as the agent) and whose
// only container then waits, and returns once every scheduled pod of the new template is Ready,
// i.e. once every node removed its rules and its Pods' annotations. The agents are stopped first
// by that same rollout, so none restores what the uninstall removed. Helm then deletes the
// DaemonSet. Idempotent; exit 0 when the DaemonSet is already gone, 1 on error or deadline.
//
// Node built-ins only (it runs in the agent image). Environment: DAEMONSET, NAMESPACE,
// TIMEOUT_SECONDS; the API server from KUBERNETES_SERVICE_HOST/PORT and the ServiceAccount files in
// SA_DIR (default /var/run/secrets/kubernetes.io/serviceaccount).
import { readFileSync } from 'node:fs';
import https from 'node:https';

const MARK = 'npl.antrea-compatible.io/uninstall';
const { DAEMONSET, NAMESPACE } = process.env;
const saDir = process.env.SA_DIR ?? '/var/run/secrets/kubernetes.io/serviceaccount';
const deadline = Date.now() + Number(process.env.TIMEOUT_SECONDS ?? '300') * 1000;
const host = process.env.KUBERNETES_SERVICE_HOST;
const base = `https://${host?.includes(':') ? `[${host}]` : host}:${process.env.KUBERNETES_SERVICE_PORT ?? '443'}`;
const path = `/apis/apps/v1/namespaces/${NAMESPACE}/daemonsets/${DAEMONSET}`;

function log(msg, fields = {}) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, daemonset: `${NAMESPACE}/${DAEMONSET}`, ...fields })}\n`);
}

function request(method, body) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers = { Authorization: `Bearer ${readFileSync(`${saDir}/token`, 'utf8').trim()}`, Accept: 'application/json' };
  if (payload) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(path, base), { method, headers, ca: readFileSync(`${saDir}/ca.crt`), timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The pod template that uninstalls, then waits: the agent container becomes the init container. */
function uninstallTemplate(template) {
  const agent = template.spec.containers[0];
  const { livenessProbe, readinessProbe, startupProbe, ports, ...rest } = agent;
  const init = { ...rest, name: 'npl-agent-uninstall', args: ['uninstall'] };
  const wait = {
    name: 'uninstalled',
    image: agent.image,
    imagePullPolicy: agent.imagePullPolicy,
    command: ['node', '-e', 'setInterval(() => {}, 1 << 30)'],
    resources: { requests: { cpu: '1m', memory: '16Mi' }, limits: { memory: '64Mi' } },
    securityContext: { runAsUser: 65532, runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
  };
  const annotations = { ...template.metadata.annotations, [MARK]: 'true' };
  return { ...template, metadata: { ...template.metadata, annotations }, spec: { ...template.spec, initContainers: [init], containers: [wait] } };
}

async function replaceTemplate() {
  for (;;) {
    const got = await request('GET');
    if (got.status === 404) return false;
    if (got.status !== 200) throw new Error(`GET ${path}: HTTP ${got.status} ${got.body.message ?? ''}`);
    const ds = got.body;
    if (ds.spec.template.metadata?.annotations?.[MARK] === 'true') return true;
    ds.spec.template = uninstallTemplate(ds.spec.template);
    ds.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%' } };
    const put = await request('PUT', ds);
    if (put.status === 200) return true;
    if (put.status !== 409) throw new Error(`PUT ${path}: HTTP ${put.status} ${put.body.message ?? ''}`);
  }
}

function done(ds) {
  const s = ds.status ?? {};
  const desired = s.desiredNumberScheduled ?? 0;
  return (s.observedGeneration ?? 0) >= ds.metadata.generation && (s.updatedNumberScheduled ?? 0) === desired && (s.numberReady ?? 0) === desired && (s.numberUnavailable ?? 0) === 0;
}

async function main() {
  if (!DAEMONSET || !NAMESPACE || !host) throw new Error('DAEMONSET, NAMESPACE and KUBERNETES_SERVICE_HOST must be set');
  if (!(await replaceTemplate())) return log('DaemonSet absent, nothing to uninstall');
  log('Agents replaced by npl-agent uninstall on every node; waiting');
  for (;;) {
    const got = await request('GET');
    if (got.status === 404) throw new Error('DaemonSet deleted before every node was uninstalled');
    const s = got.body.status ?? {};
    if (done(got.body)) return log('Every node uninstalled', { nodes: s.desiredNumberScheduled ?? 0 });
    if (Date.now() > deadline) throw new Error(`deadline passed: ${s.numberReady ?? 0} of ${s.desiredNumberScheduled ?? 0} nodes uninstalled (kubectl -n ${NAMESPACE} get pods: the init container npl-agent-uninstall shows why)`);
    log('Waiting for nodes', { ready: s.numberReady ?? 0, updated: s.updatedNumberScheduled ?? 0, desired: s.desiredNumberScheduled ?? 0 });
    await new Promise((r) => setTimeout(r, 2000));
  }
}

main().catch((err) => {
  log('Uninstall failed', { error: err.message });
  process.exit(1);
});
