/**
 * The bridge and the engine's edges: a device on TCP, re-INVITEs relayed between the two dialogs, and stop()
 * ending calls cleanly (BYE both ways) while new INVITEs get 503.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOffer, type TestPhone } from '../../../src/sip/phone/index.js';
import { eventually, startEngineHarness, type EngineHarness } from '../../support/engine-harness.js';
import { answerAfter, DEVICES, ended } from '../../support/engine-calls.js';

describe('bridge', () => {
  let h: EngineHarness;
  let tcpDesk: TestPhone;
  let caller: TestPhone;

  beforeAll(async () => {
    h = await startEngineHarness();
    tcpDesk = await h.phone('alice-desk', DEVICES['alice-desk'], { transport: 'tcp', onIncoming: answerAfter(20) });
    expect((await tcpDesk.register({ expires: 600 })).ok).toBe(true);
    caller = await h.phone('61400246810');
  });
  afterAll(async () => {
    await h?.close({ removeDb: true });
  });

  it('stores a TCP device\'s transport and reaches it over TCP', async () => {
    const [reg] = await h.store.listRegistrations('alice-desk');
    expect(reg?.transport).toBe('tcp');
    const incoming = tcpDesk.waitForIncoming();
    const out = caller.call(`sip:61390000000@${h.domain}`);
    const inc = await incoming;
    expect(inc.source.transport).toBe('tcp');
    await out.waitFor('answered');
    await out.bye();
    await ended(inc);
  });

  it('relays a re-INVITE from one side to the other and returns the other side\'s answer', async () => {
    const out = caller.call(`sip:61390000000@${h.domain}`);
    const inc = await tcpDesk.waitForIncoming();
    await out.waitFor('answered');
    await eventually(() => inc.state === 'confirmed', 'device confirmed');
    const seen = inc.waitFor('request');
    const res = await out.reinvite(createOffer({ address: '127.0.0.1', port: 41000 }));
    expect(res?.status).toBe(200);
    expect(res?.body.toString()).toMatch(/m=audio/);
    await seen;
    expect(inc.remoteSdp).toContain('41000');
    await out.bye();
    await ended(inc);
  });

  it('stop() hangs up both sides of every call and refuses new calls with 503', async () => {
    const out = caller.call(`sip:61390000000@${h.domain}`);
    const inc = await tcpDesk.waitForIncoming();
    await out.waitFor('answered');
    await h.engine.stop();
    await Promise.all([ended(out), ended(inc)]);
    expect(out.endInfo?.by).toBe('remote');
    expect(inc.endInfo?.by).toBe('remote');
    const late = caller.call(`sip:61390000000@${h.domain}`);
    const fail = await late.waitFor<{ status: number }>('failed');
    expect(fail.status).toBe(503);
    const ids = [...new Set((await h.allEvents()).map((e) => e.unique_call_id))];
    const last = await h.store.getCall(ids.at(-1)!);
    expect(last?.hangup_cause).toBe('shutdown');
  });
});
