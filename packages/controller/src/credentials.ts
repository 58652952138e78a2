/**
 * Reading BIG-IP credentials at each login, so a rotated Secret takes effect without a restart.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BigipCredentials } from './bigip/client.js';
import type { CredentialsSource } from './config.js';
import { ControllerError } from './errors.js';

function firstLine(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ControllerError('CTL_CONFIG_INVALID', `BIG-IP ${what} file ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line === '') throw new ControllerError('CTL_CONFIG_INVALID', `BIG-IP ${what} file ${file} is empty`);
  return line;
}

/** A function returning the current credentials; throws CTL_CONFIG_INVALID naming the file or variable. */
export function credentialsReader(source: CredentialsSource, env: Readonly<Record<string, string | undefined>>): () => BigipCredentials {
  if (source.kind === 'directory') {
    return () => ({ username: firstLine(path.join(source.dir, 'username'), 'username'), password: firstLine(path.join(source.dir, 'password'), 'password') });
  }
  return () => {
    if (source.passwordFile) return { username: source.username, password: firstLine(source.passwordFile, 'password') };
    const password = env[source.passwordEnv ?? 'BIGIP_PASSWORD'] ?? '';
    if (password === '') throw new ControllerError('CTL_CONFIG_INVALID', 'BIGIP_PASSWORD is empty');
    return { username: source.username, password };
  };
}
