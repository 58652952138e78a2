/**
 * Validation against F5's real AS3 schema (schema/as3-schema-3.56.0-10.json, Apache-2.0), so the
 * emulator's 422 `declaration is invalid` answers are BIG-IP's. F5's own keyword `f5PostProcess`
 * is ignored; its formats are checked as AS3 defines them where the emulator can (`f5ip`), and
 * accepted otherwise.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { isF5Ip } from './validate.js';

export const AS3_SCHEMA_FILE = fileURLToPath(new URL('../../schema/as3-schema-3.56.0-10.json', import.meta.url));

const SCHEMA_ID = 'urn:uuid:85626792-9ee7-46bb-8fc8-4ba708cfdc1d';

let ajv: Ajv | undefined;

function compiler(): Ajv {
  if (ajv) return ajv;
  const created = new Ajv({ strict: false, allErrors: false, validateSchema: false, useDefaults: false });
  const addFormats = addFormatsModule as unknown as (a: Ajv) => Ajv;
  addFormats(created);
  created.addKeyword({ keyword: 'f5PostProcess', schemaType: 'object' });
  created.addFormat('f5ip', { type: 'string', validate: (text: string) => text === '' || isF5Ip(text) });
  for (const name of ['f5bigip', 'f5pointer']) created.addFormat(name, true);
  created.addSchema(JSON.parse(readFileSync(AS3_SCHEMA_FILE, 'utf8')) as object);
  ajv = created;
  return created;
}

function definition(name: string): ValidateFunction {
  const fn = compiler().getSchema(`${SCHEMA_ID}#/definitions/${name}`);
  if (!fn) throw new Error(`AS3 schema has no definition ${name}`);
  return fn;
}

/** Errors that only say a branch failed; the specific ones next to them are what AS3 reports. */
const COMPOSITE = new Set(['if', 'oneOf', 'anyOf']);

/**
 * The schema's complaints as AS3 words them (`<pointer>: <message>`, pointers inside the ADC
 * declaration, ajv 6's "should" wording), empty when valid. An AS3 request is checked against the
 * AS3 request definition, anything else against ADC.
 */
export function as3SchemaErrors(body: unknown): string[] {
  const isRequest = typeof body === 'object' && body !== null && (body as { class?: unknown }).class === 'AS3';
  const validate = definition(isRequest ? 'AS3' : 'ADC');
  if (validate(structuredClone(body))) return [];
  const errors = validate.errors ?? [];
  const specific = errors.filter((e) => !COMPOSITE.has(e.keyword));
  return [...new Set((specific.length > 0 ? specific : errors).map((e) => {
    const pointer = isRequest ? e.instancePath.replace(/^\/declaration/, '') : e.instancePath;
    return `${pointer === '' ? '/' : pointer}: ${(e.message ?? 'is invalid').replace(/^must /, 'should ')}`;
  }))];
}
