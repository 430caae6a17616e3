/**
 * The engine against SIPp (real SIP from another implementation): digest REGISTER, refused REGISTERs, and DID
 * calls to a SIPp device, with events and records checked in the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineHarness, eventually, type EngineHarness } from '../../support/engine-harness.js';
import { freePort, killAllSipp, runSipp } from '../../support/sipp.js';

describe('engine with SIPp', () => {
  let h: EngineHarness;
  let target: string;

  beforeAll(async () => {
    h = await startEngineHarness();
    target = `${h.sip.address}:${h.sip.port}`;
  });
  afterAll(async () => {
    killAllSipp();
    await h?.close({ removeDb: true });
  });

  it('a SIPp device registers with MD5 digest', async () => {
    const run = await runSipp({ scenario: 'engine-register.xml', target, calls: 1, extra: ['-key', 'user', 'bob-desk', '-au', 'bob-desk', '-ap', 'bob-desk-pw', '-key', 'domain', h.domain, '-auth_uri', h.domain, '-key', 'expires', '600'] });
    const r = await run.done;
    expect(r.code, r.errors).toBe(0);
    expect(await h.store.listRegistrations('bob-desk')).toHaveLength(1);
  });

  it('wrong password and unknown user both end in 403; a too-brief interval gets 423 with Min-Expires', async () => {
    for (const [user, pass] of [['bob-soft', 'wrong'], ['nobody', 'whatever']] as const) {
      const run = await runSipp({ scenario: 'engine-register-refused.xml', target, calls: 1, extra: ['-key', 'user', user, '-au', user, '-ap', pass, '-key', 'domain', h.domain, '-auth_uri', h.domain] });
      const r = await run.done;
      expect(r.code, `${user}: ${r.errors}`).toBe(0);
    }
    const brief = await runSipp({ scenario: 'engine-register-brief.xml', target, calls: 1, extra: ['-key', 'user', 'bob-soft', '-au', 'bob-soft', '-ap', 'bob-soft-pw', '-key', 'domain', h.domain, '-auth_uri', h.domain] });
    const r = await brief.done;
    expect(r.code, r.errors).toBe(0);
  });

  it('DID calls reach a registered SIPp device and every call writes user_inbound, _answered, _completed', async () => {
    const port = await freePort();
    const reg = await runSipp({ scenario: 'engine-register.xml', target, port, calls: 1, extra: ['-key', 'user', 'alice-desk', '-au', 'alice-desk', '-ap', 'alice-desk-pw', '-key', 'domain', h.domain, '-auth_uri', h.domain, '-key', 'expires', '600'] });
    expect((await reg.done).code).toBe(0);
    const calls = 10;
    const uas = await runSipp({ scenario: 'engine-uas-device.xml', port, calls, timeoutS: 30 });
    const uac = await runSipp({ scenario: 'engine-uac-did.xml', target, calls, timeoutS: 30, extra: ['-s', '61390000000', '-d', '50', '-r', '5'] });
    const [a, b] = await Promise.all([uac.done, uas.done]);
    expect(a.code, a.errors || a.stdout.slice(-2000)).toBe(0);
    expect(b.code, b.errors).toBe(0);
    const events = await eventually(async () => {
      const all = await h.allEvents();
      return all.length >= calls * 3 ? all : undefined;
    }, 'events of every call');
    const byCall = new Map<string, string[]>();
    for (const e of events.sort((x, y) => x.sequence - y.sequence)) byCall.set(e.unique_call_id!, [...(byCall.get(e.unique_call_id!) ?? []), e.type]);
    expect(byCall.size).toBe(calls);
    for (const seq of byCall.values()) expect(seq).toEqual(['user_inbound', 'user_inbound_answered', 'user_inbound_completed']);
  });
});
