/**
 * Issue 2's black-box checks: SIPp against the running Switchboard (drachtio-srf on drachtio-lite on our SIP core),
 * over real UDP on 127.0.0.1. Each scenario's XML is under test/sipp/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, killAllSipp, runSipp, type SippResult } from '../../support/sipp.js';
import { startTestSwitchboard, type TestSwitchboard } from '../../support/switchboard.js';
import { sippOk as ok } from '../../support/sipp-expect.js';


let sb: TestSwitchboard;

/** Registers a device from `port` (where a SIPp UAS will then listen, so the contact is that UAS). */
async function registerFrom(port: number, username: string, password: string): Promise<void> {
  const r = await runSipp({ scenario: 'register-digest.xml', target: sb.sipTarget, port, calls: 1, extra: ['-s', username, '-au', username, '-ap', password] });
  ok(await r.done, `REGISTER ${username}`);
}

beforeAll(async () => {
  sb = await startTestSwitchboard();
});

afterEach(async () => {
  killAllSipp();
  // Each test registers its own SIPp devices; remove them so the next test's fork rings only its own.
  for (const [u, p] of [['alice-desk', 'alice-desk-pw'], ['alice-mobile', 'alice-mobile-pw']] as const) {
    const r = await runSipp({ scenario: 'unregister-all.xml', target: sb.sipTarget, calls: 1, extra: ['-s', u, '-au', u, '-ap', p] });
    ok(await r.done, `unregister ${u}`);
  }
});

afterAll(async () => {
  killAllSipp();
  await sb?.stop();
});

describe('SIPp against a running Switchboard', () => {
  it('answers OPTIONS with 200', async () => {
    const r = await runSipp({ scenario: 'options.xml', target: sb.sipTarget, calls: 1, extra: ['-s', 'switchboard'] });
    ok(await r.done, 'OPTIONS');
  });

  it('answers OPTIONS over TCP', async () => {
    const r = await runSipp({ scenario: 'options.xml', target: sb.sipTarget, transport: 't1', calls: 1, extra: ['-s', 'switchboard'] });
    ok(await r.done, 'OPTIONS/TCP');
  });

  it('bridges a caller on TCP to a device on UDP', async () => {
    const pa = await freePort();
    await registerFrom(pa, 'alice-desk', 'alice-desk-pw');
    const device = await runSipp({ scenario: 'uas-answer.xml', port: pa, calls: 1, extra: ['-d', '100'] });
    const caller = await runSipp({ scenario: 'uac-invite-bye.xml', target: sb.sipTarget, transport: 't1', calls: 1, extra: ['-s', '+61390000000', '-d', '200'] });
    ok(await caller.done, 'caller/TCP');
    ok(await device.done, 'device/UDP');
  });

  it('challenges REGISTER with 401 and accepts the digest retry with 200', async () => {
    const r = await runSipp({ scenario: 'register-digest.xml', target: sb.sipTarget, calls: 1, extra: ['-s', 'bob-desk', '-au', 'bob-desk', '-ap', 'bob-desk-pw'] });
    ok(await r.done, 'REGISTER');
    const regs = await sb.store.listRegistrations('bob-desk');
    expect(regs).toHaveLength(1);
    await sb.store.removeAllRegistrations('bob-desk');
  });

  it('refuses a REGISTER with the wrong password (the retry is challenged again, never 200)', async () => {
    const r = await runSipp({ scenario: 'register-digest.xml', target: sb.sipTarget, calls: 1, timeoutS: 5, extra: ['-s', 'bob-soft', '-au', 'bob-soft', '-ap', 'wrong'] });
    const res = await r.done;
    expect(res.code).not.toBe(0);
    expect(await sb.store.listRegistrations('bob-soft')).toHaveLength(0);
  });

  it('forks a DID call to two devices: one answers, the other gets CANCEL and answers 487; BYE from the caller ends both', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    await registerFrom(pa, 'alice-desk', 'alice-desk-pw');
    await registerFrom(pb, 'alice-mobile', 'alice-mobile-pw');
    const answerer = await runSipp({ scenario: 'uas-answer.xml', port: pa, calls: 1, extra: ['-d', '400'] });
    const ringer = await runSipp({ scenario: 'uas-ring-cancel.xml', port: pb, calls: 1 });
    const caller = await runSipp({ scenario: 'uac-invite-bye.xml', target: sb.sipTarget, calls: 1, extra: ['-s', '+61390000000', '-d', '300'] });
    ok(await caller.done, 'caller');
    ok(await answerer.done, 'answering device');
    ok(await ringer.done, 'cancelled device');
  });

  it('cancels every ringing leg when the caller CANCELs (200 to the CANCEL, 487 to the INVITE)', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    await registerFrom(pa, 'alice-desk', 'alice-desk-pw');
    await registerFrom(pb, 'alice-mobile', 'alice-mobile-pw');
    const d1 = await runSipp({ scenario: 'uas-ring-cancel.xml', port: pa, calls: 1 });
    const d2 = await runSipp({ scenario: 'uas-ring-cancel.xml', port: pb, calls: 1 });
    const caller = await runSipp({ scenario: 'uac-cancel.xml', target: sb.sipTarget, calls: 1, extra: ['-s', '+61390000000'] });
    ok(await caller.done, 'caller');
    ok(await d1.done, 'device 1');
    ok(await d2.done, 'device 2');
  });

  it('passes a re-INVITE (hold) through the bridged call and ends it with BYE', async () => {
    const pa = await freePort();
    await registerFrom(pa, 'alice-desk', 'alice-desk-pw');
    const device = await runSipp({ scenario: 'uas-answer-reinvite.xml', port: pa, calls: 1 });
    const caller = await runSipp({ scenario: 'uac-reinvite.xml', target: sb.sipTarget, calls: 1, extra: ['-s', '+61390000000'] });
    ok(await caller.done, 'caller');
    ok(await device.done, 'device');
  });

  it('ends the call for the caller when the answering device sends BYE', async () => {
    const pa = await freePort();
    await registerFrom(pa, 'alice-desk', 'alice-desk-pw');
    const device = await runSipp({ scenario: 'uas-answer-then-bye.xml', port: pa, calls: 1, extra: ['-d', '300'] });
    const caller = await runSipp({ scenario: 'uac-invite-remote-bye.xml', target: sb.sipTarget, calls: 1, extra: ['-s', '+61390000000'] });
    ok(await caller.done, 'caller');
    ok(await device.done, 'device');
  });
});
