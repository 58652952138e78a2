import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { EmulatorError } from './errors.js';

/** A self-signed CA and a server certificate it signed, as files in `dir` and as PEM text. */
export interface GeneratedTls {
  dir: string;
  /** The CA certificate a client should trust. */
  caFile: string;
  ca: string;
  cert: string;
  key: string;
  /** Removes `dir` (only when it was created by `generateTls`). */
  cleanup(): Promise<void>;
}

export interface TlsOptions {
  /** Host names and IP addresses the server certificate is valid for (localhost, 127.0.0.1 and ::1 are always added). */
  hosts?: string[];
  /** Where to write the files; a fresh temporary directory when absent. */
  dir?: string;
  /** The openssl executable. */
  openssl?: string;
}

function subjectAltNames(hosts: string[]): string {
  const all = [...new Set(['localhost', '127.0.0.1', '::1', ...hosts].filter((h) => h !== '' && h !== '0.0.0.0' && h !== '::'))];
  return all.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
}

/** Generates an EC P-256 CA and server certificate (valid 30 days) with the `openssl` CLI. */
export async function generateTls(options: TlsOptions = {}): Promise<GeneratedTls> {
  const openssl = options.openssl ?? 'openssl';
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'bigip-emulator-')));
  const file = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    await execa(openssl, ['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '30',
      '-subj', '/CN=bigip-emulator CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    await execa(openssl, ['req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost']);
    await writeFile(file('server.ext'), [
      'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth',
      `subjectAltName=${subjectAltNames(options.hosts ?? [])}`, '',
    ].join('\n'));
    await execa(openssl, ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
      '-CAcreateserial', '-out', file('server.pem'), '-days', '30', '-extfile', file('server.ext')]);
    const [ca, cert, key] = await Promise.all([readFile(file('ca.pem'), 'utf8'), readFile(file('server.pem'), 'utf8'), readFile(file('server.key'), 'utf8')]);
    await rm(file('ca.key'), { force: true });
    const owned = options.dir === undefined;
    return { dir, caFile: file('ca.pem'), ca, cert, key, cleanup: async () => { if (owned) await rm(dir, { recursive: true, force: true }); } };
  } catch (err) {
    if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
    throw new EmulatorError('BIGIP_EMU_TLS_FAILED', `generating the TLS certificates with ${openssl} in ${dir} failed: ${(err as Error).message}`, { cause: err });
  }
}
