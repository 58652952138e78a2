import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expectedShebang, missingNodeEnv, missingNodeFlags, NODE_ENV, NODE_FLAGS } from './node-flags.js';

describe('node flags', () => {
  it('are the ones the cli declares in its shebang, with the environment', () => {
    const first = readFileSync(path.join(import.meta.dirname, 'cli.ts'), 'utf8').split('\n', 1)[0];
    expect(expectedShebang()).toBe('#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=1 --optimize-for-size');
    expect(first).toBe(expectedShebang());
  });

  it('names the environment variables a process started without, and accepts an operator\'s own value', () => {
    expect(missingNodeEnv({})).toEqual(Object.keys(NODE_ENV));
    expect(missingNodeEnv({ MALLOC_ARENA_MAX: '2' })).toEqual([]);
    expect(missingNodeEnv({ MALLOC_ARENA_MAX: '4' })).toEqual([]);
  });

  it('names the flags a process started without', () => {
    expect(missingNodeFlags([...NODE_FLAGS, '--enable-source-maps'])).toEqual([]);
    expect(missingNodeFlags([])).toEqual([...NODE_FLAGS]);
    expect(missingNodeFlags([NODE_FLAGS[0]!])).toEqual(NODE_FLAGS.slice(1));
  });
});
