/**
 * Reads of the emulated BIG-IP through iControl REST, as an operator would: HTTPS with the
 * cluster's CA verified (never insecure) and the emulator's local test account. Read-only.
 */
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { DemoError } from './errors.js';
import type { MemberView, PoolView, VirtualView } from './model.js';

export interface BigipEndpoint {
  readonly url: string;
  readonly caFile: string;
  readonly username: string;
  readonly password: string;
  readonly partition: string;
}

export interface BigipView {
  /** Undefined when the pool does not exist. */
  readonly pool?: PoolView;
  /** Virtual servers of the partition. */
  readonly virtuals: readonly VirtualView[];
}

/** One interface per side effect: the BIG-IP as the demo reads it. */
export interface BigipReader {
  /**
   * Pool `/<partition>/<poolName>` with its members, and the partition's virtual servers.
   * Throws DemoError NPL_DEMO_BIGIP on a transport error or an answer other than 200 (404 for the pool).
   */
  read(poolName: string): Promise<BigipView>;
  /** Closes kept-alive connections. */
  close(): void;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

interface RawMember { name?: string; session?: string; state?: string }
interface RawVirtual { fullPath?: string; partition?: string; destination?: string; pool?: string; disabled?: boolean }

export async function httpsBigipReader(b: BigipEndpoint): Promise<BigipReader> {
  const agent = new Agent({ keepAlive: true, maxSockets: 2, ca: await readFile(b.caFile) });
  const auth = `${b.username}:${b.password}`;
  const get = (path: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(new URL(path, b.url), { method: 'GET', agent, auth, timeout: 3_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) });
          } catch (err) {
            reject(new DemoError('NPL_DEMO_BIGIP', `GET ${path}: answer is not JSON`, { cause: err }));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 3 s')));
      req.on('error', (err) => reject(new DemoError('NPL_DEMO_BIGIP', `GET ${b.url}${path}: ${err.message}`, { cause: err })));
      req.end();
    });
  const expect200 = (path: string, a: Answer): unknown => {
    if (a.status !== 200) throw new DemoError('NPL_DEMO_BIGIP', `GET ${path}: status ${a.status} ${JSON.stringify(a.body)}`);
    return a.body;
  };
  return {
    async read(poolName) {
      const poolPath = `/mgmt/tm/ltm/pool/~${b.partition}~${poolName}?expandSubcollections=true`;
      const [pool, virtuals] = await Promise.all([get(poolPath), get('/mgmt/tm/ltm/virtual')]);
      const vs = ((expect200('/mgmt/tm/ltm/virtual', virtuals) as { items?: RawVirtual[] }).items ?? []).filter((v) => v.partition === b.partition);
      return {
        ...(pool.status === 404 ? {} : { pool: poolView(`/${b.partition}/${poolName}`, expect200(poolPath, pool)) }),
        virtuals: vs.map(virtualView),
      };
    },
    close: () => agent.destroy(),
  };
}

function poolView(fullPath: string, body: unknown): PoolView {
  const items = (body as { membersReference?: { items?: RawMember[] } }).membersReference?.items ?? [];
  const members: MemberView[] = items
    .map((m) => ({ name: m.name ?? '?', session: m.session ?? '?', state: m.state ?? '?' }))
    .sort((x, y) => x.name.localeCompare(y.name));
  return { fullPath, members };
}

function virtualView(v: RawVirtual): VirtualView {
  const destination = (v.destination ?? '?').replace(/^\/[^/]+\//, '');
  return { fullPath: v.fullPath ?? '?', destination, ...(v.pool ? { pool: v.pool } : {}), enabled: v.disabled !== true };
}
