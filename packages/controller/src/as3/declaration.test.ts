import { describe, expect, it } from '@jest/globals';
import { as3SchemaErrors } from '@npl/bigip-emulator';
import type { DesiredState } from '../model.js';
import { buildTenant, declarationFor } from './declaration.js';

const service = { namespace: 'prod', name: 'web' };

const state: DesiredState = {
  partition: 'k8s',
  ignored: [],
  pools: [
    {
      name: 'web_80_prod', service, servicePort: 80, protocol: 'tcp', families: ['IPv4', 'IPv6'], monitor: '/Common/http', loadBalancingMode: 'least-connections-member',
      members: [{ address: '192.0.2.10', port: 61001, enabled: true }, { address: '2001:db8::a', port: 61002, enabled: false }],
      virtual: { name: 'crd_192_0_2_50_80', address: '192.0.2.50', port: 80, protocol: 'tcp' },
    },
    { name: 'dns_53_prod', service: { namespace: 'prod', name: 'dns' }, servicePort: 53, protocol: 'udp', families: ['IPv4'], members: [], virtual: { name: 'crd_2001_db8__53_53', address: '2001:db8::53', port: 53, protocol: 'udp' } },
  ],
};

describe('AS3 declaration', () => {
  it('is valid against F5 AS3 schema 3.56.0-10 (pools, drained members, monitors, TCP and UDP virtuals)', () => {
    expect(as3SchemaErrors(declarationFor(state, { userAgent: 'npl-controller/0.1.0' }))).toEqual([]);
  });

  it('an empty desired state is a valid declaration with an empty Shared application', () => {
    const empty = declarationFor({ partition: 'k8s', pools: [], ignored: [] });
    expect(as3SchemaErrors(empty)).toEqual([]);
    expect(buildTenant({ partition: 'k8s', pools: [], ignored: [] })).toEqual({ class: 'Tenant', Shared: { class: 'Application', template: 'shared' } });
  });

  it('lays out members as CIS does: static, one address, shareNodes; drained members adminState disable', () => {
    const tenant = buildTenant(state) as { Shared: Record<string, { members?: unknown[] }> };
    expect(tenant.Shared.web_80_prod?.members).toEqual([
      { addressDiscovery: 'static', serverAddresses: ['192.0.2.10'], servicePort: 61001, shareNodes: true },
      { addressDiscovery: 'static', serverAddresses: ['2001:db8::a'], servicePort: 61002, shareNodes: true, adminState: 'disable' },
    ]);
  });

  it('the same desired state gives byte-identical JSON', () => {
    expect(JSON.stringify(declarationFor(state))).toBe(JSON.stringify(declarationFor(structuredClone(state))));
  });

  it('the validator is real: a member without servicePort is refused', () => {
    const bad = declarationFor(state) as { declaration: { k8s: { Shared: { web_80_prod: { members: Record<string, unknown>[] } } } } };
    delete bad.declaration.k8s.Shared.web_80_prod.members[0]?.servicePort;
    expect(as3SchemaErrors(bad)).toEqual(["/k8s/Shared/web_80_prod/members/0: should have required property 'servicePort'"]);
  });
});
