import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import type { PortEntry } from '@npl/core';
import { NPL_ANNOTATION_KEY } from '@npl/core';
import { mappingKey } from './dataplane/mappings.js';
import type { FamilyObservation } from './mappings-report.js';
import { annotationState, buildMappingsReport, parsePodFilter } from './mappings-report.js';

const NODE_IP = '198.18.0.10';

function entry(podKey: string, nodePort: number, over: Partial<PortEntry> = {}): PortEntry {
  return { family: 'IPv4', protocol: 'tcp', nodePort, podIP: '198.18.1.5', podPort: 8080, podKey, services: ['default/web'], defunct: false, ...over };
}

function pod(name: string, annotation?: string): V1Pod {
  return { metadata: { namespace: 'default', name, uid: `uid-${name}`, ...(annotation === undefined ? {} : { annotations: { [NPL_ANNOTATION_KEY]: annotation } }) } };
}

const ann = (nodePort: number, nodeIP = NODE_IP): string => `[{"podPort":8080,"nodeIP":"${nodeIP}","nodePort":${nodePort},"protocol":"tcp","ipFamily":"IPv4"}]`;

function observation(entries: PortEntry[], present: PortEntry[] | undefined, inFlight: PortEntry[] = []): FamilyObservation {
  return {
    family: 'IPv4',
    nodeIP: NODE_IP,
    entries,
    present: present && new Set(present.map(mappingKey)),
    ...(present ? {} : { readError: 'nft: No such file or directory' }),
    inFlight: new Set(inFlight.map(mappingKey)),
  };
}

describe('buildMappingsReport (GET /mappings body, schema version 1)', () => {
  it('reports each mapping with its rule state, socket and annotation, sorted by pod then family, protocol and ports', () => {
    const web1 = entry('default/web-1', 61001);
    const web0udp = entry('default/web-0', 61000, { protocol: 'udp' });
    const web0tcp = entry('default/web-0', 61002, { podIP: '198.18.1.4' });
    const other = entry('apps/db-0', 61003, { podIP: '198.18.1.6', services: [] });
    const pods = new Map([
      ['default/web-0', pod('web-0', ann(61002))],
      ['default/web-1', pod('web-1', ann(61999))],
    ]);
    const report = buildMappingsReport({
      node: 'node-a',
      synced: true,
      families: [observation([web1, web0udp, web0tcp, other], [web0tcp, other], [web1])],
      pod: (k) => pods.get(k),
      socketHeld: (port) => port !== 61003,
    });
    expect(report).toMatchObject({ schemaVersion: 1, node: 'node-a', synced: true, dataplanes: [{ family: 'IPv4', read: 'ok' }] });
    expect(report.mappings.map((m) => [`${m.pod.namespace}/${m.pod.name}`, m.protocol, m.nodePort, m.rule, m.socketHeld, m.annotation])).toEqual([
      ['apps/db-0', 'tcp', 61003, 'present', false, 'absent'],
      ['default/web-0', 'tcp', 61002, 'present', true, 'match'],
      ['default/web-0', 'udp', 61000, 'missing', true, 'differs'],
      ['default/web-1', 'tcp', 61001, 'pending', true, 'differs'],
    ]);
    expect(report.mappings[1]).toEqual({
      pod: { namespace: 'default', name: 'web-0', uid: 'uid-web-0' },
      podIP: '198.18.1.4',
      podPort: 8080,
      protocol: 'tcp',
      family: 'IPv4',
      nodeIP: NODE_IP,
      nodePort: 61002,
      rule: 'present',
      socketHeld: true,
      annotation: 'match',
      defunct: false,
      services: ['default/web'],
    });
    expect(report.mappings[0]!.pod.uid).toBeNull();
  });

  it('absent rules are pending before the start-up sync, unknown when the dataplane cannot be read (with the error)', () => {
    const e = entry('default/web-0', 61000);
    const before = buildMappingsReport({ node: 'n', synced: false, families: [observation([e], [])], pod: () => undefined });
    expect(before.mappings.map((m) => [m.rule, m.socketHeld])).toEqual([['pending', null]]);
    const failed = buildMappingsReport({ node: 'n', synced: true, families: [observation([e], undefined)], pod: () => undefined });
    expect(failed.mappings[0]!.rule).toBe('unknown');
    expect(failed.dataplanes).toEqual([{ family: 'IPv4', read: 'failed', error: 'nft: No such file or directory' }]);
  });

  it('an empty node gives an empty, still versioned, report', () => {
    expect(buildMappingsReport({ node: 'n', synced: true, families: [], pod: () => undefined })).toEqual({ schemaVersion: 1, node: 'n', synced: true, dataplanes: [], mappings: [] });
  });
});

describe('annotationState', () => {
  const e = entry('default/web-0', 61000);
  it.each([
    ['absent without the annotation', undefined, NODE_IP, 'absent'],
    ['match with the same entry (node IP compared canonically)', ann(61000), NODE_IP, 'match'],
    ['differs with another node port', ann(61001), NODE_IP, 'differs'],
    ['differs with another node IP', ann(61000, '198.18.0.11'), NODE_IP, 'differs'],
    ['differs while the node has no IP of the family', ann(61000), undefined, 'differs'],
    ['invalid when it is not JSON', '{oops', NODE_IP, 'invalid'],
  ] as const)('%s', (_title, text, nodeIP, want) => {
    expect(annotationState(pod('web-0', text), e, nodeIP)).toBe(want);
  });
});

describe('parsePodFilter', () => {
  it('accepts namespace/name and nothing', () => {
    expect(parsePodFilter('default/web-0')).toBe('default/web-0');
    expect(parsePodFilter(undefined)).toBeUndefined();
  });
  it.each(['web-0', 'a/b/c', '', '/x', ['a/b', 'c/d']])('rejects %j naming the parameter', (value) => {
    expect(() => parsePodFilter(value)).toThrow(/^query parameter pod .*: expected namespace\/name/);
  });
});
