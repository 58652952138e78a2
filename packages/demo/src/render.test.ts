import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { liveDisplay, plainDisplay } from './display.js';
import { initialState, podView, recordRequest, withBigip, withDeployment, withPod, withScale, type DemoState } from './model.js';
import { changeKey, renderFrame, renderSnapshot, scaleText, type RenderContext } from './render.js';
import { parseSnapshots, scaleTimes } from './testing/snapshot.js';

const ctx: RenderContext = {
  elapsedMs: 12_345,
  cluster: 'demo',
  nodes: [{ name: 'node-0', ip: '198.18.1.10' }, { name: 'node-1', ip: '198.18.1.11' }],
  bigipUrl: 'https://198.18.1.1:443',
  logsDir: '/tmp/npl-clusters/demo/logs',
};

function mapped(name: string, node: string, nodeIP: string, nodePort: number) {
  return podView({
    metadata: { name, annotations: { 'nodeportlocal.antrea.io': JSON.stringify([{ podPort: 80, nodeIP, nodePort, protocol: 'tcp', ipFamily: 'IPv4' }]) } },
    spec: { nodeName: node, containers: [] },
    status: { phase: 'Running', podIP: `198.19.16.${nodePort - 60999}`, conditions: [{ type: 'Ready', status: 'True' }] },
  });
}

function state(): DemoState {
  let s = withDeployment(initialState('web', 'default', '198.18.1.1:8080', 80), { spec: { replicas: 2, selector: {}, template: {} } });
  s = withPod(s, mapped('web-1', 'node-0', '198.18.1.10', 61000));
  s = withPod(s, mapped('web-2', 'node-1', '198.18.1.11', 61000));
  s = withBigip(
    s,
    { fullPath: '/k8s/web_80_default', members: [{ name: '198.18.1.10:61000', session: 'user-enabled', state: 'unchecked' }, { name: '198.18.1.11:61000', session: 'user-enabled', state: 'unchecked' }] },
    { fullPath: '/k8s/crd_198_18_1_1_8080', destination: '198.18.1.1:8080', pool: '/k8s/web_80_default', enabled: true },
  );
  s = recordRequest(recordRequest(s, { at: 10_000, pod: 'web-1' }), { at: 10_200, pod: 'web-2' });
  return withScale(s, 2, 9_000);
}

// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '');

describe('renderSnapshot', () => {
  it('prints one timestamped fact per line', () => {
    expect(renderSnapshot(state(), ctx)).toBe(
      [
        '[  12.3s] --- t=12.3s complete ---',
        '[  12.3s] deployment web desired 2 live 2',
        '[  12.3s] pod web-1 node node-0 podIP 198.19.16.1 nodePort 198.18.1.10:61000->80/tcp ready answered 1',
        '[  12.3s] pod web-2 node node-1 podIP 198.19.16.1 nodePort 198.18.1.11:61000->80/tcp ready answered 1',
        '[  12.3s] pool /k8s/web_80_default members 2 matches-pods',
        '[  12.3s] member 198.18.1.10:61000 session user-enabled state unchecked pod web-1',
        '[  12.3s] member 198.18.1.11:61000 session user-enabled state unchecked pod web-2',
        '[  12.3s] virtual 198.18.1.1:8080 /k8s/crd_198_18_1_1_8080 pool /k8s/web_80_default enabled',
        '[  12.3s] requests ok 2 failed 0 by-pod web-1=1 web-2=1',
        '[  12.3s] scale to 2 at t=9.0s: pods with node ports after not yet, pool members after not yet, every pod answering after not yet',
        '',
      ].join('\n'),
    );
  });

  it('reads back through the test parser', () => {
    const [snap] = parseSnapshots(`noise\n${renderSnapshot(state(), ctx)}`);
    expect(snap).toMatchObject({
      t: 12.3, final: false, complete: true, desired: 2, live: 2, virtual: '198.18.1.1:8080',
      pool: { path: '/k8s/web_80_default', members: 2, matchesPods: true },
      requests: { ok: 2, failed: 0, byPod: { 'web-1': 1, 'web-2': 1 } },
    });
    expect(snap!.pods.map((p) => [p.name, p.nodePorts, p.status, p.answered])).toEqual([
      ['web-1', ['198.18.1.10:61000->80/tcp'], 'ready', 1],
      ['web-2', ['198.18.1.11:61000->80/tcp'], 'ready', 1],
    ]);
    expect(snap!.members.map((m) => m.pod)).toEqual(['web-1', 'web-2']);
  });

  it('says what is absent before the controller made the pool and the virtual server', () => {
    const text = renderSnapshot(initialState('web', 'default', '198.18.1.1:8080', 80), ctx);
    expect(text).toContain('pool /k8s/web_80_default absent');
    expect(text).toContain('virtual 198.18.1.1:8080 absent');
    expect(text).toContain('--- t=12.3s settling ---');
  });
});

