/** Command-line options of `bigip-emulator`: parsing only, no side effects (the entry point is cli.ts). */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { EmulatorError } from './errors.js';
import type { EmulatorOptions } from './server.js';

export const HELP = `bigip-emulator: a BIG-IP iControl REST (LTM, auth, transactions) and AS3 double

Usage: bigip-emulator [options]

Options:
  --address <ip>          listen address (default 127.0.0.1)
  --port <n>              listen port; 0 picks a free port (default 8443)
  --http                  serve plain HTTP instead of HTTPS
  --tls-host <name>       extra DNS name or IP for the server certificate (repeatable)
  --username <name>       admin user name (default admin)
  --password <secret>     admin password (default admin)
  --password-file <path>  read the admin password from a file (first line)
  --partition <name>      create this partition at start (repeatable)
  --no-traffic            do not forward TCP traffic for virtual servers
  --log-level <level>     pino level: fatal, error, warn, info, debug, trace, silent (default info)
  -h, --help              show this help

Once listening it prints, each on its own line:
  BIGIP_URL=<url>
  BIGIP_CA_FILE=<path of the generated CA certificate>   (HTTPS only)
Logs (pino JSON) go to stderr. SIGTERM or SIGINT stops it cleanly.
Test controls live under /emulator/ (faults, requests, state, reset): see the README.`;

export interface CliResult {
  help?: boolean;
  options?: EmulatorOptions;
  logLevel?: string;
}

async function readPassword(file: string): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    const password = text.split(/\r?\n/)[0] ?? '';
    if (password === '') throw new Error('the file is empty');
    return password;
  } catch (err) {
    throw new EmulatorError('BIGIP_EMU_CREDENTIALS_INVALID', `the password file ${file} could not be read: ${(err as Error).message}`, { cause: err });
  }
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new EmulatorError('BIGIP_EMU_OPTIONS_INVALID', `--port must be an integer from 0 to 65535, got "${text}"`);
  return port;
}

/** Parses the command line into emulator options (throws EmulatorError on bad flags). */
export async function parseCli(argv: string[]): Promise<CliResult> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        address: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8443' },
        http: { type: 'boolean', default: false },
        'tls-host': { type: 'string', multiple: true, default: [] },
        username: { type: 'string', default: 'admin' },
        password: { type: 'string' },
        'password-file': { type: 'string' },
        partition: { type: 'string', multiple: true, default: [] },
        'no-traffic': { type: 'boolean', default: false },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new EmulatorError('BIGIP_EMU_OPTIONS_INVALID', (err as Error).message, { cause: err });
  }
  const v = parsed.values;
  if (v.help) return { help: true };
  if (v.password !== undefined && v['password-file'] !== undefined) {
    throw new EmulatorError('BIGIP_EMU_OPTIONS_INVALID', 'give --password or --password-file, not both');
  }
  const password = v['password-file'] !== undefined ? await readPassword(v['password-file']) : (v.password ?? 'admin');
  return {
    logLevel: v['log-level'],
    options: {
      address: v.address, port: parsePort(v.port), tls: !v.http, tlsHosts: v['tls-host'], username: v.username, password,
      partitions: v.partition, traffic: !v['no-traffic'],
    },
  };
}

