/** Helpers for engine call tests: registered device phones, callers, waiting on phone events. */
import type { IncomingCall, IncomingPolicy, PhoneCall, TestPhone } from '../../src/sip/phone/index.js';
import type { EngineHarness } from './engine-harness.js';

/** Demo device credentials (SPEC.md §6). */
export const DEVICES: Record<string, string> = {
  'alice-desk': 'alice-desk-pw', 'alice-mobile': 'alice-mobile-pw', 'bob-desk': 'bob-desk-pw', 'bob-soft': 'bob-soft-pw',
};

/** Creates and registers a phone for each device; `policy` decides what it does with incoming calls. */
export async function registerDevices(h: EngineHarness, usernames: string[], policy: IncomingPolicy = () => undefined): Promise<TestPhone[]> {
  const phones: TestPhone[] = [];
  for (const u of usernames) {
    const p = await h.phone(u, DEVICES[u]!, { onIncoming: policy });
    const r = await p.register({ expires: 600 });
    if (!r.ok) throw new Error(`${u} failed to register: ${r.status}`);
    phones.push(p);
  }
  return phones;
}

/** Resolves when `call` ends. */
export function ended(call: PhoneCall, timeoutMs = 5000): Promise<unknown> {
  if (call.state === 'ended') return Promise.resolve(call.endInfo);
  return call.waitFor('ended', timeoutMs);
}

/** Policy: ring, then do nothing (stay silent). */
export const ringOnly: IncomingPolicy = (c: IncomingCall) => c.ring();

/**
 * Policy: answer after `ms` (no 180 first: a 180-then-200 UAS dialog in src/sip/dialog.ts takes its own 200's
 * Contact as the remote target, so the phone's later BYE would go to itself; reported to the SIP core owner).
 */
export function answerAfter(ms: number): IncomingPolicy {
  return (c: IncomingCall) => c.answer({ afterMs: ms });
}

/** Policy: reject with `status`. */
export function rejectWith(status: number): IncomingPolicy {
  return (c: IncomingCall) => c.reject(status);
}

/** Event types of a call in order. */
export function types(events: Array<{ type: string }>): string[] {
  return events.map((e) => e.type);
}
