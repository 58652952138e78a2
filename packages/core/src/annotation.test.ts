import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { isNplError } from './errors.js';
import { isIPv6 } from './ip.js';
import {
  NPL_ANNOTATION_KEY,
  NPL_ENABLED_ANNOTATION_KEY,
  annotationUpToDate,
  annotationsEqual,
  formatNplAnnotation,
  ipFamilyForAnnotation,
  isCompleteNplEntry,
  parseNplAnnotation,
  type NplAnnotationEntry,
} from './annotation.js';
import { errorOf } from './testing/error-of.js';

const SINGLE =
  '[{"podPort":8080,"nodeIP":"10.10.10.10","nodePort":61002,"protocol":"tcp","ipFamily":"IPv4"}]';
const DUAL =
  '[{"podPort":8080,"nodeIP":"10.10.10.10","nodePort":61002,"protocol":"tcp","ipFamily":"IPv4"},' +
  '{"podPort":8080,"nodeIP":"fd12:3456:789a:1::1","nodePort":61003,"protocol":"tcp","ipFamily":"IPv6"}]';

const v4 = (podPort: number, nodePort: number, protocol: 'tcp' | 'udp' = 'tcp'): NplAnnotationEntry => ({
  podPort,
  nodeIP: '10.10.10.10',
  nodePort,
  protocol,
  ipFamily: 'IPv4',
});
const v6 = (podPort: number, nodePort: number, protocol: 'tcp' | 'udp' = 'tcp'): NplAnnotationEntry => ({
  podPort,
  nodeIP: 'fd12:3456:789a:1::1',
  nodePort,
  protocol,
  ipFamily: 'IPv6',
});


describe('annotation keys', () => {
  it('are Antrea\'s', () => {
    expect(NPL_ANNOTATION_KEY).toBe('nodeportlocal.antrea.io');
    expect(NPL_ENABLED_ANNOTATION_KEY).toBe('nodeportlocal.antrea.io/enabled');
  });
});

describe('formatNplAnnotation', () => {
  it('writes the single-stack example of docs/node-port-local.md byte for byte', () => {
    expect(formatNplAnnotation([v4(8080, 61002)])).toBe(SINGLE);
  });

  it('writes the dual-stack example byte for byte, whatever the input order', () => {
    expect(formatNplAnnotation([v6(8080, 61003), v4(8080, 61002)])).toBe(DUAL);
  });

  it('sorts by nodePort, then IPv4 before IPv6, then tcp before udp, then podPort', () => {
    const text = formatNplAnnotation([v6(80, 61000), v4(90, 61001, 'udp'), v4(90, 61001), v4(80, 61000), v4(70, 61001)]);
    expect(JSON.parse(text)).toEqual([v4(80, 61000), v6(80, 61000), v4(70, 61001), v4(90, 61001), v4(90, 61001, 'udp')]);
  });

  it('writes IPv6 and IPv4-mapped node IPs as Go net.IP.String() does', () => {
    expect(formatNplAnnotation([{ ...v6(80, 61000), nodeIP: 'FD12:3456:789A:0001:0:0:0:1' }])).toBe(
      '[{"podPort":80,"nodeIP":"fd12:3456:789a:1::1","nodePort":61000,"protocol":"tcp","ipFamily":"IPv6"}]',
    );
    expect(formatNplAnnotation([{ ...v4(80, 61000), nodeIP: '::ffff:10.10.10.10' }])).toContain('"nodeIP":"10.10.10.10"');
  });

  it('writes [] for no entries', () => {
    expect(formatNplAnnotation([])).toBe('[]');
  });

  it('keeps duplicates', () => {
    expect(JSON.parse(formatNplAnnotation([v4(80, 61000), v4(80, 61000)]))).toHaveLength(2);
  });

  it.each([
    [{ ...v4(80, 61000), nodeIP: '' }, 'nodeportlocal.antrea.io entry 1: nodeIP "" is not an IPv4 address'],
    [{ ...v4(80, 61000), nodeIP: 'node-1' }, 'nodeportlocal.antrea.io entry 1: nodeIP "node-1" is not an IPv4 address'],
    [{ ...v4(80, 61000), nodeIP: '2001:db8::1' }, 'nodeportlocal.antrea.io entry 1: nodeIP "2001:db8::1" is not an IPv4 address'],
    [{ ...v6(80, 61000), nodeIP: '10.0.0.1' }, 'nodeportlocal.antrea.io entry 1: nodeIP "10.0.0.1" is not an IPv6 address'],
  ])('rejects a node IP that is not of the entry\'s family: %j', (bad, message) => {
    const err = errorOf(() => formatNplAnnotation([v4(1, 1), bad]));
    expect(isNplError(err, 'NPL_ADDRESS_INVALID')).toBe(true);
    expect((err as Error).message).toBe(message);
  });
});

