import { describe, expect, it } from '@jest/globals';
import type { NplAnnotationEntry } from './annotation.js';
import { annotationAction, planRestore } from './annotation-plan.js';
import { NPL_ANNOTATION_KEY } from './annotation.js';
import { planPod } from './planner.js';
import { IPFamilySet } from './ip-families.js';
import { testPod } from './testing/npl-harness.js';

const entry: NplAnnotationEntry = { podPort: 80, nodeIP: '192.0.2.10', nodePort: 61000, protocol: 'tcp', ipFamily: 'IPv4' };
const text = '[{"podPort":80,"nodeIP":"192.0.2.10","nodePort":61000,"protocol":"tcp","ipFamily":"IPv4"}]';

describe('annotationAction', () => {
  it.each([
    ['absent, nothing required', undefined, [], { kind: 'none' }],
    ['empty list, nothing required (Antrea leaves it)', '[]', [], { kind: 'none' }],
    ['null, nothing required', 'null', [], { kind: 'none' }],
    ['mappings, nothing required', text, [], { kind: 'remove' }],
    ['invalid, nothing required', '{oops', [], { kind: 'remove' }],
    ['equal', text, [entry], { kind: 'none' }],
    ['absent, required', undefined, [entry], { kind: 'set', value: text }],
    ['invalid, required', 'garbage', [entry], { kind: 'set', value: text }],
    ['different node port', text.replace('61000', '61001'), [entry], { kind: 'set', value: text }],
    ['legacy format, same mapping', '[{"podPort":80,"nodeIP":"192.0.2.10","nodePort":61000}]', [entry], { kind: 'set', value: text }],
  ])('%s', (_name, existing, required, want) => {
    expect(annotationAction(existing, required as NplAnnotationEntry[])).toEqual(want);
  });
});

describe('planPod skips', () => {
  it('skips a family the node has no IP of, and one without a table, naming why', () => {
    const plan = planPod({
      podKey: 'default/p',
      podIPs: { IPv4: '192.0.2.5', IPv6: '2001:db8::5' },
      nodeIPs: { IPv4: '198.51.100.1' },
      families: ['IPv4'],
      targets: [{ podPort: 80, protocol: 'tcp', families: IPFamilySet.of('IPv4', 'IPv6'), services: ['default/s'] }],
      hostPorts: new Map(),
      entries: [],
    });
    expect(plan.skipped).toEqual([{ family: 'IPv6', protocol: 'tcp', podPort: 80, reason: 'family-not-enabled' }]);
    expect(plan.steps).toEqual([{ op: 'add', family: 'IPv4', protocol: 'tcp', podPort: 80, podIP: '192.0.2.5', services: ['default/s'] }]);
  });
});

describe('planRestore', () => {
  it('restores complete in-range entries per family with the current Pod IP and ignores Pods without the key', () => {
    const pod = testPod('a', ['192.0.2.7', '2001:db8::7']);
    pod.metadata!.annotations = {
      [NPL_ANNOTATION_KEY]:
        '[{"podPort":80,"nodeIP":"x","nodePort":61000,"protocol":"tcp","ipFamily":"IPv4"},' +
        '{"podPort":80,"nodeIP":"y","nodePort":61000,"protocol":"tcp","ipFamily":"IPv6"},' +
        '{"podPort":53,"nodeIP":"x","nodePort":61001,"protocol":"udp"}]',
    };
    const plain = testPod('b');
    const plan = planRestore([pod, plain], { range: { start: 61000, end: 62000 }, families: ['IPv4'] });
    expect(plan.mappings.IPv4).toEqual([
      { podKey: 'default/a', nodePort: 61000, podPort: 80, podIP: '192.0.2.7', protocol: 'tcp' },
      { podKey: 'default/a', nodePort: 61001, podPort: 53, podIP: '192.0.2.7', protocol: 'udp' },
    ]);
    expect(plan.skipped).toEqual([{ podKey: 'default/a', index: 1, reason: 'family-not-enabled' }]);
    expect(plan.removeAnnotation).toEqual([]);
  });
});
