import { describe, expect, it } from 'vitest';
import { computeTimers } from '../../../../src/sip/transaction/timers.js';

describe('computeTimers', () => {
  it('derives RFC 3261 Table 4 values from the defaults on UDP', () => {
    const t = computeTimers(undefined, false);
    expect(t).toMatchObject({ A: 500, B: 32000, D: 32000, E: 500, F: 32000, G: 500, H: 32000, I: 5000, J: 32000, K: 5000, L: 32000, M: 32000 });
  });
  it('MUST zero D/I/J/K and never arm A/E/G on a reliable transport', () => {
    const t = computeTimers({ t1: 100 }, true);
    expect(t).toMatchObject({ A: undefined, E: undefined, G: undefined, D: 0, I: 0, J: 0, K: 0, B: 6400, F: 6400, H: 6400 });
  });
  it('rejects a non-positive interval', () => {
    expect(() => computeTimers({ t1: 0 }, false)).toThrow(TypeError);
  });
});
