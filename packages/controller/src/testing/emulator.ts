/**
 * A listening HTTPS emulator with a client that trusts its CA, both on fake time, for backend tests.
 */
import { ManualClock, startEmulator } from '@npl/bigip-emulator';
import type { RunningEmulator } from '@npl/bigip-emulator';
import { FakeClock } from '@npl/runtime';
import { BigipClient } from '../bigip/client.js';
import type { BigipClientOptions } from '../bigip/client.js';

export interface EmulatorRig {
  readonly emu: RunningEmulator;
  readonly client: BigipClient;
  /** The client's clock. */
  readonly clock: FakeClock;
  /** The emulator's clock. */
  readonly deviceClock: ManualClock;
  /** Requests by status the client saw, e.g. `GET 200`. */
  readonly responses: string[];
  /** Moves both clocks. */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function emulatorRig(options: Partial<BigipClientOptions> = {}): Promise<EmulatorRig> {
  const deviceClock = new ManualClock();
  const emu = await startEmulator({ partitions: ['k8s'], traffic: false, clock: deviceClock });
  const clock = new FakeClock();
  const responses: string[] = [];
  const client = new BigipClient({
    url: emu.url, ca: emu.ca ?? '', clock, credentials: () => ({ username: 'admin', password: 'admin' }),
    onResponse: (method, status) => responses.push(`${method} ${status}`),
    ...options,
  });
  return {
    emu, client, clock, deviceClock, responses,
    advance: async (ms) => {
      deviceClock.advance(ms);
      await clock.advance(ms);
    },
    close: async () => {
      await client.close();
      await emu.close();
    },
  };
}
