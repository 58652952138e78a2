import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { as3SchemaErrors } from '@npl/bigip-emulator';
import { isControllerError } from './errors.js';
import { parseRenderArgs } from './render-args.js';
import { readObjects, render } from './render.js';

const WEB = { name: 'web.yaml', text: readFileSync(new URL('./testdata/web.yaml', import.meta.url), 'utf8') };

describe('render', () => {
  it('prints pools and members from YAML without contacting anything', () => {
    expect(render(readObjects([WEB]), { backend: 'icontrol', partition: 'k8s' })).toBe(
      'pool /k8s/my_app_8080_prod prod/my-app:8080/tcp monitor=/Common/http\n  member 192.0.2.10 61001\n  member 192.0.2.11 61002 disabled\n',
    );
  });

  it('prints a schema-valid AS3 declaration', () => {
    const out = JSON.parse(render(readObjects([WEB]), { backend: 'as3', partition: 'tenant1' })) as { declaration: Record<string, unknown> };
    expect(as3SchemaErrors(out)).toEqual([]);
    expect(Object.keys(out.declaration)).toContain('tenant1');
  });

  it('reads JSON Lists too and skips other kinds', () => {
    const list = { name: 'list.json', text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', annotations: { 'nodeportlocal.antrea.io/enabled': 'true' } }, spec: { selector: { app: 'a' }, ports: [{ port: 80 }] } }] }) };
    expect(render(readObjects([list]), { backend: 'icontrol', partition: 'k8s' })).toBe('pool /k8s/a_80_default default/a:80/tcp\n');
  });

  it('names the file that is not YAML', () => {
    try {
      readObjects([{ name: 'bad.yaml', text: 'a: [' }]);
      throw new Error('no error');
    } catch (err) {
      expect(isControllerError(err, 'CTL_RENDER_INPUT_INVALID') && err.message).toMatch(/^bad\.yaml: not YAML or JSON/);
    }
  });

  it('arguments: files required, backend and partition checked', () => {
    expect(parseRenderArgs(['-f', 'a.yaml', '-f', 'b.json', '--backend', 'as3'], {})).toEqual({ help: false, files: ['a.yaml', 'b.json'], options: { backend: 'as3', partition: 'k8s' } });
    expect(() => parseRenderArgs([], {})).toThrow(/at least one -f FILE/);
    expect(() => parseRenderArgs(['-f', 'x', '--backend', 'bigip'], {})).toThrow(/expected icontrol or as3/);
  });
});
