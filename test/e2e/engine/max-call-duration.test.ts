/**
 * `pbx.max_call_duration_s`: a connected call whose BYE never comes (lost, or a peer that never hangs up) is ended
 * by the PBX, which sends BYE to both sides and records why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestPhone } from '../../../src/sip/phone/index.js';
import { demoConfig, eventually, startEngineHarness, type EngineHarness } from '../../support/engine-harness.js';
import { answerAfter, ended, registerDevices } from '../../support/engine-calls.js';

describe('maximum call duration', () => {
  let h: EngineHarness;
  let desk: TestPhone;
  let caller: TestPhone;

  beforeAll(async () => {
    const config = demoConfig();
    config.pbx.max_call_duration_s = 1;
    h = await startEngineHarness({ config });
    [desk] = await registerDevices(h, ['alice-desk'], answerAfter(50));
    caller = await h.phone('61400111333');
  });
  afterAll(async () => {
    await h?.close({ removeDb: true });
  });

  it('MUST hang up both sides of a connected call after max_call_duration_s and record the reason', async () => {
    const deskIn = desk.waitForIncoming();
    const out = caller.call(`sip:+61390000000@${h.domain}`);
    await out.waitFor('answered');
    const answeredAt = Date.now();
    const deskCall = await deskIn;
    await ended(out, 5000);
    await ended(deskCall, 5000);
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(900);
    expect(out.endInfo).toMatchObject({ by: 'remote' });
    expect(deskCall.endInfo).toMatchObject({ by: 'remote' });
    const id = await eventually(async () => (await h.allEvents()).find((e) => e.type === 'user_inbound_completed')?.unique_call_id, 'completed event');
    const call = await h.store.getCall(id!);
    expect(call?.hangup_cause).toBe('max-call-duration');
    expect((await h.engine.status()).active_calls).toBe(0);
  });
});
