/**
 * ADR 0007's informer measurements: @npl/runtime's Informer against client-node's ListWatch
 * (`makeInformer`), both fed by the same in-process list/watch stand-ins (no API server), so only the
 * informers' own behaviour and memory are compared.
 *
 * - memory: V8 heap held by each informer's cache of N pods beyond the pods themselves (after a GC).
 * - watch error: every watch ends at once with HTTP 500; lists and watches made in --seconds.
 * - 410 Gone: the watch sends an ERROR 410 and closes; does the informer relist?
 * - a throwing handler: the first `add` handler throws on a watch event; do the others run, and
 *   does an unhandled promise rejection escape (which ends a Node process by default)?
 *
 * Run: `node --expose-gc dist-bench/bench/informer.bench.js` after `tsc -p tsconfig.bench.json`.
 */
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { ListWatch } from '@kubernetes/client-node';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ListWatchSource, WatchEventType } from '../src/informer.js';
import { Informer } from '../src/informer.js';

function pod(i: number): V1Pod {
  const name = `web-${i.toString(36)}-${(i * 7919).toString(36)}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: `ns-${i % 20}`,
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resourceVersion: String(1000 + i),
      labels: { app: 'web', 'pod-template-hash': 'abc123' },
      annotations: { 'nodeportlocal.antrea.io': `[{"podPort":80,"nodeIP":"198.18.1.10","nodePort":${61000 + (i % 1000)},"protocol":"tcp","ipFamily":"IPv4"}]` },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc123', uid: 'rs-uid', controller: true }],
    },
    spec: { nodeName: 'node-0', containers: [{ name: 'web', image: 'registry.example/web:1', ports: [{ containerPort: 80, protocol: 'TCP' }] }] },
    status: {
      phase: 'Running',
      hostIP: '198.18.1.10',
      podIP: `198.19.${(i >> 8) & 255}.${i & 255}`,
      podIPs: [{ ip: `198.19.${(i >> 8) & 255}.${i & 255}` }],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const heap = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

/** A list of `items` and watches that stay open until aborted, as an @npl/runtime source and as a client-node Watch. */
function quietSources(items: V1Pod[]): { ours: ListWatchSource<V1Pod>; listFn: () => Promise<{ items: V1Pod[]; metadata: { resourceVersion: string } }>; watch: unknown } {
  return {
    ours: { list: () => Promise.resolve({ items, resourceVersion: '5000' }), watch: (_rv, _onEvent, onDone) => Promise.resolve({ abort: () => onDone() }) },
    listFn: () => Promise.resolve({ items, metadata: { resourceVersion: '5000' } }),
    watch: { watch: () => Promise.resolve({ abort: () => undefined }) },
  };
}

async function memoryPerObject(n: number): Promise<{ objectsBytes: number; oursBytes: number; clientNodeBytes: number }> {
  const h0 = heap();
  const items = Array.from({ length: n }, (_, i) => pod(i));
  const h1 = heap();
  const s = quietSources(items);
  const ours = new Informer<V1Pod>({ name: 'pods', source: s.ours, relistMs: 0 });
  ours.start();
  await ours.synced();
  const h2 = heap();
  await ours.stop();
  const lw = new ListWatch<V1Pod>('/api/v1/pods', s.watch as never, s.listFn, false);
  await lw.start();
  const h3 = heap();
  // Ours is stopped but still referenced here (its cache stays), so client-node's share is h3 - h2.
  const result = { objectsBytes: (h1 - h0) / n, oursBytes: (h2 - h1) / n, clientNodeBytes: (h3 - h2) / n };
  await lw.stop();
  if (ours.list().length !== n || lw.list().length !== n) throw new Error('an informer did not cache every object');
  return result;
}

interface Counts {
  lists: number;
  watches: number;
  errors: number;
}

/** Sources whose every watch fails with `fail` (called with onEvent, onDone); counts calls. */
function failingSources(fail: (onEvent: (type: WatchEventType, obj: KubernetesObject) => void, onDone: (err?: unknown) => void) => void) {
  const counts = { ours: { lists: 0, watches: 0, errors: 0 }, clientNode: { lists: 0, watches: 0, errors: 0 } };
  const items = [pod(1)];
  const ours: ListWatchSource<V1Pod> = {
    list: () => {
      counts.ours.lists++;
      return Promise.resolve({ items, resourceVersion: '5000' });
    },
    watch: (_rv, onEvent, onDone) => {
      counts.ours.watches++;
      setImmediate(() => fail(onEvent as never, onDone));
      return Promise.resolve({ abort: () => undefined });
    },
  };
  const listFn = () => {
    counts.clientNode.lists++;
    return Promise.resolve({ items, metadata: { resourceVersion: '5000' } });
  };
  const watch = {
    watch: (_p: string, _q: unknown, cb: (type: string, obj: unknown) => void, done: (err: unknown) => void) => {
      counts.clientNode.watches++;
      setImmediate(() => fail(cb as never, done));
      return Promise.resolve({ abort: () => undefined });
    },
  };
  return { counts, ours, listFn, watch };
}

async function failureBehaviour(seconds: number, fail: Parameters<typeof failingSources>[0]): Promise<{ ours: Counts; clientNode: Counts }> {
  const s = failingSources(fail);
  const ours = new Informer<V1Pod>({ name: 'pods', source: s.ours, relistMs: 0, onError: () => s.counts.ours.errors++ });
  const lw = new ListWatch<V1Pod>('/api/v1/pods', s.watch as never, s.listFn, false);
  lw.on('error', () => s.counts.clientNode.errors++);
  ours.start();
  await lw.start();
  await sleep(seconds * 1000);
  await ours.stop();
  await lw.stop();
  return s.counts;
}

/** One ADDED watch event to two `add` handlers, the first of which throws. */
async function throwingHandler(): Promise<{ ours: { secondRan: boolean; unhandled: number }; clientNode: { secondRan: boolean; unhandled: number } }> {
  let unhandled = 0;
  const count = (): void => {
    unhandled++;
  };
  process.on('unhandledRejection', count);
  const event = pod(7);
  const throwing = (): void => {
    throw new Error('handler bug');
  };
  // ours
  let emitOurs: ((type: WatchEventType, obj: V1Pod) => void) | undefined;
  const ours = new Informer<V1Pod>({
    name: 'pods',
    source: {
      list: () => Promise.resolve({ items: [], resourceVersion: '1' }),
      watch: (_rv, onEvent, onDone) => {
        emitOurs = onEvent;
        return Promise.resolve({ abort: () => onDone() }); // an aborted watch ends, as client-node's does
      },
    },
    relistMs: 0,
    onError: () => undefined,
  });
  let oursSecond = false;
  ours.on('add', throwing);
  ours.on('add', () => (oursSecond = true));
  ours.start();
  await ours.synced();
  await sleep(10);
  emitOurs?.('ADDED', event);
  await sleep(50);
  const oursUnhandled = unhandled;
  await ours.stop();
  // client-node
  let emitLw: ((type: string, obj: unknown) => unknown) | undefined;
  const watch = { watch: (_p: string, _q: unknown, cb: (type: string, obj: unknown) => unknown) => ((emitLw = cb), Promise.resolve({ abort: () => undefined })) };
  const lw = new ListWatch<V1Pod>('/api/v1/pods', watch as never, (() => Promise.resolve({ items: [], metadata: { resourceVersion: '1' } })), false);
  let lwSecond = false;
  lw.on('add', throwing);
  lw.on('add', () => (lwSecond = true));
  await lw.start();
  try {
    // Watch calls its callback inside a try/catch that ignores what throws synchronously.
    void emitLw?.('ADDED', event);
  } catch {
    // as Watch does
  }
  await sleep(50);
  await lw.stop();
  process.off('unhandledRejection', count);
  return { ours: { secondRan: oursSecond, unhandled: oursUnhandled }, clientNode: { secondRan: lwSecond, unhandled: unhandled - oursUnhandled } };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { pods: { type: 'string', default: '10000' }, seconds: { type: 'string', default: '8' } } });
  if (!(globalThis as { gc?: unknown }).gc) throw new Error('run with node --expose-gc');
  const n = Number(values.pods);
  const seconds = Number(values.seconds);
  const mem = await memoryPerObject(n);
  const http500 = await failureBehaviour(seconds, (_e, done) => done(Object.assign(new Error('Internal Server Error'), { statusCode: 500 })));
  const gone = await failureBehaviour(seconds, (onEvent, done) => {
    onEvent('ERROR', { code: 410, reason: 'Expired' } as KubernetesObject);
    done(null);
  });
  const thrown = await throwingHandler();
  const b = (x: number): string => x.toFixed(0);
  const th = (t: { secondRan: boolean; unhandled: number }): string => `${t.secondRan ? 'yes' : 'no'} / ${t.unhandled}`;
  process.stdout.write(
    [
      `| measure (${n} pods; ${seconds} s per behaviour) | @npl/runtime Informer | client-node ListWatch |`,
      '|---|---|---|',
      `| heap per cached pod beyond the pod itself (${b(mem.objectsBytes)} B) | ${b(mem.oursBytes)} B | ${b(mem.clientNodeBytes)} B |`,
      `| every watch fails with HTTP 500: lists / watches / errors reported | ${http500.ours.lists} / ${http500.ours.watches} / ${http500.ours.errors} | ${http500.clientNode.lists} / ${http500.clientNode.watches} / ${http500.clientNode.errors} |`,
      `| every watch sends ERROR 410 and closes: lists / watches | ${gone.ours.lists} / ${gone.ours.watches} | ${gone.clientNode.lists} / ${gone.clientNode.watches} |`,
      `| first add handler throws: second handler ran / unhandled rejections | ${th(thrown.ours)} | ${th(thrown.clientNode)} |`,
    ].join('\n') + '\n',
  );
  process.stdout.write(`${JSON.stringify({ pods: n, seconds, mem, http500, gone, thrown })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
