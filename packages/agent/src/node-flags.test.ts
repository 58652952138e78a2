import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { missingNodeFlags, NODE_FLAGS } from './node-flags.js';

describe('node flags', () => {
  it('are the ones the cli declares in its shebang', () => {
    const first = readFileSync(path.join(import.meta.dirname, 'cli.ts'), 'utf8').split('\n', 1)[0];
    expect(first).toBe(`#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
  });

  it('names the flags a process started without', () => {
    expect(missingNodeFlags([...NODE_FLAGS, '--enable-source-maps'])).toEqual([]);
    expect(missingNodeFlags([])).toEqual([...NODE_FLAGS]);
    expect(missingNodeFlags([NODE_FLAGS[0]!])).toEqual(NODE_FLAGS.slice(1));
  });
});