describe('parseNplAnnotation', () => {
  it('reads the current format', () => {
    expect(parseNplAnnotation(DUAL)).toEqual([
      { ...v4(8080, 61002), index: 0, legacyFormat: false },
      { ...v6(8080, 61003), index: 1, legacyFormat: false },
    ]);
  });

  it.each([
    [
      'v0.13-v1.3: no protocol, read as tcp',
      '[{"podPort":8080,"nodeIP":"10.10.10.10","nodePort":61002}]',
      [{ ...v4(8080, 61002), index: 0, legacyFormat: true, protocolMissing: true }],
    ],
    [
      'v1.4-v1.6: protocols array, one entry per protocol sharing the nodePort',
      '[{"podPort":8080,"nodeIP":"10.10.10.10","nodePort":61002,"protocols":["tcp","udp"]}]',
      [
        { ...v4(8080, 61002), index: 0, legacyFormat: true, protocolMissing: true },
        { ...v4(8080, 61002, 'udp'), index: 0, legacyFormat: true, protocolMissing: true },
      ],
    ],
    [
      'v1.4-v1.6: duplicate protocols read once',
      '[{"podPort":8080,"nodeIP":"10.10.10.10","nodePort":61002,"protocols":["udp","udp"]}]',
      [{ ...v4(8080, 61002, 'udp'), index: 0, legacyFormat: true, protocolMissing: true }],
    ],
    [
      'v1.7-v1.15: protocol wins over the deprecated protocols',
      '[{"podPort":8080,"nodeIP":"10.10.10.10","nodePort":61002,"protocol":"udp","protocols":["udp"]},' +
        '{"podPort":8080,"nodeIP":"10.10.10.10","nodePort":61003,"protocol":"tcp","protocols":["udp"]}]',
      [
        { ...v4(8080, 61002, 'udp'), index: 0, legacyFormat: true },
        { ...v4(8080, 61003), index: 1, legacyFormat: true },
      ],
    ],
    [
      'v2.0-v2.5: no ipFamily, read as IPv4',
      '[{"podPort":8080,"nodeIP":"10.10.10.10","nodePort":61002,"protocol":"tcp"}]',
      [{ ...v4(8080, 61002), index: 0, legacyFormat: true }],
    ],
    [
      'an ipFamily other than exactly IPv6 read as IPv4, as Antrea restores it',
      '[{"podPort":8080,"nodeIP":"10.10.10.10","nodePort":61002,"protocol":"tcp","ipFamily":"ipv6"}]',
      [{ ...v4(8080, 61002), index: 0, legacyFormat: true }],
    ],
  ])('reads %s', (_name, text, expected) => {
    expect(parseNplAnnotation(text)).toEqual(expected);
  });

  it('matches keys case-insensitively, like Go encoding/json', () => {
    expect(
      parseNplAnnotation('[{"PODPORT":8080,"NodeIp":"10.10.10.10","nodeport":61002,"Protocol":"tcp","IPFAMILY":"IPv4"}]'),
    ).toEqual([{ ...v4(8080, 61002), index: 0, legacyFormat: false }]);
  });

  it('lets the last of keys equal but for case win, like Go', () => {
    expect(parseNplAnnotation('[{"podPort":1,"nodeIP":"10.10.10.10","nodePort":61002,"protocol":"tcp","ipFamily":"IPv4","PodPort":8080}]')[0]?.podPort).toBe(8080);
  });

  it('ignores unknown fields', () => {
    expect(
      parseNplAnnotation('[{"podPort":8080,"nodeIP":"10.10.10.10","nodePort":61002,"protocol":"tcp","ipFamily":"IPv4","extra":{"a":[1]},"note":"x"}]'),
    ).toEqual([{ ...v4(8080, 61002), index: 0, legacyFormat: false }]);
  });

  it.each(['null', ' null ', '[]', ' [ ] '])('reads %j as no entries', (text) => {
    expect(parseNplAnnotation(text)).toEqual([]);
  });

  it('reads null fields as missing, like Go', () => {
    expect(parseNplAnnotation('[{"podPort":8080,"nodeIP":null,"nodePort":61002,"protocol":"tcp","ipFamily":null}]')).toEqual([
      { ...v4(8080, 61002), nodeIP: '', index: 0, legacyFormat: true },
    ]);
  });

  it.each([
    ['nodePort 0', '{"podPort":8080,"nodeIP":"10.10.10.10","nodePort":0,"protocol":"tcp"}', 'nodePort-missing'],
    ['nodePort missing', '{"podPort":8080,"nodeIP":"10.10.10.10","protocol":"tcp"}', 'nodePort-missing'],
    ['podPort missing (TestInitIncompleteRuleInAnnotation)', '{"nodeIP":"10.10.10.10","nodePort":61000,"protocol":"tcp"}', 'podPort-missing'],
    ['podPort null', '{"podPort":null,"nodeIP":"10.10.10.10","nodePort":61000,"protocol":"tcp"}', 'podPort-missing'],
    ['protocol empty', '{"podPort":80,"nodeIP":"10.10.10.10","nodePort":61000,"protocol":""}', 'protocol-missing'],
    ['protocols empty', '{"podPort":80,"nodeIP":"10.10.10.10","nodePort":61000,"protocols":[]}', 'protocol-missing'],
    ['protocol sctp', '{"podPort":80,"nodeIP":"10.10.10.10","nodePort":61000,"protocol":"sctp"}', 'protocol-unsupported'],
    ['protocol upper-case', '{"podPort":80,"nodeIP":"10.10.10.10","nodePort":61000,"protocol":"TCP"}', 'protocol-unsupported'],
    ['podPort negative', '{"podPort":-80,"nodeIP":"10.10.10.10","nodePort":61000,"protocol":"tcp"}', 'podPort-out-of-range'],
    ['podPort 65536', '{"podPort":65536,"nodeIP":"10.10.10.10","nodePort":61000,"protocol":"tcp"}', 'podPort-out-of-range'],
    ['nodePort 70000', '{"podPort":80,"nodeIP":"10.10.10.10","nodePort":70000,"protocol":"tcp"}', 'nodePort-out-of-range'],
    ['entry null', 'null', 'podPort-missing'],
  ])('keeps an incomplete entry flagged instead of failing: %s', (_name, entry, reason) => {
    const parsed = parseNplAnnotation(`[${SINGLE.slice(1, -1)},${entry}]`);
    expect(parsed).toHaveLength(2);
    expect(parsed[0] && isCompleteNplEntry(parsed[0])).toBe(true);
    expect(parsed[1]).toMatchObject({ index: 1, incomplete: reason });
    expect(parsed[1] && isCompleteNplEntry(parsed[1])).toBe(false);
  });

  it('keeps the fields it read on an incomplete entry', () => {
    expect(parseNplAnnotation('[{"podPort":80,"nodeIP":"10.10.10.10","nodePort":61000,"protocol":"sctp","ipFamily":"IPv6"}]')).toEqual([
      { podPort: 80, nodeIP: '10.10.10.10', nodePort: 61000, protocol: 'sctp', ipFamily: 'IPv6', index: 0, legacyFormat: false, incomplete: 'protocol-unsupported' },
    ]);
  });

  it('keeps an out-of-range but valid nodePort complete (the restore range check is the caller\'s)', () => {
    expect(parseNplAnnotation('[{"podPort":80,"nodeIP":"10.10.10.10","nodePort":30000,"protocol":"tcp","ipFamily":"IPv4"}]')).toEqual([
      { ...v4(80, 30000), index: 0, legacyFormat: false },
    ]);
  });

  it.each([
    ['""', '', 'nodeportlocal.antrea.io annotation: value "" is empty, expected a JSON array'],
    ['blank', '  ', 'nodeportlocal.antrea.io annotation: value "  " is empty, expected a JSON array'],
    ['an object', '{"podPort":80}', 'nodeportlocal.antrea.io annotation: expected a JSON array or null, got object {"podPort":80}'],
    ['a number', '42', 'nodeportlocal.antrea.io annotation: expected a JSON array or null, got number 42'],
    ['a string', '"[]"', 'nodeportlocal.antrea.io annotation: expected a JSON array or null, got string "[]"'],
    ['true', 'true', 'nodeportlocal.antrea.io annotation: expected a JSON array or null, got boolean true'],
    ['a number entry', '[1]', 'nodeportlocal.antrea.io annotation: entry 0: expected a JSON object, got number 1'],
    ['a string entry', '[{},"x"]', 'nodeportlocal.antrea.io annotation: entry 1: expected a JSON object, got string "x"'],
    ['an array entry', '[[]]', 'nodeportlocal.antrea.io annotation: entry 0: expected a JSON object, got array []'],
    ['podPort as string', '[{"podPort":"8080"}]', 'nodeportlocal.antrea.io annotation: entry 0 field "podPort": expected an integer, got string "8080"'],
    ['nodePort fractional', '[{"podPort":80,"nodePort":61000.5}]', 'nodeportlocal.antrea.io annotation: entry 0 field "nodePort": expected an integer, got number 61000.5'],
    ['nodePort huge', '[{"nodePort":1e300}]', 'nodeportlocal.antrea.io annotation: entry 0 field "nodePort": expected an integer, got number 1e+300'],
    ['nodeIP as number', '[{"nodeIP":10}]', 'nodeportlocal.antrea.io annotation: entry 0 field "nodeIP": expected a string, got number 10'],
    ['protocol as array', '[{"protocol":["tcp"]}]', 'nodeportlocal.antrea.io annotation: entry 0 field "protocol": expected a string, got array ["tcp"]'],
    ['protocols as string', '[{"protocols":"tcp"}]', 'nodeportlocal.antrea.io annotation: entry 0 field "protocols": expected an array of strings, got string "tcp"'],
    ['protocols with a number', '[{"protocols":["tcp",6]}]', 'nodeportlocal.antrea.io annotation: entry 0 field "protocols[1]": expected a string, got number 6'],
    ['ipFamily as bool', '[{},{"ipFamily":true}]', 'nodeportlocal.antrea.io annotation: entry 1 field "ipFamily": expected a string, got boolean true'],
    ['a long value', '[{"nodeIP":{"a":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}]', 'nodeportlocal.antrea.io annotation: entry 0 field "nodeIP": expected a string, got object {"a":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'],
  ])('rejects %s', (_name, text, message) => {
    const err = errorOf(() => parseNplAnnotation(text));
    expect(isNplError(err, 'NPL_ANNOTATION_INVALID')).toBe(true);
    expect((err as Error).message).toBe(message);
  });

  it.each(['[', '[{]', 'nope', '[{"podPort":80,}]', '[1,]'])('rejects invalid JSON %j with the parser\'s reason as cause', (text) => {
    const err = errorOf(() => parseNplAnnotation(text));
    expect(isNplError(err, 'NPL_ANNOTATION_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/^nodeportlocal\.antrea\.io annotation: value is not valid JSON \(.+\)$/);
    expect((err as Error).cause).toBeInstanceOf(SyntaxError);
  });

  it('ignores a malformed protocols array when protocol is present', () => {
    expect(parseNplAnnotation('[{"podPort":80,"nodeIP":"10.10.10.10","nodePort":61000,"protocol":"tcp","protocols":"junk"}]')).toEqual([
      { ...v4(80, 61000), index: 0, legacyFormat: true },
    ]);
  });
});

describe('TestIPFamilyForAnnotation', () => {
  it.each([
    ['IPv4 protocol', 'IPv4', 'IPv4'],
    ['IPv6 protocol', 'IPv6', 'IPv6'],
    ['unknown family', 'IPv5', undefined],
  ])('%s', (_name, family, expected) => {
    expect(ipFamilyForAnnotation(family)).toBe(expected);
  });
});

describe('BenchmarkCompareNPLAnnotationLists', () => {
  const nodeIP = '127.0.0.1';
  const entry = (podPort: number, nodePort: number): NplAnnotationEntry => ({ podPort, nodeIP, nodePort, protocol: 'tcp', ipFamily: 'IPv4' });
  const a1 = entry(80, 61000);
  const a2 = entry(8080, 61001);
  const a3 = entry(81, 61002);
  const a4 = entry(8081, 61003);

  it.each([
    ['EqualSameOrder', [a2, a1, a3], [a2, a1, a3], true],
    ['EqualDifferentOrder', [a1, a2, a3], [a3, a2, a1], true],
    ['NotEqualSameLength', [a1, a2, a3], [a3, a2, a4], false],
    ['NotEqualDifferentLength', [a1, a2, a3], [a1, a2, a3, a4], false],
  ])('%s', (_name, list1, list2, equal) => {
    const before = [list1.slice(), list2.slice()];
    expect(annotationsEqual(list1, list2)).toBe(equal);
    expect([list1, list2]).toEqual(before);
  });
});

describe('annotationsEqual', () => {
  it('compares all five fields', () => {
    const base = v4(80, 61000);
    for (const changed of [
      { ...base, podPort: 81 },
      { ...base, nodeIP: '10.10.10.20' },
      { ...base, nodePort: 61001 },
      { ...base, protocol: 'udp' as const },
      { ...v6(80, 61000) },
    ]) {
      expect(annotationsEqual([base], [changed])).toBe(false);
    }
  });

  it('sees no difference between tcp and udp entries sharing a nodePort in any order (Antrea unstable-tie bug)', () => {
    expect(annotationsEqual([v4(80, 61000), v4(80, 61000, 'udp')], [v4(80, 61000, 'udp'), v4(80, 61000)])).toBe(true);
    expect(annotationsEqual([v4(80, 4001), v4(90, 4001)], [v4(90, 4001), v4(80, 4001)])).toBe(true);
  });

  it('counts duplicates, as Antrea\'s length check does', () => {
    expect(annotationsEqual([v4(80, 61000), v4(80, 61000), v4(81, 61001)], [v4(80, 61000), v4(81, 61001), v4(81, 61001)])).toBe(false);
  });

  it('compares nodeIP as text', () => {
    expect(annotationsEqual([{ ...v6(80, 61000), nodeIP: 'FD12:3456:789A:1::1' }], [v6(80, 61000)])).toBe(false);
  });

  it('compares parsed entries, incomplete ones included, against required ones', () => {
    expect(annotationsEqual(parseNplAnnotation(DUAL), [v6(8080, 61003), v4(8080, 61002)])).toBe(true);
    expect(annotationsEqual(parseNplAnnotation('[{"podPort":80,"nodeIP":"10.10.10.10","protocol":"tcp"}]'), [v4(80, 61000)])).toBe(false);
  });
});

describe('annotationUpToDate', () => {
  it('is true for an equal annotation in the current format, in any order', () => {
    expect(annotationUpToDate(parseNplAnnotation(DUAL), [v6(8080, 61003), v4(8080, 61002)])).toBe(true);
    expect(annotationUpToDate(parseNplAnnotation('null'), [])).toBe(true);
    expect(annotationUpToDate(parseNplAnnotation('[]'), [])).toBe(true);
  });

  it('is false for the same mappings in an old format, so it gets rewritten once', () => {
    expect(annotationUpToDate(parseNplAnnotation('[{"podPort":8080,"nodeIP":"10.10.10.10","nodePort":61002,"protocol":"tcp"}]'), [v4(8080, 61002)])).toBe(false);
    expect(annotationUpToDate(parseNplAnnotation('[{"podPort":8080,"nodeIP":"10.10.10.10","nodePort":61002}]'), [v4(8080, 61002)])).toBe(false);
  });

  it('is false when an entry is incomplete or the mappings differ', () => {
    expect(annotationUpToDate(parseNplAnnotation(`[${SINGLE.slice(1, -1)},{"podPort":0}]`), [v4(8080, 61002)])).toBe(false);
    expect(annotationUpToDate(parseNplAnnotation(SINGLE), [v4(8080, 61003)])).toBe(false);
    expect(annotationUpToDate(parseNplAnnotation(SINGLE), [])).toBe(false);
  });
});

const port = fc.integer({ min: 1, max: 65535 });
const entryArb: fc.Arbitrary<NplAnnotationEntry> = fc.oneof(
  fc.record({ podPort: port, nodeIP: fc.ipV4(), nodePort: port, protocol: fc.constantFrom('tcp' as const, 'udp' as const), ipFamily: fc.constant('IPv4' as const) }),
  fc.record({ podPort: port, nodeIP: fc.ipV6().filter(isIPv6), nodePort: port, protocol: fc.constantFrom('tcp' as const, 'udp' as const), ipFamily: fc.constant('IPv6' as const) }),
);
const smallEntryArb: fc.Arbitrary<NplAnnotationEntry> = fc.record({
  podPort: fc.integer({ min: 80, max: 81 }),
  nodeIP: fc.constant('fd12:3456:789a:1::1'),
  nodePort: fc.integer({ min: 61000, max: 61001 }),
  protocol: fc.constantFrom('tcp' as const, 'udp' as const),
  ipFamily: fc.constant('IPv6' as const),
});
const listAndShuffle = (arb: fc.Arbitrary<NplAnnotationEntry>): fc.Arbitrary<[NplAnnotationEntry[], NplAnnotationEntry[]]> =>
  fc.array(arb, { maxLength: 12 }).chain((list) =>
    fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length })),
  );

