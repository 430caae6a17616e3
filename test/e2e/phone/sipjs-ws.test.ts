/**
 * sip.js (the browser SIP library) over WebSocket against the whole Switchboard, in Node with a plain-RTP
 * SessionDescriptionHandler (test/support/sipjs.ts): register, call a SIPp device and an extension, be called by a
 * DID, hang up both ways, and register again after the socket drops.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SessionState } from 'sip.js';
import { startTestSwitchboard, type TestSwitchboard } from '../../support/switchboard.js';
import { eventually } from '../../support/engine-harness.js';
import { freePort, killAllSipp, runSipp } from '../../support/sipp.js';
import { startSipJsPhone, settled, terminated, type SipJsPhone } from '../../support/sipjs.js';

const DOMAIN = 'switchboard.local';
let sb: TestSwitchboard;
const phones: SipJsPhone[] = [];

async function phone(username: string, opts: { reconnect?: boolean } = {}): Promise<SipJsPhone> {
  const ws = sb.sip.find((s) => s.transport === 'ws')!;
  const p = await startSipJsPhone({ server: `ws://127.0.0.1:${ws.port}`, username, password: `${username}-pw`, domain: DOMAIN, ...opts });
  phones.push(p);
  await p.register();
  return p;
}

const wsBindings = (username: string): string[] => sb.engine.registrations().filter((r) => r.username === username && r.contact.includes('transport=ws')).map((r) => r.contact);

/** A SIPp device registered as `username` on a free port, answering `calls` calls (engine-uas-device.xml). */
async function sippDevice(username: string, calls = 1) {
  const port = await freePort();
  const reg = await runSipp({ scenario: 'engine-register.xml', target: sb.sipTarget, port, calls: 1,
    extra: ['-key', 'user', username, '-au', username, '-ap', `${username}-pw`, '-key', 'domain', DOMAIN, '-auth_uri', DOMAIN, '-key', 'expires', '600'] });
  const r = await reg.done;
  expect(r.code, r.errors).toBe(0);
  return runSipp({ scenario: 'engine-uas-device.xml', port, calls, timeoutS: 30 });
}

beforeAll(async () => {
  sb = await startTestSwitchboard({ mutate: (c) => { c.sip.ws = { ...c.sip.ws, port: 0 }; } });
}, 60_000);

afterEach(async () => {
  for (const p of phones.splice(0)) await p.stop();
  killAllSipp();
});

afterAll(async () => {
  await sb?.stop();
});

describe('sip.js over WebSocket', () => {
  it('registers (MD5 digest over ws://) and the binding names its WebSocket', async () => {
    await phone('alice-desk');
    expect(wsBindings('alice-desk')).toHaveLength(1);
    expect(wsBindings('alice-desk')[0]).toMatch(/@[a-z0-9]+\.invalid;transport=ws$/);
  });

  it('calls a SIPp device (1002 rings bob-desk) and hangs up; SIPp gets the BYE', async () => {
    const device = await sippDevice('bob-desk');
    const alice = await phone('alice-desk');
    const call = await alice.call(`sip:1002@${DOMAIN}`);
    expect(call.state).toBe(SessionState.Established);
    await call.bye();
    const r = await device.done;
    expect(r.code, r.errors || r.stdout.slice(-1500)).toBe(0);
    await terminated(call);
  });

  it('calls an extension whose device is another sip.js phone, and the callee hangs up', async () => {
    const alice = await phone('alice-mobile');
    const bob = await phone('bob-soft');
    const ringing = bob.nextInvitation();
    const calling = alice.call(`sip:1002@${DOMAIN}`);
    const inv = await ringing;
    // The B2BUA presents the caller's extension.
    expect(inv.remoteIdentity.uri.user).toBe('1001');
    await inv.accept();
    const call = await calling;
    await settled(inv);
    await inv.bye();
    await terminated(call);
  });

  it('is called by a DID (+61390000000 → 1001), answers, and the caller hangs up', async () => {
    const alice = await phone('alice-desk');
    const ringing = alice.nextInvitation();
    const uac = await runSipp({ scenario: 'engine-uac-did.xml', target: sb.sipTarget, calls: 1, timeoutS: 30, extra: ['-s', '61390000000', '-d', '300'] });
    const inv = await ringing;
    await inv.accept();
    await settled(inv);
    await terminated(inv);
    const r = await uac.done;
    expect(r.code, r.errors || r.stdout.slice(-1500)).toBe(0);
  });

  it('is called by a DID and hangs up itself; the caller gets the BYE', async () => {
    const alice = await phone('alice-desk');
    const ringing = alice.nextInvitation();
    const uac = await runSipp({ scenario: 'uac-invite-remote-bye.xml', target: sb.sipTarget, calls: 1, timeoutS: 30, extra: ['-s', '61390000000'] });
    const inv = await ringing;
    await inv.accept();
    await settled(inv);
    await inv.bye();
    const r = await uac.done;
    expect(r.code, r.errors || r.stdout.slice(-1500)).toBe(0);
  });

  it('loses its binding when the socket drops, registers again on the new connection and is reachable there', async () => {
    const alice = await phone('alice-desk', { reconnect: true });
    const before = sb.engine.registrations().find((r) => r.username === 'alice-desk');
    expect(before).toBeDefined();
    const ws = (alice.ua.transport as unknown as { ws: { terminate(): void } }).ws;
    ws.terminate();
    // sip.js reconnects at once, so its new REGISTER can overtake the server's view of the old socket closing (the
    // removal on close is sip-ws.test.ts's): wait for the refreshed binding (a later expiry) on the new connection.
    await eventually(() => sb.engine.registrations().some((r) => r.username === 'alice-desk' && r.expires_at > before!.expires_at) || undefined,
      'registered again after reconnecting', 15_000);
    expect(wsBindings('alice-desk')).toHaveLength(1);
    const ringing = alice.nextInvitation();
    const uac = await runSipp({ scenario: 'engine-uac-did.xml', target: sb.sipTarget, calls: 1, timeoutS: 30, extra: ['-s', '61390000000', '-d', '200'] });
    const inv = await ringing;
    await inv.accept();
    await terminated(inv);
    const r = await uac.done;
    expect(r.code, r.errors || r.stdout.slice(-1500)).toBe(0);
  }, 60_000);
});
