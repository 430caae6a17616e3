/** The engine's narrow srf view must accept the real drachtio-srf object (types/drachtio-srf.d.ts) without a cast. */
import Srf from 'drachtio-srf';
import { describe, expect, it } from 'vitest';
import type { SrfLike } from '../../../src/engine/index.js';

describe('srf typings', () => {
  it('a real Srf is an SrfLike', () => {
    const srf: SrfLike = new Srf();
    expect(typeof srf.createUAC).toBe('function');
  });
});
