/**
 * scripts/docker.sh's OCI runtime wrapper, run with a recording `runc` first on PATH: it must drop
 * CAP_SYS_RESOURCE from every capability set of a bundle's config.json (create, run) and of an
 * exec's --process file, keep every other capability and field, and pass runc its arguments
 * unchanged. The engine-level proof (a --privileged container and `docker exec --privileged`
 * running) is in the image and kind tests, which need this wrapper to start at all.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../scripts/docker.sh', import.meta.url));
const CAPS = ['CAP_CHOWN', 'CAP_NET_ADMIN', 'CAP_SYS_RESOURCE', 'CAP_SYS_ADMIN'];
const CAP_SETS = { bounding: CAPS, effective: CAPS, permitted: CAPS, inheritable: ['CAP_SYS_RESOURCE'], ambient: [] };

let dir = '';
let wrapper = '';

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'npl-docker-wrapper-'));
  wrapper = path.join(dir, 'npl-runc');
  const r = spawnSync('bash', ['-c', `source "${SCRIPT}" && npl_docker_write_wrapper "${wrapper}"`], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  // The recording runc: writes its arguments, one per line.
  mkdirSync(path.join(dir, 'bin'));
  writeFileSync(path.join(dir, 'bin', 'runc'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/runc-args"\n`);
  chmodSync(path.join(dir, 'bin', 'runc'), 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): string[] {
  const r = spawnSync(wrapper, args, { encoding: 'utf8', env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH ?? ''}` } });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return readFileSync(path.join(dir, 'runc-args'), 'utf8').trimEnd().split('\n');
}

const WITHOUT = ['CAP_CHOWN', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN'];

describe('npl-runc (scripts/docker.sh)', () => {
  it.each([
    ['create --bundle DIR', (b: string) => ['--root', '/run/x', 'create', '--bundle', b, 'ctr1']],
    ['create -b DIR', (b: string) => ['create', '-b', b, 'ctr1']],
    ['run --bundle=DIR', (b: string) => ['run', `--bundle=${b}`, 'ctr1']],
  ])('%s: drops CAP_SYS_RESOURCE from every set of config.json, keeps the rest', (_name, argsOf) => {
    const bundle = mkdtempSync(path.join(dir, 'bundle-'));
    const config = { ociVersion: '1.0.2', process: { args: ['sh'], capabilities: CAP_SETS }, hostname: 'x' };
    writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));
    const args = argsOf(bundle);
    expect(run(args)).toEqual(args);
    const after = JSON.parse(readFileSync(path.join(bundle, 'config.json'), 'utf8')) as typeof config;
    expect(after).toEqual({ ...config, process: { args: ['sh'], capabilities: { bounding: WITHOUT, effective: WITHOUT, permitted: WITHOUT, inheritable: [], ambient: [] } } });
  });

  it('exec --process FILE: drops it from the process file', () => {
    const file = path.join(dir, 'process.json');
    writeFileSync(file, JSON.stringify({ args: ['sh'], capabilities: CAP_SETS }));
    const args = ['exec', '--process', file, '--detach', 'ctr1'];
    expect(run(args)).toEqual(args);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ args: ['sh'], capabilities: { bounding: WITHOUT, effective: WITHOUT, permitted: WITHOUT, inheritable: [], ambient: [] } });
  });

  it('leaves a config without capabilities alone and passes other commands through', () => {
    const bundle = mkdtempSync(path.join(dir, 'bundle-'));
    const config = JSON.stringify({ ociVersion: '1.0.2', process: { args: ['true'] } });
    writeFileSync(path.join(bundle, 'config.json'), config);
    expect(run(['create', '--bundle', bundle, 'c2'])).toEqual(['create', '--bundle', bundle, 'c2']);
    expect(JSON.parse(readFileSync(path.join(bundle, 'config.json'), 'utf8'))).toEqual(JSON.parse(config));
    expect(run(['delete', '--force', 'c2'])).toEqual(['delete', '--force', 'c2']);
  });
});
