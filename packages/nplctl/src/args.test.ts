import { describe, expect, it } from '@jest/globals';
import { DEFAULT_AGENT_PORT, parseCommand, UsageError } from './args.js';

describe('parseCommand', () => {
  it.each([
    [[], { kind: 'help' }],
    [['--help'], { kind: 'help' }],
    [['help'], { kind: 'help' }],
    [['list'], { kind: 'list', output: 'table' }],
    [['list', '--node', 'node-1', '-o', 'json', '--kubeconfig', '/k', '--context', 'c'], { kind: 'list', output: 'json', node: 'node-1', kubeconfig: '/k', context: 'c' }],
    [['list', '--service', 'default/web'], { kind: 'list', output: 'table', service: { namespace: 'default', name: 'web' } }],
    [['list', '-n', 'apps'], { kind: 'list', output: 'table', namespace: 'apps' }],
    [['check', 'default/web-0'], { kind: 'check', namespace: 'default', name: 'web-0', agentPort: DEFAULT_AGENT_PORT, connect: false, timeoutMs: 5000 }],
    [['check', 'default/web-0', '--agent-port', '10400', '--connect', '--timeout', '1.5'], { kind: 'check', namespace: 'default', name: 'web-0', agentPort: 10400, connect: true, timeoutMs: 1500 }],
  ])('%j', (argv, want) => {
    expect(parseCommand(argv)).toEqual(want);
  });

  it('the default agent port is the chart\'s agent.healthPort', () => {
    expect(DEFAULT_AGENT_PORT).toBe(10361);
  });

  it.each([
    [['frob'], 'unknown command "frob": expected list or check (nplctl --help)'],
    [['list', '--bogus'], "Unknown option '--bogus'"],
    [['list', 'extra'], 'list takes no arguments, got "extra"'],
    [['list', '--service', 'web'], '--service "web": expected namespace/name, e.g. default/web'],
    [['list', '--service', 'a/b', '-n', 'a'], '--service and --namespace exclude each other (the Service names its namespace)'],
    [['list', '-o', 'yaml'], '--output "yaml": expected table or json'],
    [['list', '--connect'], 'list does not take --connect'],
    [['check'], 'check takes one Pod as namespace/name, got 0 arguments'],
    [['check', 'web-0'], 'Pod "web-0": expected namespace/name, e.g. default/web'],
    [['check', 'a/b', '--agent-port', '0'], '--agent-port "0": expected a port of 1-65535'],
    [['check', 'a/b', '--agent-port', 'x'], '--agent-port "x": expected a port of 1-65535'],
    [['check', 'a/b', '--timeout', '0'], '--timeout "0": expected seconds, more than 0 and at most 600'],
    [['check', 'a/b', '--node', 'n'], 'check does not take --node'],
  ])('%j is a usage error: %s', (argv, message) => {
    const err = (() => {
      try {
        parseCommand(argv);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(message);
  });
});
