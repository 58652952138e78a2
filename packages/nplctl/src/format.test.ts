import { describe, expect, it } from '@jest/globals';
import { checkExitCode, formatCheckLines, formatListJson, formatListTable, hostPort, renderTable } from './format.js';
import type { Listing } from './list.js';

const listing: Listing = {
  mappings: [
    { namespace: 'default', pod: 'web-0', node: 'node-1', podPort: 80, protocol: 'tcp', family: 'IPv4', nodeIP: '198.18.0.3', nodePort: 61000 },
    { namespace: 'default', pod: 'web-0', node: 'node-1', podPort: 80, protocol: 'tcp', family: 'IPv6', nodeIP: '2001:db8::3', nodePort: 61000 },
  ],
  problems: [{ namespace: 'default', pod: 'bad', node: 'node-2', message: 'nodeportlocal.antrea.io annotation: value is not valid JSON' }],
};

describe('list output', () => {
  it('a table padded to the widest cell, IPv6 node addresses in brackets, problems on stderr', () => {
    expect(formatListTable(listing)).toEqual({
      stdout: [
        'NAMESPACE  POD    NODE    POD PORT  FAMILY  NODE ADDRESS',
        'default    web-0  node-1  80/tcp    IPv4    198.18.0.3:61000',
        'default    web-0  node-1  80/tcp    IPv6    [2001:db8::3]:61000',
        '',
      ].join('\n'),
      stderr: 'nplctl: default/bad on node-2: nodeportlocal.antrea.io annotation: value is not valid JSON\n',
    });
  });

  it('says so when there is nothing', () => {
    expect(formatListTable({ mappings: [], problems: [] })).toEqual({ stdout: 'No mappings found.\n', stderr: '' });
  });

  it('JSON carries the schema version, the rows and the problems', () => {
    expect(JSON.parse(formatListJson(listing))).toEqual({ schemaVersion: 1, mappings: listing.mappings, problems: listing.problems });
  });

  it('renderTable and hostPort', () => {
    expect(renderTable(['A', 'B'], [['long', 'x']])).toBe('A     B\nlong  x\n');
    expect([hostPort('198.18.0.3', 1), hostPort('2001:db8::1', 2)]).toEqual(['198.18.0.3:1', '[2001:db8::1]:2']);
  });
});

describe('check output', () => {
  it('one line per check: ✔, ✘ with what to do, - for not applicable; exit 1 when one failed', () => {
    const lines = [
      { status: 'pass' as const, text: 'annotation present' },
      { status: 'fail' as const, text: 'rule missing', hint: 'wait for the drift repair' },
      { status: 'skip' as const, text: 'udp: no connect check' },
    ];
    expect(formatCheckLines(lines)).toBe('✔ annotation present\n✘ rule missing — wait for the drift repair\n- udp: no connect check\n');
    expect(checkExitCode(lines)).toBe(1);
    expect(checkExitCode([lines[0]!, lines[2]!])).toBe(0);
  });
});
