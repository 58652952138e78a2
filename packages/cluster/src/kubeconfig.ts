import { readFile, writeFile } from 'node:fs/promises';

/**
 * Writes a kubeconfig with embedded CA and client certificate data (so it can be copied
 * elsewhere), mode 0600. Returns its path.
 */
export async function writeKubeconfig(
  file: string,
  opts: { clusterName: string; server: string; caCert: string; user: string; cert: string; key: string },
): Promise<string> {
  const b64 = async (p: string): Promise<string> => (await readFile(p)).toString('base64');
  const ctx = `${opts.user}@${opts.clusterName}`;
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${opts.clusterName}`,
    '  cluster:',
    `    server: ${opts.server}`,
    `    certificate-authority-data: ${await b64(opts.caCert)}`,
    'users:',
    `- name: ${opts.user}`,
    '  user:',
    `    client-certificate-data: ${await b64(opts.cert)}`,
    `    client-key-data: ${await b64(opts.key)}`,
    'contexts:',
    `- name: ${ctx}`,
    '  context:',
    `    cluster: ${opts.clusterName}`,
    `    user: ${opts.user}`,
    `current-context: ${ctx}`,
    '',
  ].join('\n');
  await writeFile(file, text, { mode: 0o600 });
  return file;
}
