/**
 * The demo's command line, parsed without side effects. Bad input throws DemoError NPL_DEMO_USAGE
 * naming the flag, the value and what was expected.
 */
import { parseArgs } from 'node:util';
import { DemoError } from './errors.js';

/** A scripted scale: set the Deployment to `replicas` at `atSeconds` after the display started. */
export interface ScaleStep {
  readonly replicas: number;
  readonly atSeconds: number;
}

export interface DemoOptions {
  /** Cluster name (default `demo`). */
  readonly name: string;
  /** Non-interactive: run this long after the display started, then tear down. */
  readonly forSeconds?: number;
  readonly scaleSteps: readonly ScaleStep[];
  /** Replicas the app starts with. */
  readonly replicas: number;
  /** Requests per second through the virtual server. */
  readonly rate: number;
  /** Plain snapshots even on a terminal. */
  readonly plain: boolean;
  readonly help: boolean;
}

export const MAX_REPLICAS = 20;

export const USAGE = `usage: pnpm demo [--for SECONDS [--scale-to N@T]...] [--replicas N] [--rate R] [--name NAME] [--plain]
  Starts the local cluster (2 nodes) with npl-agent on each node, the BIG-IP emulator and
  npl-controller, deploys Deployment "web" behind Service "web" (opted in to NodePortLocal, with a
  BIG-IP virtual server), sends requests through the virtual server and shows it all live.
  Needs root. Keys: + / - scale the Deployment, q or Ctrl-C quit. Quitting tears everything down.

  --for SECONDS   run without a terminal for SECONDS after the display started, print a plain
                  snapshot whenever something changes, then tear down and exit 0
  --scale-to N@T  scale the Deployment to N replicas T seconds after the display started
                  (repeatable; also allowed in the live view)
  --replicas N    replicas to start with (default 2, 0-${MAX_REPLICAS})
  --rate R        requests per second through the virtual server (default 5, 0.5-50)
  --name NAME     cluster name (default demo; refused when a cluster of that name runs)
  --plain         plain snapshots instead of the live view, also on a terminal
`;

function usage(message: string): DemoError {
  return new DemoError('NPL_DEMO_USAGE', `${message}\n${USAGE}`);
}

function number(flag: string, value: string, min: number, max: number, integer: boolean): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw usage(`--${flag} ${JSON.stringify(value)}: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return n;
}

/** `N@T`: N replicas at T seconds. */
export function parseScaleStep(value: string): ScaleStep {
  const m = /^(\d+)@(\d+(?:\.\d+)?)s?$/.exec(value.trim());
  if (!m) throw usage(`--scale-to ${JSON.stringify(value)}: expected REPLICAS@SECONDS, e.g. 3@10`);
  return { replicas: number('scale-to', m[1]!, 0, MAX_REPLICAS, true), atSeconds: Number(m[2]) };
}

export function parseOptions(argv: readonly string[]): DemoOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        for: { type: 'string' },
        'scale-to': { type: 'string', multiple: true, default: [] },
        replicas: { type: 'string', default: '2' },
        rate: { type: 'string', default: '5' },
        name: { type: 'string', default: 'demo' },
        plain: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw usage(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  if (!/^[a-z][a-z0-9]{0,11}$/.test(v.name)) throw usage(`--name ${JSON.stringify(v.name)}: expected 1-12 of [a-z0-9], starting with a letter`);
  const forSeconds = v.for === undefined ? undefined : number('for', v.for, 1, 86_400, false);
  const scaleSteps = v['scale-to'].map(parseScaleStep).sort((a, b) => a.atSeconds - b.atSeconds);
  const late = scaleSteps.find((s) => forSeconds !== undefined && s.atSeconds >= forSeconds);
  if (late) throw usage(`--scale-to ${late.replicas}@${late.atSeconds}: at ${late.atSeconds} s is not before the end (--for ${forSeconds})`);
  return {
    name: v.name,
    ...(forSeconds !== undefined ? { forSeconds } : {}),
    scaleSteps,
    replicas: number('replicas', v.replicas, 0, MAX_REPLICAS, true),
    rate: number('rate', v.rate, 0.5, 50, false),
    plain: v.plain,
    help: v.help,
  };
}
