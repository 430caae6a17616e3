/** The assertion every SIPp-driven test makes: the run exited 0, else SIPp's errors and the tail of its output. */
import { expect } from 'vitest';
import type { SippResult } from './sipp.js';

export function sippOk(r: SippResult, what: string): void {
  expect(r.code, `${what}: SIPp exit ${r.code}\n${r.errors}\n${r.stdout.slice(-1500)}`).toBe(0);
}
