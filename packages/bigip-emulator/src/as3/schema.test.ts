import { describe, expect, it } from '@jest/globals';
import { as3SchemaErrors } from './schema.js';

const pool = { class: 'Pool', members: [{ servicePort: 61001, serverAddresses: ['192.0.2.10'], shareNodes: true }] };

function adc(app: Record<string, unknown>): Record<string, unknown> {
  return { class: 'AS3', declaration: { class: 'ADC', schemaVersion: '3.56.0', k8s: { class: 'Tenant', Shared: { class: 'Application', template: 'shared', ...app } } } };
}

describe('AS3 schema validation (F5 schema 3.56.0-10)', () => {
  it('accepts a declaration with a static pool and a Service_HTTP', () => {
    expect(as3SchemaErrors(adc({ web_pool: pool, web_vs: { class: 'Service_HTTP', virtualAddresses: ['192.0.2.50'], pool: 'web_pool' } }))).toEqual([]);
  });

  it('rejects what BIG-IP rejects: bad member address, unknown property, bad schemaVersion', () => {
    expect(as3SchemaErrors(adc({ web_pool: { class: 'Pool', members: [{ servicePort: 80, serverAddresses: ['not-an-ip'] }] } })).length).toBeGreaterThan(0);
    expect(as3SchemaErrors(adc({ web_pool: { ...pool, colour: 'blue' } })).length).toBeGreaterThan(0);
    expect(as3SchemaErrors({ class: 'ADC', schemaVersion: '2.0.0' }).length).toBeGreaterThan(0);
  });
});