describe('annotation codec properties', () => {
  it('parse(format(entries)) gives the entries back, complete and current', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 12 }), (entries) => {
        const parsed = parseNplAnnotation(formatNplAnnotation(entries));
        expect(parsed.every((entry) => isCompleteNplEntry(entry) && !entry.legacyFormat)).toBe(true);
        expect(annotationsEqual(parsed, JSON.parse(formatNplAnnotation(entries)) as NplAnnotationEntry[])).toBe(true);
        expect(formatNplAnnotation(parsed.filter(isCompleteNplEntry))).toBe(formatNplAnnotation(entries));
      }),
    );
  });

  it('format output is sorted by (nodePort, ipFamily) and independent of input order', () => {
    fc.assert(
      fc.property(listAndShuffle(entryArb), ([list, shuffled]) => {
        const text = formatNplAnnotation(list);
        expect(formatNplAnnotation(shuffled)).toBe(text);
        const written = JSON.parse(text) as NplAnnotationEntry[];
        written.slice(1).forEach((entry, i) => {
          const previous = written[i] as NplAnnotationEntry;
          expect(previous.nodePort < entry.nodePort || (previous.nodePort === entry.nodePort && previous.ipFamily <= entry.ipFamily)).toBe(true);
        });
      }),
    );
  });

  it('annotationsEqual is reflexive and order-insensitive', () => {
    fc.assert(
      fc.property(listAndShuffle(entryArb), ([list, shuffled]) => {
        expect(annotationsEqual(list, list)).toBe(true);
        expect(annotationsEqual(list, shuffled)).toBe(true);
        expect(annotationsEqual(shuffled, list)).toBe(true);
      }),
    );
  });

  it('annotationsEqual agrees with comparing the formatted text', () => {
    fc.assert(
      fc.property(fc.array(smallEntryArb, { maxLength: 4 }), fc.array(smallEntryArb, { maxLength: 4 }), (a, b) => {
        expect(annotationsEqual(a, b)).toBe(formatNplAnnotation(a) === formatNplAnnotation(b));
      }),
    );
  });
});
