/**
 * @npl/core must stay free of I/O (issue: "a test or lint rule proves it"). The lint rule catches it
 * while editing; this test keeps the guarantee even if the lint configuration changes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';

const FORBIDDEN = /^(node:)?(net|dgram|child_process|fs|fs\/promises|http|https|http2|os|dns|worker_threads|cluster|process)$|^(execa|fastify|pino)$/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return d.name === 'testing' ? [] : sources(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [p] : [];
  });
}

describe('@npl/core purity', () => {
  const files = sources(import.meta.dirname);

  it('has sources to check', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((f) => [path.basename(f), f]))('%s imports no I/O module and the Kubernetes client for types only', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    const offending: string[] = [];
    for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)) {
      const [, , typeOnly, spec] = m;
      if (FORBIDDEN.test(spec!)) offending.push(spec!);
      if (spec === '@kubernetes/client-node' && !typeOnly) offending.push(`${spec} (value import)`);
    }
    expect(offending).toEqual([]);
    expect(text).not.toMatch(/\b(setTimeout|setInterval|process\.|require\()/);
  });
});
