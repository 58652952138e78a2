import { describe, expect, it } from '@jest/globals';
import { shebangEnv, shebangNodeArgs } from './agent-process.js';

const SHIPPED = '#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=1 --optimize-for-size';

describe('shebangNodeArgs', () => {
  it('reads the node flags of env -S and of a direct node interpreter', () => {
    expect(shebangNodeArgs('#!/usr/bin/env -S node --max-semi-space-size=1 --optimize-for-size')).toEqual(['--max-semi-space-size=1', '--optimize-for-size']);
    expect(shebangNodeArgs('#!/usr/local/bin/node --a')).toEqual(['--a']);
  });

  it('reads them after environment assignments', () => {
    expect(shebangNodeArgs(SHIPPED)).toEqual(['--max-semi-space-size=1', '--optimize-for-size']);
    expect(shebangNodeArgs('#!/usr/bin/env -S A=1 B= node --a')).toEqual(['--a']);
  });

  it('gives no flags for a plain node shebang, another interpreter or no shebang', () => {
    expect(shebangNodeArgs('#!/usr/bin/env node')).toEqual([]);
    expect(shebangNodeArgs('#!/bin/sh -e')).toEqual([]);
    expect(shebangNodeArgs('#!/usr/bin/env -S python3 -u')).toEqual([]);
    expect(shebangNodeArgs('#!/usr/bin/env -S A=1 python3 -u')).toEqual([]);
    expect(shebangNodeArgs('/**')).toEqual([]);
    expect(shebangNodeArgs('')).toEqual([]);
  });
});

describe('shebangEnv', () => {
  it('reads the assignments env makes before node', () => {
    expect(shebangEnv(SHIPPED)).toEqual({ MALLOC_ARENA_MAX: '2' });
    expect(shebangEnv('#!/usr/bin/env -S A=1 B=x=y node')).toEqual({ A: '1', B: 'x=y' });
  });

  it('gives none without assignments, for another interpreter or without a shebang', () => {
    expect(shebangEnv('#!/usr/bin/env -S node --a')).toEqual({});
    expect(shebangEnv('#!/usr/bin/env -S A=1 python3')).toEqual({});
    expect(shebangEnv('#!/usr/local/bin/node')).toEqual({});
    expect(shebangEnv('')).toEqual({});
  });
});
