import { describe, expect, it } from '@jest/globals';
import { shebangNodeArgs } from './agent-process.js';

describe('shebangNodeArgs', () => {
  it('reads the node flags of env -S and of a direct node interpreter', () => {
    expect(shebangNodeArgs('#!/usr/bin/env -S node --max-semi-space-size=1 --optimize-for-size')).toEqual(['--max-semi-space-size=1', '--optimize-for-size']);
    expect(shebangNodeArgs('#!/usr/local/bin/node --a')).toEqual(['--a']);
  });

  it('gives no flags for a plain node shebang, another interpreter or no shebang', () => {
    expect(shebangNodeArgs('#!/usr/bin/env node')).toEqual([]);
    expect(shebangNodeArgs('#!/bin/sh -e')).toEqual([]);
    expect(shebangNodeArgs('#!/usr/bin/env -S python3 -u')).toEqual([]);
    expect(shebangNodeArgs('/**')).toEqual([]);
    expect(shebangNodeArgs('')).toEqual([]);
  });
});
