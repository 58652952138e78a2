/**
 * The engine with the real icontrol backend against the emulator: a 503 storm stays a trickle of
 * requests, nothing is lost after it, and credentials never reach the logs.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createLogger } from '@npl/runtime';
import { SyncEngine } from './engine.js';
import { IcontrolBackend } from './icontrol/backend.js';
import type { EmulatorRig } from './testing/emulator.js';
import { emulatorRig } from './testing/emulator.js';
import { desiredPool as pool, desiredState } from './testing/states.js';

let rig: EmulatorRig | undefined;
let engine: SyncEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  await rig?.close();
  engine = undefined;
  rig = undefined;
});

const web = desiredState(pool('web_80_prod', [['192.0.2.10', 61001], ['192.0.2.11', 61002]]));

/** Moves fake time in small steps, letting real I/O with the emulator complete in between. */
async function run(r: EmulatorRig, ms: number, each?: () => void): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    each?.();
    await r.advance(100);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('engine with the icontrol backend against the emulator', () => {
  it('a 503 storm with triggers every 100 ms costs a handful of requests, then everything is applied', async () => {
    rig = await emulatorRig();
    const r = rig;
    engine = new SyncEngine({ backend: new IcontrolBackend({ client: r.client, partition: 'k8s' }), desired: () => web, clock: r.clock, random: () => 0, resyncMs: 30_000 });
    r.emu.faults.set({ unavailable: { fraction: 1 } });
    engine.start();
    await run(r, 60_000, () => engine?.trigger());
    const duringStorm = r.emu.requestLog.count({});
    // Backoff 1, 2, 4, 8, 16, 32 s: 7 attempts in 60 s, each stopped by its first 503.
    expect(duringStorm).toBeLessThanOrEqual(8);
    r.emu.faults.clear();
    await run(r, 70_000);
    expect(r.emu.state.dump()).toContain('member /k8s/192.0.2.11:61002');
    expect(engine.consecutiveFailures).toBe(0);
  }, 60_000);

  it('credentials never reach the logs, even when login fails', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => { lines.push(chunk.toString()); done(); } });
    const logger = createLogger({ name: 'test', level: 'trace', destination: sink });
    rig = await emulatorRig({ credentials: () => ({ username: 'admin', password: 'hunter2-not-the-password' }), logger });
    const r = rig;
    engine = new SyncEngine({ backend: new IcontrolBackend({ client: r.client, partition: 'k8s', logger }), desired: () => web, clock: r.clock, logger, resyncMs: 0 });
    engine.start();
    await run(r, 5_000);
    expect(lines.join('')).toContain('Authentication failed');
    expect(lines.join('')).not.toContain('hunter2');
  }, 60_000);
});
