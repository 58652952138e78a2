import { describe, expect, it } from '@jest/globals';
import { AgentConfigError, HELP, parseAgentConfig, parseDuration } from './config.js';

function config(argv: string[], env: Record<string, string> = {}) {
  const r = parseAgentConfig(argv, env);
  if (r.help) throw new Error('unexpected help');
  return r.config;
}

describe('parseAgentConfig', () => {
  it('applies Antrea-compatible defaults', () => {
    expect(config(['--node-name', 'n1'])).toEqual({
      nodeName: 'n1',
      portRange: { start: 61000, end: 62000 },
      dataplane: 'nftables',
      nftTable: 'npl',
      iptablesChain: 'ANTREA-NODE-PORT-LOCAL',
      healthAddress: 'NODE_IP:10361',
      workers: 4,
      relistMs: 300_000,
      verifyMs: 60_000,
      unreadyAfterMs: 60_000,
      stallMs: 120_000,
      logLevel: 'info',
      apiQps: 50,
      apiBurst: 100,
    });
  });

  it('reads environment variables and lets flags win', () => {
    const c = config(['--port-range', '30000-30100'], { NODE_NAME: 'from-env', NPL_PORT_RANGE: '40000-41000', NPL_DATAPLANE: 'iptables', KUBECONFIG: '/k' });
    expect(c.nodeName).toBe('from-env');
    expect(c.portRange).toEqual({ start: 30000, end: 30100 });
    expect(c.dataplane).toBe('iptables');
    expect(c.kubeconfig).toBe('/k');
  });

  it('reads the health limits, the node IP (downward API) and explicit listen addresses', () => {
    const c = config(['--node-name', 'n', '--unready-after', '5s', '--stall-limit', '30s', '--health-address', '127.0.0.1:10361'], { NODE_IP: '198.18.0.10' });
    expect([c.unreadyAfterMs, c.stallMs, c.healthAddress, c.nodeIP]).toEqual([5_000, 30_000, '127.0.0.1:10361', '198.18.0.10']);
    expect(config(['--node-name', 'n', '--health-address', '0.0.0.0:10361']).healthAddress).toBe('0.0.0.0:10361');
  });

  it('treats an empty variable as unset', () => {
    expect(config([], { NODE_NAME: 'n', NPL_PORT_RANGE: '' }).portRange).toEqual({ start: 61000, end: 62000 });
  });

  it.each([
    [[], {}, '--node-name (NODE_NAME) is required'],
    [['--node-name', 'n', '--port-range', '62000-61000'], {}, '--port-range (NPL_PORT_RANGE) "62000-61000"'],
    [['--node-name', 'n'], { NPL_PORT_RANGE: 'abc' }, '--port-range (NPL_PORT_RANGE) "abc"'],
    [['--node-name', 'n', '--dataplane', 'ebpf'], {}, '--dataplane (NPL_DATAPLANE) "ebpf": expected nftables or iptables'],
    [['--node-name', 'n', '--workers', '0'], {}, '--workers (NPL_WORKERS) "0": expected a whole number from 1 to 64'],
    [['--node-name', 'n', '--verify-period', '5 minutes'], {}, '--verify-period (NPL_VERIFY_PERIOD) "5 minutes": expected a duration'],
    [['--node-name', 'n', '--health-address', '10361'], {}, '--health-address (NPL_HEALTH_ADDRESS) "10361": expected host:port'],
    [['--node-name', 'n', '--nft-table', 'bad table'], {}, '--nft-table (NPL_NFT_TABLE) "bad table"'],
    [['--node-name', 'n', '--log-level', 'loud'], {}, '--log-level (NPL_LOG_LEVEL) "loud": expected one of'],
    [['--node-name', 'n', '--bogus'], {}, "Unknown option '--bogus'"],
    [['--node-name', 'n', '--unready-after', '0'], {}, '--unready-after (NPL_UNREADY_AFTER) "0": expected a duration above 0'],
    [['--node-name', 'n'], { NPL_STALL_LIMIT: 'soon' }, '--stall-limit (NPL_STALL_LIMIT) "soon": expected a duration'],
    [['--node-name', 'n', '--node-ip', 'node-1'], {}, '--node-ip (NODE_IP) "node-1": expected an IPv4 or IPv6 address'],
  ])('rejects %j %j naming the flag and the value', (argv, env, message) => {
    expect(() => parseAgentConfig(argv, env)).toThrow(message);
  });

  it('throws AgentConfigError (exit code 2 in the CLI) for port range errors too', () => {
    let err: unknown;
    try {
      parseAgentConfig(['--node-name', 'n', '--port-range', '0-10'], {});
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toContain('--port-range (NPL_PORT_RANGE)');
    expect(err instanceof AgentConfigError || (err as { code?: string }).code === 'NPL_PORT_RANGE_INVALID').toBe(true);
  });

  it('answers --help with every option and its variable', () => {
    expect(parseAgentConfig(['--help'], {})).toEqual({ help: true });
    for (const text of ['--node-name', 'NODE_NAME', '--port-range', 'NPL_PORT_RANGE', '[default 61000-62000]', '--verify-period']) {
      expect(HELP).toContain(text);
    }
  });
});

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1.5h', 5_400_000],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text, 'relist-period')).toBe(ms);
  });
});
