/**
 * Where frames go. The plain display writes a snapshot when the change key moved (the `--for`
 * output); the live display redraws the whole screen in place on the alternate screen, at most
 * once per `minIntervalMs`, and gives the terminal back on close.
 */
import type { Writable } from 'node:stream';
import type { DemoState } from './model.js';
import { changeKey, renderFrame, renderSnapshot, type RenderContext } from './render.js';

export interface Display {
  /** Offers the current state; the display decides whether to draw. Returns true when it drew. */
  offer(state: DemoState, ctx: RenderContext): boolean;
  /** Gives the terminal back (live) — idempotent. Later output goes to the normal screen. */
  close(): void;
}

export function plainDisplay(out: Writable): Display {
  let last = '';
  return {
    offer(state, ctx) {
      const key = changeKey(state);
      if (key === last) return false;
      last = key;
      out.write(renderSnapshot(state, ctx));
      return true;
    },
    close: () => undefined,
  };
}

const CSI = '\x1b[';

export function liveDisplay(out: Writable & { rows?: number }, opts: { readonly minIntervalMs: number; readonly now: () => number }): Display {
  let lastFrame = '';
  let lastAt = -Infinity;
  let open = true;
  out.write(`${CSI}?1049h${CSI}?25l${CSI}H${CSI}2J`);
  return {
    offer(state, ctx) {
      if (!open || opts.now() - lastAt < opts.minIntervalMs) return false;
      const frame = renderFrame(state, ctx);
      if (frame === lastFrame) return false;
      lastFrame = frame;
      lastAt = opts.now();
      out.write(`${CSI}H${frame}\n${CSI}J`);
      return true;
    },
    close() {
      if (!open) return;
      open = false;
      out.write(`${CSI}?25h${CSI}?1049l`);
    },
  };
}
