import { describe, expect, it } from '@jest/globals';
import { keyAction } from './keys.js';
import { parseOptions, parseScaleStep } from './options.js';

describe('parseOptions', () => {
  it('has defaults for the live view', () => {
    expect(parseOptions([])).toEqual({ name: 'demo', scaleSteps: [], replicas: 2, rate: 5, plain: false, help: false });
  });

  it('reads --for and sorted --scale-to steps', () => {
    const o = parseOptions(['--for', '30', '--scale-to', '1@20', '--scale-to', '3@10', '--name', 'other', '--replicas', '2', '--rate', '10']);
    expect(o).toMatchObject({ forSeconds: 30, name: 'other', replicas: 2, rate: 10, scaleSteps: [{ replicas: 3, atSeconds: 10 }, { replicas: 1, atSeconds: 20 }] });
  });

  it.each([
    [['--for', '0'], /--for "0": expected a number from 1/],
    [['--for', 'x'], /--for "x"/],
    [['--replicas', '2.5'], /--replicas "2.5": expected an integer from 0 to 20/],
    [['--rate', '100'], /--rate "100"/],
    [['--name', 'Demo'], /--name "Demo": expected 1-12 of \[a-z0-9\]/],
    [['--scale-to', 'three'], /--scale-to "three": expected REPLICAS@SECONDS/],
    [['--scale-to', '30@5'], /--scale-to "30"/],
    [['--for', '10', '--scale-to', '3@10'], /--scale-to 3@10: at 10 s is not before the end \(--for 10\)/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('refuses %j naming the flag and what was expected', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(message);
    try {
      parseOptions(argv);
    } catch (err) {
      expect((err as { code?: string }).code).toBe('NPL_DEMO_USAGE');
    }
  });

  it('reads a scale step with an optional s suffix', () => {
    expect(parseScaleStep('4@12.5s')).toEqual({ replicas: 4, atSeconds: 12.5 });
  });
});

describe('keyAction', () => {
  it.each([
    ['+', 'up'], ['=', 'up'], ['-', 'down'], ['_', 'down'], ['q', 'quit'], ['Q', 'quit'], ['\u0003', 'quit'], ['\u0004', 'quit'], ['x', undefined],
  ])('%j -> %s', (key, action) => {
    expect(keyAction(key)).toBe(action);
  });
});
