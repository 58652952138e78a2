import { describe, expect, it } from '@jest/globals';
import { contentTag, forbiddenPackages, parseImageRefs, virtualStorePackages } from './images.js';

const ID = `sha256:${'0123456789ab'}${'c'.repeat(52)}`;

describe('parseImageRefs', () => {
  it('reads the three KEY=repository:tag lines and ignores the rest', () => {
    const out = '[images] done\nNPL_IMAGE_AGENT=npl-agent:0123456789ab\nNPL_IMAGE_CONTROLLER=npl-controller:aaaaaaaaaaaa\nNPL_IMAGE_EMULATOR=npl-bigip-emulator:bbbbbbbbbbbb\n';
    expect(parseImageRefs(out)).toEqual({ agent: 'npl-agent:0123456789ab', controller: 'npl-controller:aaaaaaaaaaaa', emulator: 'npl-bigip-emulator:bbbbbbbbbbbb' });
  });

  it('names the missing key', () => {
    expect(() => parseImageRefs('NPL_IMAGE_AGENT=npl-agent:0123456789ab\n')).toThrow('images.sh printed no NPL_IMAGE_CONTROLLER= line');
  });

  it('refuses a tag that is not content-addressed or a wrong repository', () => {
    const lines = (agent: string) => `NPL_IMAGE_AGENT=${agent}\nNPL_IMAGE_CONTROLLER=npl-controller:aaaaaaaaaaaa\nNPL_IMAGE_EMULATOR=npl-bigip-emulator:bbbbbbbbbbbb`;
    expect(() => parseImageRefs(lines('npl-agent:latest'))).toThrow('expected npl-agent:<first 12 hex digits of the image ID>');
    expect(() => parseImageRefs(lines('other:0123456789ab'))).toThrow('NPL_IMAGE_AGENT=other:0123456789ab');
  });
});

describe('contentTag', () => {
  it('is the first 12 hex digits of the image ID', () => {
    expect(contentTag(ID)).toBe('0123456789ab');
  });

  it('refuses what is not an image ID', () => {
    expect(() => contentTag('0123456789ab')).toThrow('not an image ID: "0123456789ab"');
  });
});

describe('forbiddenPackages', () => {
  it('is the devDependencies of the root and the package, without @types/*', () => {
    const root = JSON.stringify({ devDependencies: { jest: '30', '@types/node': '24', typescript: '5' } });
    const pkg = JSON.stringify({ dependencies: { pino: '10' }, devDependencies: { '@npl/testkit': 'workspace:*' } });
    expect(forbiddenPackages(root, pkg)).toEqual(['@npl/testkit', 'jest', 'typescript']);
  });

  it('is empty when nothing is a devDependency', () => {
    expect(forbiddenPackages('{}', '{"dependencies":{"pino":"10"}}')).toEqual([]);
  });
});

describe('virtualStorePackages', () => {
  it('names the packages of a pnpm virtual store listing, scoped or not, workspace ones too', () => {
    expect(virtualStorePackages(['@kubernetes+client-node@2.0.1_bare-buffer@3.7.3', 'ajv-formats@3.0.1_ajv@8.20.0', 'ajv@8.20.0', '@npl+core@file++++src+packages+core', 'node_modules', 'lock.yaml']))
      .toEqual(['@kubernetes/client-node', '@npl/core', 'ajv', 'ajv-formats']);
  });
});
