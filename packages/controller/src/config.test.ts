import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseControllerConfig } from './config.js';
import { credentialsReader } from './credentials.js';

const BASE = ['--bigip-url', 'https://192.0.2.1', '--bigip-username', 'admin'];
const ENV = { BIGIP_PASSWORD: 's3cret' };

function config(argv: string[], env: Record<string, string> = ENV) {
  const r = parseControllerConfig(argv, env);
  if (r.help) throw new Error('help');
  return r.config;
}

describe('controller configuration', () => {
  it('defaults: icontrol, partition k8s, token auth, TLS verified, all namespaces, 30 s resync', () => {
    expect(config(BASE)).toEqual({
      bigipUrl: 'https://192.0.2.1', partition: 'k8s', backend: 'icontrol', insecure: false, auth: 'token',
      credentials: { kind: 'username', username: 'admin', passwordEnv: 'BIGIP_PASSWORD' },
      resyncMs: 30_000, relistMs: 300_000, healthAddress: ':10362', logLevel: 'info',
      leaderElection: { enabled: true, id: 'npl-controller', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
    });
  });

  it('reads every option from flags or variables, a flag winning', () => {
    const c = config(['--backend', 'as3', '--namespace', 'prod', '--namespace', 'dev,web', '--resync-period', '1m', '--bigip-insecure', 'true'], {
      BIGIP_URL: 'https://bigip.example.com:8443', BIGIP_CREDENTIALS_DIR: '/etc/bigip', BIGIP_PARTITION: 'tenant1', NPL_CONTROLLER_BACKEND: 'icontrol', NPL_NAMESPACE_LABEL_SELECTOR: 'team=a',
    });
    expect(c).toMatchObject({
      bigipUrl: 'https://bigip.example.com:8443', backend: 'as3', partition: 'tenant1', namespaces: ['prod', 'dev', 'web'],
      resyncMs: 60_000, insecure: true, namespaceLabelSelector: 'team=a', credentials: { kind: 'directory', dir: '/etc/bigip' },
    });
  });

  it.each([
    [[], {}, /--bigip-url \(BIGIP_URL\) is required/],
    [['--bigip-url', 'ftp://x'], ENV, /--bigip-url \(BIGIP_URL\) "ftp:\/\/x": expected https:\/\/host\[:port\]/],
    [['--bigip-url', 'https://192.0.2.1'], {}, /BIG-IP credentials are required/],
    [[...BASE, '--backend', 'cccl'], ENV, /--backend \(NPL_CONTROLLER_BACKEND\) "cccl": expected icontrol or as3/],
    [[...BASE, '--bigip-partition', '9x'], ENV, /--bigip-partition \(BIGIP_PARTITION\) "9x"/],
    [[...BASE, '--resync-period', 'soon'], ENV, /--resync-period \(NPL_RESYNC_PERIOD\) "soon": expected a duration/],
    [[...BASE, '--namespace', 'Bad_NS'], ENV, /--namespace \(NPL_NAMESPACES\) "Bad_NS"/],
    [[...BASE, '--password', 'x'], ENV, /Unknown option '--password'/],
  ])('rejects bad input with a message naming flag, variable and value (%#)', (argv, env, message) => {
    expect(() => parseControllerConfig(argv, env as Record<string, string>)).toThrow(message);
  });

  it('credentials come from a mounted Secret directory, re-read at each call', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'npl-cred-'));
    writeFileSync(path.join(dir, 'username'), 'admin\n');
    writeFileSync(path.join(dir, 'password'), 'first\n');
    const read = credentialsReader({ kind: 'directory', dir }, {});
    expect(read()).toEqual({ username: 'admin', password: 'first' });
    writeFileSync(path.join(dir, 'password'), 'rotated');
    expect(read().password).toBe('rotated');
    expect(() => credentialsReader({ kind: 'directory', dir: path.join(dir, 'missing') }, {})()).toThrow(/username file .* cannot be read: ENOENT/);
  });

  it('leader election flags: namespace, id and client-go durations, from flags or variables', () => {
    const c = config([...BASE, '--leader-election-namespace', 'bigip', '--leader-election-lease-duration', '30s'], {
      ...ENV, NPL_LEADER_ELECTION_ID: 'npl-controller-k8s', NPL_LEADER_ELECTION_RENEW_DEADLINE: '20s', NPL_LEADER_ELECTION_RETRY_PERIOD: '4s',
    });
    expect(c.leaderElection).toEqual({ enabled: true, namespace: 'bigip', id: 'npl-controller-k8s', leaseDurationMs: 30_000, renewDeadlineMs: 20_000, retryPeriodMs: 4_000 });
    expect(config([...BASE, '--leader-elect', 'false']).leaderElection.enabled).toBe(false);
  });

  it.each([
    [['--leader-elect', 'yes'], /--leader-elect \(NPL_LEADER_ELECT\) "yes": expected true or false/],
    [['--leader-election-id', 'Bad_Name'], /--leader-election-id \(NPL_LEADER_ELECTION_ID\) "Bad_Name": expected a Lease name/],
    [['--leader-election-namespace', 'a.b'], /--leader-election-namespace \(NPL_LEADER_ELECTION_NAMESPACE\) "a.b": expected a namespace name/],
    [['--leader-election-lease-duration', '1500ms'], /--leader-election-lease-duration \(NPL_LEADER_ELECTION_LEASE_DURATION\) "1500ms": expected a whole number of seconds/],
    [['--leader-election-renew-deadline', '15s'], /--leader-election-renew-deadline \(NPL_LEADER_ELECTION_RENEW_DEADLINE\) "15s": expected less than --leader-election-lease-duration/],
    [['--leader-election-retry-period', '9s'], /--leader-election-renew-deadline \(NPL_LEADER_ELECTION_RENEW_DEADLINE\) "10s": expected more than 1.2 x --leader-election-retry-period/],
    [['--leader-election-retry-period', '0'], /--leader-election-retry-period \(NPL_LEADER_ELECTION_RETRY_PERIOD\) "0": expected a duration > 0/],
  ])('leader election flags %j are refused with a message naming the flag', (extra, message) => {
    expect(() => config([...BASE, ...extra])).toThrow(message);
  });
});
