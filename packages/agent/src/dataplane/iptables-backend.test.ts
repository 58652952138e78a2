import { describe, expect, it } from '@jest/globals';
import { BACKEND_PROBES, chooseBackend, detectBackend, iptablesBinaries } from './iptables-backend.js';
import { RecordingRunner, missingBinaryError } from './exec.js';

const HINT = '*mangle\n:PREROUTING ACCEPT [0:0]\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n';
const CANARY = '*mangle\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n';
const PLAIN = '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j KUBE-IPTABLES-HINT\nCOMMIT\n';

describe('chooseBackend (iptables-wrappers decision table)', () => {
  it.each([
    ['hint in iptables-nft-save -t mangle', [HINT, undefined, undefined, undefined], 'nft'],
    ['canary in ip6tables-nft-save -t mangle only', [PLAIN, CANARY, undefined, undefined], 'nft'],
    ['hint in iptables-legacy-save', [PLAIN, PLAIN, HINT, undefined], 'legacy'],
    ['canary in ip6tables-legacy-save only', ['', '', '', CANARY], 'legacy'],
    ['nft wins when both show kubelet chains', [HINT, undefined, HINT, HINT], 'nft'],
    ['nothing found (chain name only inside a rule)', [PLAIN, PLAIN, PLAIN, PLAIN], 'nft'],
    ['every probe failed', [undefined, undefined, undefined, undefined], 'nft'],
  ] as const)('%s => %s', (_, outputs, backend) => {
    expect(chooseBackend(outputs)).toBe(backend);
  });
});

describe('detectBackend', () => {
  it('runs the probes in order, stops at the first hit and ignores failing probes', async () => {
    const runner = new RecordingRunner(({ cmd }) => {
      if (cmd === 'iptables-nft-save') return missingBinaryError(cmd);
      if (cmd === 'iptables-legacy-save') return { stdout: HINT };
      return { exitCode: 1, stdout: '' };
    });
    expect(await detectBackend(runner)).toBe('legacy');
    expect(runner.commandLines()).toEqual(['iptables-nft-save -t mangle', 'ip6tables-nft-save -t mangle', 'iptables-legacy-save']);
  });

  it('falls back to nft after all four probes', async () => {
    const runner = new RecordingRunner();
    expect(await detectBackend(runner)).toBe('nft');
    expect(runner.calls.map((c) => c.cmd)).toEqual(BACKEND_PROBES.map((p) => p.cmd));
  });
});

describe('iptablesBinaries', () => {
  it('names the explicit per-backend binaries', () => {
    expect(iptablesBinaries('legacy', 'IPv6')).toEqual({
      cmd: 'ip6tables-legacy',
      save: 'ip6tables-legacy-save',
      restore: 'ip6tables-legacy-restore',
    });
    expect(iptablesBinaries('nft', 'IPv4').restore).toBe('iptables-nft-restore');
  });
});
