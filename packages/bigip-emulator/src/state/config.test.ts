import { describe, expect, it } from '@jest/globals';
import { F5RestError } from '../errors.js';
import { LtmConfig } from './config.js';

function configWithPool(): LtmConfig {
  const config = new LtmConfig();
  config.createPartition({ name: 'k8s' });
  config.createPool({ partition: 'k8s', name: 'web_pool', members: [{ name: '10.244.0.3:61001' }, { name: '10.244.1.7:61002' }] });
  return config;
}

function refusal(fn: () => unknown): F5RestError {
  try {
    fn();
  } catch (err) {
    if (err instanceof F5RestError) return err;
    throw err;
  }
  throw new Error('expected an F5RestError');
}

describe('LtmConfig', () => {
  it('auto-creates the nodes of new members in the member partition', () => {
    expect(configWithPool().dump()).toBe([
      'partition /Common',
      'partition /k8s',
      'pool /k8s/web_pool lb=round-robin',
      '  member /k8s/10.244.0.3:61001 user-enabled user-up',
      '  member /k8s/10.244.1.7:61002 user-enabled user-up',
      'node /k8s/10.244.0.3 address=10.244.0.3 user-enabled user-up',
      'node /k8s/10.244.1.7 address=10.244.1.7 user-enabled user-up',
    ].join('\n'));
  });

  it('applies nothing of a pool create whose third member is invalid', () => {
    const config = configWithPool();
    const before = config.dump();
    const err = refusal(() => config.createPool({ partition: 'k8s', name: 'p2', members: [{ name: '10.0.0.1:80' }, { name: '10.0.0.2:80' }, { name: 'not a member' }] }));
    expect(err.status).toBe(400);
    expect(config.dump()).toBe(before);
  });

  it('replaces the whole member set and keeps the nodes of removed members', () => {
    const config = configWithPool();
    config.modifyPool({ partition: 'k8s', name: 'web_pool' }, { members: [{ name: '10.244.1.7:61002' }, { name: '10.244.2.5:61003' }] });
    const dump = config.dump();
    expect(dump).toContain('  member /k8s/10.244.2.5:61003');
    expect(dump).not.toContain('member /k8s/10.244.0.3:61001');
    expect(dump).toContain('node /k8s/10.244.0.3 ');
  });

  it('refuses the same node address in two partitions, as BIG-IP does without shareNodes', () => {
    const config = configWithPool();
    config.createPartition({ name: 'other' });
    const err = refusal(() => config.createNode({ partition: 'other', name: '10.244.0.3', address: '10.244.0.3' }));
    expect(err.message).toBe('01070734:3: Configuration error: Invalid Node, the IP address 10.244.0.3 already exists.');
  });

  it('puts the configuration back when a mutation throws half-way', () => {
    const config = configWithPool();
    const before = config.dump();
    expect(() => config.mutate(() => {
      config.deleteMember({ partition: 'k8s', name: 'web_pool' }, '10.244.0.3:61001');
      config.deleteNode({ partition: 'k8s', name: '10.244.9.9' });
    })).toThrow(F5RestError);
    expect(config.dump()).toBe(before);
  });

  it('tells listeners once per successful outermost change', () => {
    const config = configWithPool();
    let calls = 0;
    config.onChange(() => { calls += 1; });
    config.mutate(() => {
      config.modifyPool({ partition: 'k8s', name: 'web_pool' }, { loadBalancingMode: 'least-connections-member' });
      config.modifyPool({ partition: 'k8s', name: 'web_pool' }, { slowRampTime: 5 });
    });
    expect(calls).toBe(1);
  });
});
