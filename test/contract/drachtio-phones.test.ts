/**
 * Contract: test phones (src/sip/phone) talking to a small drachtio-srf registrar + B2BUA app through drachtio-lite —
 * the shape of the real engine: REGISTER answered by the app, calls bridged with createB2BUA, hang-up either way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { pino } from 'pino';
import type { DrachtioLite } from '../../src/drachtio-lite/index.js';
import { TestPhone, type IncomingCall } from '../../src/sip/phone/index.js';
import { deferred, waitFor } from '../support/drachtio-peer.js';
import { connectApp, disconnectApp, routed, sipUdp, startLite } from '../support/drachtio-harness.js';

describe('test phones through drachtio-lite and a drachtio-srf B2BUA', () => {
  let lite: DrachtioLite;
  let app: Srf;
  let alice: TestPhone;
  let bob: TestPhone;
  /** user → contact URI, filled by the app's REGISTER handler. */
  const location = new Map<string, string>();

  beforeAll(async () => {
    lite = await startLite();
    app = await connectApp(lite, (srf) => {
      srf.register((req, res) => {
        const user = /sip:([^@]+)@/.exec(req.get('To') ?? '')?.[1] ?? '';
        const contact = req.getParsedHeader('Contact')[0]!.uri;
        const expires = Number(req.get('Expires') ?? '3600');
        if (expires > 0) location.set(user, contact);
        else location.delete(user);
        res.send(200, { headers: { Contact: `<${contact}>;expires=${expires}`, Expires: String(expires) } });
      });
      srf.invite((req, res) => {
        const user = /sip:([^@;]+)@/.exec(req.uri)?.[1] ?? '';
        const target = location.get(user);
        if (!target) return res.send(404);
        srf.createB2BUA(req, res, target, { localSdpB: req.body }).then(({ uas, uac }) => {
          uas.on('destroy', () => { void uac.destroy().catch(() => undefined); });
          uac.on('destroy', () => { void uas.destroy().catch(() => undefined); });
        }, () => undefined);
      });
    });
    await routed(lite, 'register');
    await routed(lite, 'invite');
    const registrar = sipUdp(lite);
    const log = pino({ level: 'silent' });
    const timers = { t1: 100, t2: 400, t4: 500 };
    alice = await TestPhone.create({ transport: 'udp', username: 'alice', domain: 'pbx.test', registrar, log, timers });
    bob = await TestPhone.create({ transport: 'udp', username: 'bob', domain: 'pbx.test', registrar, log, timers });
  });
  afterAll(async () => {
    disconnectApp(app);
    await alice.close();
    await bob.close();
    await lite.close();
  });

  it('REGISTER is answered by the app', async () => {
    expect((await alice.register({ expires: 60 })).ok).toBe(true);
    expect((await bob.register({ expires: 60 })).ok).toBe(true);
    expect(location.get('bob')).toContain(`:${bob.endpoint.port}`);
  });

  it('alice calls bob through the B2BUA; alice hangs up and bob sees the BYE', async () => {
    const incoming = deferred<IncomingCall>();
    bob.expectIncoming((call) => { incoming.resolve(call); call.ring(); call.answer(); });
    const call = alice.call('sip:bob@pbx.test');
    const answered = new Promise((resolve, reject) => { call.once('answered', resolve); call.once('failed', reject); });
    await answered;
    const bobCall = await incoming.promise;
    await waitFor(() => (bobCall.state === 'confirmed' ? true : undefined), 'bob confirmed');
    const bobEnded = new Promise((resolve) => bobCall.once('ended', resolve));
    await call.bye();
    await bobEnded;
    await waitFor(() => lite.server.stats.dialogs === 0 || undefined, 'no dialogs left');
  });

  it('bob hangs up; alice sees the BYE', async () => {
    const incoming = deferred<IncomingCall>();
    bob.expectIncoming((c) => { incoming.resolve(c); c.answer(); });
    const call = alice.call('sip:bob@pbx.test');
    await new Promise((resolve, reject) => { call.once('answered', resolve); call.once('failed', reject); });
    const bobCall = await incoming.promise;
    await waitFor(() => (bobCall.state === 'confirmed' ? true : undefined), 'bob confirmed');
    const aliceEnded = new Promise((resolve) => call.once('ended', resolve));
    // srf's createB2BUA sends `Contact: sip:alice@localhost`; the server must make that routable
    expect(bobCall.dialog?.remoteTarget).toMatch(/^sip:alice@127\.0\.0\.1:\d+$/);
    expect((await bobCall.bye())?.status).toBe(200);
    await aliceEnded;
    await waitFor(() => lite.server.stats.dialogs === 0 || undefined, 'no dialogs left');
  });

  it('alice cancels while bob rings: bob sees the CANCEL, alice gets 487', async () => {
    const incoming = deferred<IncomingCall>();
    bob.expectIncoming((c) => { incoming.resolve(c); c.ring(); });
    const call = alice.call('sip:bob@pbx.test');
    const bobCall = await incoming.promise;
    const cancelled = new Promise((resolve) => bobCall.once('cancelled', resolve));
    const failed = new Promise<{ status: number }>((resolve) => call.once('failed', resolve));
    await waitFor(() => (call.state === 'early' ? true : undefined), 'alice hears ringing');
    call.cancel();
    expect((await failed).status).toBe(487);
    await cancelled;
  });

  it('an unknown user gets the app\'s 404', async () => {
    const call = alice.call('sip:nobody@pbx.test');
    const failed = await new Promise<{ status: number }>((resolve) => call.once('failed', resolve));
    expect(failed.status).toBe(404);
  });
});
