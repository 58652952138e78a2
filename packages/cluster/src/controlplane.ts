import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ControlPlaneBinaries } from './binaries.js';
import { ensureAlive, probe, waitFor } from './health.js';
import { hostPart } from './ip.js';
import type { ClusterLayout } from './layout.js';
import type { Pki } from './pki.js';
import { spawnDaemon } from './processes.js';

export interface ControlPlaneFiles {
  readonly dir: string;
  readonly pki: Pki;
  /** kubeconfig paths by identity: controller-manager, scheduler. */
  readonly kubeconfigs: Record<'controller-manager' | 'scheduler', string>;
}

const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export function apiserverURL(layout: ClusterLayout): string {
  return `https://${hostPart(layout.bridgeIP)}:${layout.ports.apiserver}`;
}

async function logTail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return `last lines of ${file}:\n${text.split('\n').slice(-15).join('\n')}`;
}

/** Starts etcd (plain HTTP on loopback, no fsync) and waits for /health. Returns its pid. */
export async function startEtcd(bin: ControlPlaneBinaries, layout: ClusterLayout, f: ControlPlaneFiles): Promise<number> {
  const client = `http://127.0.0.1:${layout.ports.etcdClient}`;
  const peer = `http://127.0.0.1:${layout.ports.etcdPeer}`;
  const log = path.join(f.dir, 'logs', 'etcd.log');
  const pid = spawnDaemon({
    command: bin.etcd,
    args: [
      '--name=default',
      `--data-dir=${path.join(f.dir, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
      '--quota-backend-bytes=2147483648',
    ],
    logFile: log,
  });
  await waitFor('etcd', async () => (await ensureAlive(pid, 'etcd', log), (await probe(`${client}/health`)) === 200), 60_000, () => logTail(log));
  return pid;
}

/**
 * Starts kube-apiserver with client-certificate auth, Node+RBAC authorization, the default
 * admission plugins plus NodeRestriction, and ServiceAccount token issuance; waits for /readyz.
 */
export async function startApiserver(bin: ControlPlaneBinaries, layout: ClusterLayout, f: ControlPlaneFiles): Promise<number> {
  const { pki } = f;
  const log = path.join(f.dir, 'logs', 'kube-apiserver.log');
  await mkdir(path.join(f.dir, 'apiserver-certs'), { recursive: true });
  const pid = spawnDaemon({
    command: bin.apiserver,
    args: [
      `--etcd-servers=http://127.0.0.1:${layout.ports.etcdClient}`,
      `--bind-address=${layout.bridgeIP}`,
      `--advertise-address=${layout.bridgeIP}`,
      `--secure-port=${layout.ports.apiserver}`,
      `--cert-dir=${path.join(f.dir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.apiserverCert}`,
      `--tls-private-key-file=${pki.apiserverKey}`,
      `--client-ca-file=${pki.caCert}`,
      // No front proxy; setting these only quiets controllers that read the requestheader CA.
      `--requestheader-client-ca-file=${pki.caCert}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--service-account-issuer=${SA_ISSUER}`,
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      `--api-audiences=${SA_ISSUER}`,
      `--service-cluster-ip-range=${layout.serviceCIDRs.join(',')}`,
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      '--allow-privileged=true',
      '--profiling=false',
      '--event-ttl=10m',
      '--v=1',
    ],
    logFile: log,
  });
  const ca = await readFile(pki.caCert);
  await waitFor(
    'kube-apiserver',
    async () => (await ensureAlive(pid, 'kube-apiserver', log), (await probe(`${apiserverURL(layout)}/readyz`, ca)) === 200),
    120_000,
    () => logTail(log),
  );
  return pid;
}

/** Starts kube-controller-manager (default controllers, CSR signing, SA tokens) and kube-scheduler. */
export function startControllers(bin: ControlPlaneBinaries, layout: ClusterLayout, f: ControlPlaneFiles): { kcm: number; scheduler: number } {
  const { pki } = f;
  const kcmConfig = f.kubeconfigs['controller-manager'];
  const kcm = spawnDaemon({
    command: bin.controllerManager,
    args: [
      `--kubeconfig=${kcmConfig}`,
      `--authentication-kubeconfig=${kcmConfig}`,
      `--authorization-kubeconfig=${kcmConfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${layout.ports.controllerManager}`,
      `--cert-dir=${path.join(f.dir, 'kcm-certs')}`,
      '--controllers=*',
      `--cluster-name=npl-${layout.name}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      `--root-ca-file=${pki.caCert}`,
      `--service-account-private-key-file=${pki.saKey}`,
      '--use-service-account-credentials=true',
      // Benchmarks create hundreds of pods at once; the default 20 QPS would dominate their time.
      '--kube-api-qps=200',
      '--kube-api-burst=400',
      // The stand-in sets each Node's spec.podCIDRs (both families) at creation, as NodeRestriction
      // requires; node IPAM (--cluster-cidr, --node-cidr-mask-size-ipv4/ipv6) stays off.
      '--allocate-node-cidrs=false',
      `--service-cluster-ip-range=${layout.serviceCIDRs.join(',')}`,
      '--leader-elect=false',
      '--profiling=false',
      '--v=1',
    ],
    logFile: path.join(f.dir, 'logs', 'kube-controller-manager.log'),
  });
  const schedConfig = f.kubeconfigs.scheduler;
  const scheduler = spawnDaemon({
    command: bin.scheduler,
    args: [
      `--kubeconfig=${schedConfig}`,
      `--authentication-kubeconfig=${schedConfig}`,
      `--authorization-kubeconfig=${schedConfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${layout.ports.scheduler}`,
      `--cert-dir=${path.join(f.dir, 'scheduler-certs')}`,
      '--leader-elect=false',
      '--profiling=false',
      '--v=1',
    ],
    logFile: path.join(f.dir, 'logs', 'kube-scheduler.log'),
  });
  return { kcm, scheduler };
}