describe('scaleText', () => {
  it('gives each time after the request, read back by scaleTimes', () => {
    const line = scaleText({ replicas: 3, requestedAt: 10_000, podsAt: 10_600, poolAt: 10_900, answeredAt: 11_400 });
    expect(line).toBe('scale to 3 at t=10.0s: pods with node ports after 0.6 s, pool members after 0.9 s, every pod answering after 1.4 s');
    expect(scaleTimes(line)).toEqual({ podsS: 0.6, poolS: 0.9, answeringS: 1.4 });
  });
});

describe('changeKey', () => {
  it('ignores request counters but not who answered recently', () => {
    const s = state();
    expect(changeKey(recordRequest(s, { at: 10_300, pod: 'web-1' }))).toBe(changeKey(s));
    expect(changeKey(recordRequest(s, { at: 10_300, pod: 'web-9' }))).not.toBe(changeKey(s));
    expect(changeKey(withPod(s, mapped('web-1', 'node-0', '198.18.1.10', 61002)))).not.toBe(changeKey(s));
  });
});

describe('renderFrame', () => {
  it('shows each pod with nodeIP:nodePort, the members with their state and pod, the virtual server and answers', () => {
    const text = plain(renderFrame(state(), ctx));
    expect(text).toMatch(/web-1\s+node-0\s+198\.19\.16\.1\s+198\.18\.1\.10:61000->80\/tcp\s+ready\s+1 \/ 1/);
    expect(text).toMatch(/198\.18\.1\.11:61000\s+user-enabled\s+unchecked\s+web-2/);
    expect(text).toContain('pool /k8s/web_80_default  2 member(s), matches the pods');
    expect(text).toContain('virtual server 198.18.1.1:8080 -> /k8s/web_80_default');
    expect(text).toContain('answers, newest last: 1 2');
    expect(text).toContain('keys: + scale up  - scale down  q quit');
  });

  it('says who is still missing while settling', () => {
    let s = withPod(initialState('web', 'default', '198.18.1.1:8080', 80), podView({ metadata: { name: 'web-1' }, status: { phase: 'Pending' } }));
    s = withDeployment(s, { spec: { replicas: 1, selector: {}, template: {} } });
    const text = plain(renderFrame(s, ctx));
    expect(text).toContain('waiting for npl-agent');
    expect(text).toContain('not on the BIG-IP yet (npl-controller creates it)');
    expect(text).toContain('settling');
  });
});

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe('displays', () => {
  it('plain: writes a snapshot only when the change key moved', () => {
    const out = new Sink();
    const d = plainDisplay(out);
    expect(d.offer(state(), ctx)).toBe(true);
    expect(d.offer(recordRequest(state(), { at: 10_300, pod: 'web-1' }), ctx)).toBe(false);
    expect(d.offer(withPod(state(), mapped('web-3', 'node-0', '198.18.1.10', 61001)), ctx)).toBe(true);
    expect(parseSnapshots(out.text)).toHaveLength(2);
  });

  it('live: at most one frame per interval, only when it differs, and gives the screen back once', () => {
    const out = new Sink();
    let now = 0;
    const d = liveDisplay(out, { minIntervalMs: 250, now: () => now });
    expect(d.offer(state(), ctx)).toBe(true);
    now = 100;
    expect(d.offer(state(), { ...ctx, elapsedMs: 20_000 })).toBe(false);
    now = 300;
    expect(d.offer(state(), ctx)).toBe(false);
    expect(d.offer(state(), { ...ctx, elapsedMs: 20_000 })).toBe(true);
    d.close();
    d.close();
    expect(out.text.startsWith('\x1b[?1049h')).toBe(true);
    expect(out.text.endsWith('\x1b[?25h\x1b[?1049l')).toBe(true);
    expect(out.text.split('\x1b[?1049l')).toHaveLength(2);
  });
});
