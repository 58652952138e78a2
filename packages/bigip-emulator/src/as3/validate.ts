import { isIPv4, isIPv6 } from 'node:net';
import {
  ADC_PROPERTIES, APPLICATION_CLASSES, APPLICATION_PROPERTIES, AS3_NAME, AS3_SCHEMA_VERSION, LOAD_BALANCING_MODES,
  MEMBER_PROPERTIES, POOL_PROPERTIES, SERVICE_CLASSES, TENANT_PROPERTIES,
} from './classes.js';

export type Json = Record<string, unknown>;
export type As3Action = 'deploy' | 'dry-run' | 'remove' | 'retrieve';

export interface As3Request {
  action: As3Action;
  /** The ADC declaration (the `declaration` of an AS3 request, or the bare ADC body). */
  adc: Json;
  /** Tenant names in declaration order. */
  tenants: string[];
  dryRun: boolean;
}

export type ValidationResult = { ok: true; request: As3Request } | { ok: false; errors: string[] };

const ACTIONS: As3Action[] = ['deploy', 'dry-run', 'remove', 'retrieve'];

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An AS3 `f5ip`: IPv4 or IPv6, optional `%RD`, optional `/prefix`. */
export function isF5Ip(text: unknown): text is string {
  if (typeof text !== 'string') return false;
  const [withRd, prefix, ...more] = text.split('/');
  if (withRd === undefined || more.length > 0 || (prefix !== undefined && !/^\d{1,3}$/.test(prefix))) return false;
  const [ip, rd, ...rest] = withRd.split('%');
  if (ip === undefined || rest.length > 0 || (rd !== undefined && !/^\d{1,5}$/.test(rd))) return false;
  return isIPv4(ip) || isIPv6(ip);
}

