/**
 * `GET /mappings[?pod=namespace/name]` on the agent's health server: the mappings report
 * (mappings-report.ts) from the port tables, one read of each family's dataplane (without taking
 * the tables' lock, so workers are never held up by an inspection), the port reserver's sockets and
 * the Pod informer's annotations. 400 with `{"error": …}` for a malformed `pod`.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { IPFamily, NodeIPs, PortEntry, PortReserver, PortTable, Protocol } from '@npl/core';
import type { FastifyInstance } from 'fastify';
import { mappingKey } from './dataplane/mappings.js';
import type { TrackedDataplane } from './health.js';
import type { FamilyObservation, MappingsReport } from './mappings-report.js';
import { buildMappingsReport, parsePodFilter } from './mappings-report.js';

/** A port reserver that can say whether it holds a port now (SocketPortReserver, FakePortReserver). */
export interface HeldPortProbe {
  isHeld(port: number, protocol: Protocol, family: IPFamily): boolean;
}

export interface MappingsSource {
  readonly nodeName: string;
  readonly tables: ReadonlyMap<IPFamily, PortTable>;
  readonly dataplanes: ReadonlyMap<IPFamily, Pick<TrackedDataplane, 'inspect' | 'inFlight'>>;
  readonly pods: { get(key: string): V1Pod | undefined };
  readonly nodeIPs: () => NodeIPs;
  /** True once the start-up sync has installed the restored mappings. */
  readonly synced: () => boolean;
  /** The port reserver, when it is known. */
  readonly reserver: () => PortReserver | undefined;
}

function heldProbe(reserver: PortReserver | undefined): HeldPortProbe | undefined {
  const candidate = reserver as Partial<HeldPortProbe> | undefined;
  return typeof candidate?.isHeld === 'function' ? (candidate as HeldPortProbe) : undefined;
}

async function observeFamily(src: MappingsSource, family: IPFamily, table: PortTable, podKey: string | undefined): Promise<FamilyObservation> {
  const entries: PortEntry[] = podKey === undefined ? table.entries() : table.entriesForPod(podKey);
  const nodeIP = src.nodeIPs()[family];
  const dp = src.dataplanes.get(family);
  const inFlightBefore = dp?.inFlight() ?? new Set<string>();
  if (!dp) return { family, nodeIP, entries, present: undefined, readError: 'dataplane not initialised yet', inFlight: inFlightBefore };
  try {
    const drift = await dp.inspect(entries);
    const missing = new Set(drift.missing.map(mappingKey));
    const present = new Set(entries.map(mappingKey).filter((k) => !missing.has(k)));
    // A write that started or ended during the read may explain an absent rule: count both.
    const inFlight = new Set([...inFlightBefore, ...dp.inFlight()]);
    return { family, nodeIP, entries, present, inFlight };
  } catch (err) {
    return { family, nodeIP, entries, present: undefined, readError: (err as Error).message, inFlight: inFlightBefore };
  }
}

/** The report now; `podKey` restricts it to one Pod. */
export async function observeMappings(src: MappingsSource, podKey?: string): Promise<MappingsReport> {
  const synced = src.synced();
  const families = await Promise.all([...src.tables].map(([family, table]) => observeFamily(src, family, table, podKey)));
  const probe = heldProbe(src.reserver());
  return buildMappingsReport({
    node: src.nodeName,
    synced,
    families,
    pod: (key) => src.pods.get(key),
    ...(probe ? { socketHeld: (port: number, protocol: Protocol, family: IPFamily) => probe.isHeld(port, protocol, family) } : {}),
  });
}

/** Registers GET /mappings on `app` (before it listens). */
export function registerMappingsRoute(app: FastifyInstance, src: MappingsSource): void {
  app.get('/mappings', async (req, reply) => {
    let podKey: string | undefined;
    try {
      podKey = parsePodFilter((req.query as Record<string, unknown> | undefined)?.['pod']);
    } catch (err) {
      return reply.code(400).send({ error: (err as Error).message });
    }
    return reply.type('application/json; charset=utf-8').send(await observeMappings(src, podKey));
  });
}
