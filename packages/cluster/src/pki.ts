import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { run } from './run.js';

/** Paths of the cluster's keys and certificates (EC P-256, made with the openssl CLI). */
export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly apiserverCert: string;
  readonly apiserverKey: string;
  readonly saKey: string;
  readonly saPub: string;
  /** Client identities by role: admin, controller-manager, scheduler, node:<name>. */
  readonly clients: Record<string, { cert: string; key: string }>;
}

export interface ClientIdentity {
  readonly id: string;
  readonly cn: string;
  readonly org?: string;
}

async function ecKey(file: string): Promise<void> {
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
}

async function signed(
  pki: { dir: string; caCert: string; caKey: string },
  base: string,
  subject: string,
  ext: string,
): Promise<{ cert: string; key: string }> {
  const key = path.join(pki.dir, `${base}.key`);
  const csr = path.join(pki.dir, `${base}.csr`);
  const cert = path.join(pki.dir, `${base}.crt`);
  const extFile = path.join(pki.dir, `${base}.ext`);
  await ecKey(key);
  await run('openssl', ['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
  await writeFile(extFile, ext);
  await run('openssl', [
    'x509', '-req', '-in', csr, '-CA', pki.caCert, '-CAkey', pki.caKey, '-set_serial', `0x${randomBytes(12).toString('hex')}`,
    '-days', '3650', '-sha256', '-extfile', extFile, '-out', cert,
  ]);
  return { cert, key };
}

/**
 * Creates the CA, the apiserver serving certificate (SANs: `ips` and `dnsNames`), the
 * service-account key pair and one client certificate per identity (CN = user, O = group).
 */
export async function createPki(
  dir: string,
  serving: { ips: readonly string[]; dnsNames: readonly string[] },
  identities: readonly ClientIdentity[],
): Promise<Pki> {
  await mkdir(dir, { recursive: true });
  const caKey = path.join(dir, 'ca.key');
  const caCert = path.join(dir, 'ca.crt');
  await ecKey(caKey);
  await run('openssl', [
    'req', '-x509', '-new', '-key', caKey, '-subj', '/CN=npl-local-cluster-ca', '-days', '3650', '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    '-out', caCert,
  ]);
  const ca = { dir, caCert, caKey };
  const san = [...serving.dnsNames.map((d) => `DNS:${d}`), ...serving.ips.map((i) => `IP:${i}`)].join(',');
  const server = await signed(
    ca,
    'apiserver',
    '/CN=kube-apiserver',
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`,
  );
  const saKey = path.join(dir, 'sa.key');
  const saPub = path.join(dir, 'sa.pub');
  await ecKey(saKey);
  await run('openssl', ['pkey', '-in', saKey, '-pubout', '-out', saPub]);
  const clients: Record<string, { cert: string; key: string }> = {};
  const clientExt = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';
  await Promise.all(
    identities.map(async (idn) => {
      const subject = idn.org ? `/O=${idn.org}/CN=${idn.cn}` : `/CN=${idn.cn}`;
      clients[idn.id] = await signed(ca, `client-${idn.id.replace(/[^a-z0-9-]/gi, '_')}`, subject, clientExt);
    }),
  );
  return { dir, caCert, caKey, apiserverCert: server.cert, apiserverKey: server.key, saKey, saPub, clients };
}