function isInt(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** Collects schema errors as AS3 words them: `<pointer>: <message>`. */
class Errors {
  readonly list: string[] = [];
  add(pointer: string, message: string): void {
    this.list.push(`${pointer}: ${message}`);
  }
  unknownProps(pointer: string, obj: Json, allowed: Set<string>): void {
    for (const key of Object.keys(obj)) if (!allowed.has(key)) this.add(pointer, `should NOT have additional property '${key}'`);
  }
}

/** Validates an AS3 request body against the subset of the 3.56 schema the emulator models. */
export function validateDeclaration(body: unknown): ValidationResult {
  const errors = new Errors();
  if (!isObject(body)) return { ok: false, errors: ['/: should be object'] };
  let adc: unknown = body;
  let action: As3Action = 'deploy';
  if (body.class === 'AS3') {
    adc = body.declaration;
    if (body.action !== undefined) {
      if (!ACTIONS.includes(body.action as As3Action)) errors.add('/action', `should be equal to one of the allowed values ${JSON.stringify(ACTIONS)}`);
      else action = body.action as As3Action;
    }
  } else if (body.class !== 'ADC') {
    errors.add('/class', 'should be equal to one of the allowed values ["AS3","ADC"]');
  }
  if (action === 'retrieve') return { ok: true, request: { action, adc: {}, tenants: [], dryRun: false } };
  if (!isObject(adc)) errors.add('/declaration', 'should be object');
  if (errors.list.length > 0 || !isObject(adc)) return { ok: false, errors: errors.list };
  const tenants = validateAdc(adc, errors);
  if (errors.list.length > 0) return { ok: false, errors: errors.list };
  const dryRun = action === 'dry-run' || (isObject(adc.controls) && adc.controls.dryRun === true);
  return { ok: true, request: { action, adc, tenants, dryRun } };
}

function validateAdc(adc: Json, errors: Errors): string[] {
  if (adc.class !== 'ADC') errors.add('/class', 'should be equal to constant "ADC"');
  if (adc.schemaVersion === undefined) errors.add('', "should have required property 'schemaVersion'");
  else if (typeof adc.schemaVersion !== 'string' || !AS3_SCHEMA_VERSION.test(adc.schemaVersion)) {
    errors.add('/schemaVersion', `should match pattern "${AS3_SCHEMA_VERSION.source}"`);
  }
  if (adc.updateMode !== undefined && adc.updateMode !== 'selective' && adc.updateMode !== 'complete') {
    errors.add('/updateMode', 'should be equal to one of the allowed values ["selective","complete"]');
  }
  const tenants: string[] = [];
  for (const [key, value] of Object.entries(adc)) {
    if (ADC_PROPERTIES.has(key)) continue;
    if (!AS3_NAME.test(key) && key !== 'Common') {
      errors.add(`/${key}`, 'should match an AS3 name (letter first; letters, digits, "_", "." and "-")');
      continue;
    }
    if (!isObject(value) || value.class !== 'Tenant') {
      errors.add(`/${key}`, 'should be a Tenant (an object with "class": "Tenant")');
      continue;
    }
    validateTenant(key, value, errors);
    tenants.push(key);
  }
  return tenants;
}

function validateTenant(name: string, tenant: Json, errors: Errors): void {
  if (tenant.defaultRouteDomain !== undefined && !isInt(tenant.defaultRouteDomain, 0, 65534)) {
    errors.add(`/${name}/defaultRouteDomain`, 'should be integer from 0 to 65534');
  }
  for (const [key, value] of Object.entries(tenant)) {
    if (TENANT_PROPERTIES.has(key)) continue;
    const pointer = `/${name}/${key}`;
    if (!AS3_NAME.test(key)) errors.add(pointer, 'should match an AS3 name');
    else if (!isObject(value) || value.class !== 'Application') errors.add(pointer, 'should be an Application (an object with "class": "Application")');
    else validateApplication(pointer, value, errors);
  }
}

function validateApplication(pointer: string, app: Json, errors: Errors): void {
  for (const [key, value] of Object.entries(app)) {
    if (APPLICATION_PROPERTIES.has(key)) continue;
    const itemPointer = `${pointer}/${key}`;
    if (!AS3_NAME.test(key)) {
      errors.add(itemPointer, 'should match an AS3 name');
      continue;
    }
    if (!isObject(value) || typeof value.class !== 'string') {
      errors.add(itemPointer, "should have required property 'class'");
      continue;
    }
    if (!APPLICATION_CLASSES.has(value.class)) errors.add(`${itemPointer}/class`, `"${value.class}" is not an AS3 class`);
    else if (value.class === 'Pool') validatePool(itemPointer, value, app, errors);
    else if (value.class in SERVICE_CLASSES) validateService(itemPointer, value, app, errors);
    else if (value.class === 'Monitor' && typeof value.monitorType !== 'string') errors.add(itemPointer, "should have required property 'monitorType'");
  }
}

function validatePool(pointer: string, pool: Json, app: Json, errors: Errors): void {
  errors.unknownProps(pointer, pool, POOL_PROPERTIES);
  if (pool.loadBalancingMode !== undefined && !LOAD_BALANCING_MODES.includes(pool.loadBalancingMode as string)) {
    errors.add(`${pointer}/loadBalancingMode`, 'should be equal to one of the allowed values');
  }
  if (pool.minimumMonitors !== undefined && pool.minimumMonitors !== 'all' && !isInt(pool.minimumMonitors, 1, 63)) {
    errors.add(`${pointer}/minimumMonitors`, 'should be integer from 1 to 63 or "all"');
  }
  if (pool.monitors !== undefined) validateMonitorRefs(`${pointer}/monitors`, pool.monitors, app, errors);
  if (pool.members === undefined) return;
  if (!Array.isArray(pool.members)) {
    errors.add(`${pointer}/members`, 'should be array');
    return;
  }
  pool.members.forEach((m, i) => validateMember(`${pointer}/members/${i}`, m, errors));
}

function validateMonitorRefs(pointer: string, monitors: unknown, app: Json, errors: Errors): void {
  if (!Array.isArray(monitors)) {
    errors.add(pointer, 'should be array');
    return;
  }
  monitors.forEach((ref, i) => {
    if (typeof ref === 'string' || (isObject(ref) && typeof ref.bigip === 'string')) return;
    if (isObject(ref) && typeof ref.use === 'string') {
      const target = app[ref.use];
      if (!ref.use.startsWith('/') && !(isObject(target) && target.class === 'Monitor')) {
        errors.add(`${pointer}/${i}`, `contains path to non-existing object "${ref.use}"`);
      }
      return;
    }
    errors.add(`${pointer}/${i}`, 'should be a monitor name or an object with "use" or "bigip"');
  });
}

function validateMember(pointer: string, member: unknown, errors: Errors): void {
  if (!isObject(member)) {
    errors.add(pointer, 'should be object');
    return;
  }
  errors.unknownProps(pointer, member, MEMBER_PROPERTIES);
  if (member.servicePort === undefined) errors.add(pointer, "should have required property 'servicePort'");
  else if (!isInt(member.servicePort, 0, 65535)) errors.add(`${pointer}/servicePort`, 'should be integer from 0 to 65535');
  const discovery = member.addressDiscovery ?? 'static';
  if (discovery !== 'static') {
    errors.add(`${pointer}/addressDiscovery`, `${JSON.stringify(discovery)} is not supported by the emulator (only "static")`);
    return;
  }
  const addresses = member.serverAddresses ?? (Array.isArray(member.servers) ? member.servers.map((s: unknown) => (isObject(s) ? s.address : s)) : undefined);
  if (!Array.isArray(addresses)) errors.add(pointer, "should have required property 'serverAddresses'");
  else {
    addresses.forEach((a, i) => { if (!isF5Ip(a) || String(a).includes('/')) errors.add(`${pointer}/serverAddresses/${i}`, 'should match format "f5ip"'); });
    if (new Set(addresses).size !== addresses.length) errors.add(`${pointer}/serverAddresses`, 'should NOT have duplicate items');
  }
  if (member.adminState !== undefined && !['enable', 'disable', 'offline'].includes(member.adminState as string)) {
    errors.add(`${pointer}/adminState`, 'should be equal to one of the allowed values ["enable","disable","offline"]');
  }
  if (member.shareNodes !== undefined && typeof member.shareNodes !== 'boolean') errors.add(`${pointer}/shareNodes`, 'should be boolean');
  if (member.ratio !== undefined && !isInt(member.ratio, 0, 100)) errors.add(`${pointer}/ratio`, 'should be integer from 0 to 100');
}

function validateService(pointer: string, service: Json, app: Json, errors: Errors): void {
  const spec = SERVICE_CLASSES[service.class as string];
  if (service.virtualAddresses === undefined) errors.add(pointer, "should have required property 'virtualAddresses'");
  else if (!Array.isArray(service.virtualAddresses) || service.virtualAddresses.length === 0) errors.add(`${pointer}/virtualAddresses`, 'should be a non-empty array');
  else {
    service.virtualAddresses.forEach((a: unknown, i: number) => {
      const address: unknown = Array.isArray(a) ? (a as unknown[])[0] : a;
      if (!isF5Ip(address)) errors.add(`${pointer}/virtualAddresses/${i}`, 'should match format "f5ip" (references to Service_Address are not emulated)');
    });
  }
  if (service.virtualPort === undefined && spec?.defaultPort === undefined) errors.add(pointer, "should have required property 'virtualPort'");
  if (service.virtualPort !== undefined && !isInt(service.virtualPort, 0, 65535)) errors.add(`${pointer}/virtualPort`, 'should be integer from 0 to 65535');
  if (service.pool !== undefined) validatePoolRef(`${pointer}/pool`, service.pool, app, errors);
}

function validatePoolRef(pointer: string, ref: unknown, app: Json, errors: Errors): void {
  const name = isObject(ref) ? ref.use : ref;
  if (isObject(ref) && typeof ref.bigip === 'string') return;
  if (typeof name !== 'string') {
    errors.add(pointer, 'should be a pool name or an object with "use" or "bigip"');
    return;
  }
  const target = app[name];
  if (!name.startsWith('/') && !(isObject(target) && target.class === 'Pool')) {
    errors.add(pointer, `contains path to non-existing object "${name}"`);
  }
}
