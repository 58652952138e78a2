import { describe, expect, it } from '@jest/globals';
import { listMappings, podMappings } from './list.js';
import { annotation, pod, service } from './testing/index.js';

describe('podMappings', () => {
  it('one row per entry with the Pod and its node', () => {
    const p = pod({ name: 'web-0', node: 'node-1', annotation: annotation([80, 'tcp', '198.18.0.3', 61000], [53, 'udp', '2001:db8::3', 61001]) });
    expect(podMappings(p)).toEqual({
      mappings: [
        { namespace: 'default', pod: 'web-0', node: 'node-1', podPort: 80, protocol: 'tcp', family: 'IPv4', nodeIP: '198.18.0.3', nodePort: 61000 },
        { namespace: 'default', pod: 'web-0', node: 'node-1', podPort: 53, protocol: 'udp', family: 'IPv6', nodeIP: '2001:db8::3', nodePort: 61001 },
      ],
      problems: [],
    });
  });

  it('a Pod without the annotation has neither rows nor problems', () => {
    expect(podMappings(pod({ name: 'a', node: 'n' }))).toEqual({ mappings: [], problems: [] });
  });

  it.each([
    ['not JSON', '{oops', /^nodeportlocal\.antrea\.io annotation: value is not valid JSON .*; value "\{oops"$/],
    ['not an array', '{"podPort":80}', /expected a JSON array or null, got object/],
    ['a field of the wrong type', '[{"podPort":"80","nodeIP":"198.18.0.3","nodePort":61000,"protocol":"tcp"}]', /entry 0 field "podPort": expected an integer, got string "80"/],
  ])('a malformed annotation (%s) is one problem naming the Pod, its node and what is wrong', (_t, text, message) => {
    const { mappings, problems } = podMappings(pod({ name: 'bad', node: 'node-2', annotation: text }));
    expect(mappings).toEqual([]);
    expect(problems).toEqual([{ namespace: 'default', pod: 'bad', node: 'node-2', message: expect.stringMatching(message) }]);
  });

  it('an incomplete entry is a problem naming its index; the complete ones are still listed', () => {
    const text = '[{"podPort":80,"nodeIP":"198.18.0.3","nodePort":61000,"protocol":"tcp","ipFamily":"IPv4"},{"podPort":81,"nodeIP":"198.18.0.3","nodePort":0,"protocol":"tcp","ipFamily":"IPv4"}]';
    const { mappings, problems } = podMappings(pod({ name: 'half', node: 'n', annotation: text }));
    expect(mappings.map((m) => m.podPort)).toEqual([80]);
    expect(problems.map((p) => p.message)).toEqual(['nodeportlocal.antrea.io annotation: entry 1 is incomplete: nodePort is missing or 0']);
  });

  it('a long malformed value is shortened in the message', () => {
    const { problems } = podMappings(pod({ name: 'long', node: 'n', annotation: `[${'x'.repeat(200)}` }));
    expect(problems[0]!.message).toMatch(/value "\[x{76}\.\.\."$/);
  });
});

describe('listMappings', () => {
  const pods = [
    pod({ name: 'web-1', node: 'node-2', annotation: annotation([80, 'tcp', '198.18.0.4', 61000]) }),
    pod({ name: 'web-0', node: 'node-1', annotation: annotation([8080, 'tcp', '198.18.0.3', 61001], [80, 'tcp', '198.18.0.3', 61000]) }),
    pod({ ns: 'apps', name: 'db-0', node: 'node-1', app: 'db', annotation: annotation([5432, 'tcp', '198.18.0.3', 61002]) }),
    pod({ name: 'broken', node: 'node-1', annotation: 'null x' }),
    pod({ name: 'plain', node: 'node-1' }),
  ];

  it('sorts rows by namespace, pod, family, protocol, pod port and keeps going past a broken Pod', () => {
    const { mappings, problems } = listMappings(pods);
    expect(mappings.map((m) => `${m.namespace}/${m.pod} ${m.podPort}`)).toEqual(['apps/db-0 5432', 'default/web-0 80', 'default/web-0 8080', 'default/web-1 80']);
    expect(problems.map((p) => `${p.namespace}/${p.pod}`)).toEqual(['default/broken']);
  });

  it('--node keeps that node only', () => {
    expect(listMappings(pods, { node: 'node-2' }).mappings.map((m) => m.pod)).toEqual(['web-1']);
  });

  it('--service keeps the Pods it selects and only the pod ports it targets (named target ports resolved)', () => {
    const svc = service({ name: 'web', ports: [{ port: 80, targetPort: 'http' }] });
    expect(listMappings(pods, { service: svc }).mappings.map((m) => `${m.pod} ${m.podPort}`)).toEqual(['web-0 80', 'web-1 80']);
    const both = service({ name: 'web', ports: [{ port: 80, targetPort: 80 }, { port: 8080 }] });
    expect(listMappings(pods, { service: both, node: 'node-1' }).mappings.map((m) => `${m.pod} ${m.podPort}`)).toEqual(['web-0 80', 'web-0 8080']);
  });
});
