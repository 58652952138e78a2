/**
 * Keys of the live view, read in raw mode from a terminal: `+`/`=` scale up, `-`/`_` scale down,
 * `q`/`Q`, Ctrl-C, Ctrl-D quit (raw mode turns Ctrl-C into a byte, not SIGINT).
 */
import type { ReadStream } from 'node:tty';

export interface KeyActions {
  quit(): void;
  up(): void;
  down(): void;
}

/** The action of one key press, or undefined. Pure. */
export function keyAction(key: string): keyof KeyActions | undefined {
  if (key === 'q' || key === 'Q' || key === '\u0003' || key === '\u0004') return 'quit';
  if (key === '+' || key === '=') return 'up';
  if (key === '-' || key === '_') return 'down';
  return undefined;
}

export function watchKeys(input: ReadStream, actions: KeyActions): { close(): void } {
  input.setRawMode(true);
  input.setEncoding('utf8');
  const onData = (chunk: string): void => {
    for (const key of chunk) {
      const action = keyAction(key);
      if (action) actions[action]();
    }
  };
  input.on('data', onData);
  input.resume();
  return {
    close() {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
    },
  };
}
