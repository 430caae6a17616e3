import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { TestPhone, type IncomingCall } from '../../../../src/sip/phone/index.js';
import { SipStack } from '../../../../src/sip/stack.js';
import { DigestServer } from '../../../../src/sip/digest.js';
import { createResponse, Status } from '../../../../src/sip/status.js';
import { parseMessage } from '../../../../src/sip/parser.js';
import { serializeMessage } from '../../../../src/sip/serializer.js';
import { ManualClock, systemClock } from '../../../../src/common/clock.js';
import type { SipRequest, SipResponse } from '../../../../src/sip/message.js';
import { eventually } from '../../../support/eventually.js';

const TIMERS = { t1: 20, t2: 80, t4: 100 };
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function phone(transport: 'udp' | 'tcp', username: string, extra: Partial<Parameters<typeof TestPhone.create>[0]> = {}): Promise<TestPhone> {
  const p = await TestPhone.create({
    transport, username, domain: 'example.com', registrar: { transport, address: '127.0.0.1', port: 9 }, timers: TIMERS, ...extra,
  });
  closers.push(() => p.close());
  return p;
}

async function pair(transport: 'udp' | 'tcp'): Promise<[TestPhone, TestPhone]> {
  return [await phone(transport, 'alice'), await phone(transport, 'bob')];
}

const uriOf = (p: TestPhone) => p.contact.slice(1, -1);

for (const transport of ['udp', 'tcp'] as const) {
  describe(`TestPhone over ${transport}`, () => {
    it('completes invite / ring / answer / ack / bye', async () => {
      const [alice, bob] = await pair(transport);
      bob.onIncoming = (c) => { c.ring(); c.answer({ afterMs: 30 }); };
      const call = alice.call(uriOf(bob), { destination: bob.endpoint });
      const progress = call.waitFor<SipResponse>('progress');
      const answered = await call.waitFor<SipResponse>('answered');
      expect((await progress).status).toBe(180);
      expect(answered.status).toBe(200);
      expect(call.remoteSdp).toContain('m=audio');
      const incoming = bob.activeCalls[0] as IncomingCall;
      if (incoming.state !== 'confirmed') await incoming.waitFor('confirmed');
      const ended = incoming.waitFor('ended');
      const byeRes = await call.bye();
      expect(byeRes?.status).toBe(200);
      expect(await ended).toMatchObject({ by: 'remote', reason: 'bye' });
      expect(bob.kinds()).toEqual(expect.arrayContaining(['incoming', 'ringing', 'answered', 'ack', 'bye-received', 'ended']));
      expect(alice.kinds()).toEqual(expect.arrayContaining(['invite-sent', 'answered', 'ack-sent', 'bye-sent', 'ended']));
      expect(alice.activeCalls).toHaveLength(0);
      expect(bob.activeCalls).toHaveLength(0);
    });

    it('cancels a ringing call: 200 for CANCEL, 487 for the INVITE', async () => {
      const [alice, bob] = await pair(transport);
      bob.onIncoming = (c) => c.ring();
      const call = alice.call(uriOf(bob), { destination: bob.endpoint });
      await call.waitFor('progress');
      const incoming = await new Promise<IncomingCall>((r) => { const c = bob.activeCalls[0]; if (c) r(c as IncomingCall); else bob.once('incoming', r); });
      const cancelled = incoming.waitFor('cancelled');
      const failed = call.waitFor<{ status: number }>('failed');
      call.cancel();
      await cancelled;
      expect((await failed).status).toBe(487);
      expect(call.endInfo).toMatchObject({ by: 'local', reason: 'cancelled' });
    });

    it('applies queued per-call policies before the phone policy', async () => {
      const [alice, bob] = await pair(transport);
      bob.onIncoming = (c) => c.answer();
      bob.expectIncoming((c) => c.reject(603));
      const first = alice.call(uriOf(bob), { destination: bob.endpoint });
      expect(await first.waitFor('failed')).toMatchObject({ status: 603 });
      const second = alice.call(uriOf(bob), { destination: bob.endpoint });
      await second.waitFor('answered');
      await second.bye();
    });

    it('reports a rejection (486)', async () => {
      const [alice, bob] = await pair(transport);
      bob.onIncoming = (c) => c.reject(486);
      const call = alice.call(uriOf(bob), { destination: bob.endpoint });
      expect(await call.waitFor('failed')).toMatchObject({ status: 486 });
    });

    it('handles a re-INVITE with a new offer in the dialog', async () => {
      const [alice, bob] = await pair(transport);
      const call = alice.call(uriOf(bob), { destination: bob.endpoint });
      await call.waitFor('answered');
      const incoming = bob.activeCalls[0] as IncomingCall;
      const re = incoming.waitFor<SipRequest>('reinvite');
      const res = await call.reinvite('v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n');
      expect(res?.status).toBe(200);
      expect(res?.body.toString()).toMatch(/RTP\/AVP 8\r\n/);
      expect((await re).get('cseq')).toBe('2 INVITE');
      await incoming.waitFor('confirmed');
      await call.bye();
    });
  });
}

describe('TestPhone over IPv6', () => {
  it('calls another phone on ::1 and hangs up', async () => {
    const alice = await phone('udp', 'alice', { address: '::1' });
    const bob = await phone('udp', 'bob', { address: '::1' });
    const call = alice.call(uriOf(bob), { destination: bob.endpoint });
    await call.waitFor('answered');
    expect(call.remoteSdp).toContain('IN IP6 ::1');
    expect((await call.bye())?.status).toBe(200);
  });
});

describe('TestPhone resource use', () => {
  it('leaves no transactions and no timers behind once the RFC wait timers have run', async () => {
    const clock = new ManualClock(Date.now());
    const alice = await phone('udp', 'alice', { clock });
    const bob = await phone('udp', 'bob', { clock });
    for (let i = 0; i < 5; i++) {
      const call = alice.call(uriOf(bob), { destination: bob.endpoint });
      await new Promise<void>((resolve) => call.once('answered', () => resolve()));
      const incoming = bob.activeCalls[0]!;
      if (incoming.state !== 'confirmed') await new Promise<void>((resolve) => incoming.once('confirmed', () => resolve()));
      await call.bye();
    }
    expect(alice.stack.stats.transactions).toBeGreaterThan(0);
    clock.advance(64 * TIMERS.t1 + TIMERS.t4);
    expect(alice.stack.stats.transactions).toBe(0);
    expect(bob.stack.stats.transactions).toBe(0);
    expect(clock.pending).toBe(0);
  });
});

/** A raw UDP UAC that sends an INVITE and never ACKs. */
async function rawCaller(target: TestPhone) {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise((r) => sock.close(() => r())));
  const port = sock.address().port;
  const got: Array<SipRequest | SipResponse> = [];
  sock.on('message', (m) => { const p = parseMessage(m); if (p.ok) got.push(p.message); });
  const text = [
    `INVITE ${uriOf(target)} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKraw1;rport`, 'Max-Forwards: 70',
    '<sip:x>'.replace('<sip:x>', `From: <sip:raw@127.0.0.1>;tag=r1`), `To: <${uriOf(target)}>`, 'Call-ID: raw-call-1', 'CSeq: 1 INVITE',
    `Contact: <sip:raw@127.0.0.1:${port}>`, 'Content-Length: 0', '', '',
  ].join('\r\n');
  sock.send(Buffer.from(text), target.endpoint.port, '127.0.0.1');
  const send = (s: string) => sock.send(Buffer.from(s), target.endpoint.port, '127.0.0.1');
  return { got, port, send };
}

describe('TestPhone UAS 2xx reliability (§13.3.1.4)', () => {
  it('MUST retransmit the 2xx until the ACK arrives, then stop', async () => {
    const bob = await phone('udp', 'bob');
    const raw = await rawCaller(bob);
    const oks = () => raw.got.filter((m) => m.kind === 'response' && m.status === 200).length;
    await eventually(() => oks() >= 3 || undefined, 'three 2xx (the first and two retransmissions)');
    const ok = raw.got.find((m) => m.kind === 'response' && m.status === 200) as SipResponse;
    raw.send([
      `ACK ${uriOf(bob)} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${raw.port};branch=z9hG4bKrawack`, 'Max-Forwards: 70',
      'From: <sip:raw@127.0.0.1>;tag=r1', `To: ${ok.get('to')}`, 'Call-ID: raw-call-1', 'CSeq: 1 ACK', 'Content-Length: 0', '', '',
    ].join('\r\n'));
    await eventually(() => bob.kinds().includes('ack') || undefined, 'the phone saw the ACK');
    const after = oks();
    // An absence can only be shown by waiting: longer than the 2xx retransmission interval reached so far (T1 doubling).
    await new Promise((r) => setTimeout(r, 300));
    expect(oks()).toBe(after);
  });

  it('MUST ACK every retransmission of the 2xx on the UAC side (§13.2.2.4)', async () => {
    const alice = await phone('udp', 'alice');
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise((r) => sock.close(() => r())));
    const port = sock.address().port;
    const acks: SipRequest[] = [];
    let answered = false;
    sock.on('message', (m, rinfo) => {
      const p = parseMessage(m);
      if (!p.ok || p.message.kind !== 'request') return;
      const req = p.message;
      if (req.method === 'ACK') acks.push(req);
      // Answer the first INVITE only: a retransmitted one (timer A under load) would bring three more 2xx.
      if (req.method !== 'INVITE' || answered) return;
      answered = true;
      const ok = createResponse(req, Status.OK, undefined, { toTag: 'raw-uas' });
      ok.append('Contact', `<sip:raw@127.0.0.1:${port}>`);
      const bytes = serializeMessage(ok);
      for (const delay of [0, 30, 90]) setTimeout(() => sock.send(bytes, rinfo.port, rinfo.address), delay);
    });
    const call = alice.call(`sip:raw@127.0.0.1:${port}`, { destination: { transport: 'udp', address: '127.0.0.1', port } });
    await call.waitFor('answered');
    await eventually(() => acks.length >= 3 || undefined, 'an ACK for each of the three 2xx');
    expect(acks).toHaveLength(3);
    expect(new Set(acks.map((a) => a.get('cseq')))).toEqual(new Set(['1 ACK']));
  });

  it('MUST send BYE after 64*T1 without ACK', async () => {
    const bob = await phone('udp', 'bob');
    const raw = await rawCaller(bob);
    await eventually(() => raw.got.some((m) => m.kind === 'request' && m.method === 'BYE') || undefined, 'a BYE after 64*T1', 5000);
    expect(bob.kinds()).toEqual(expect.arrayContaining(['ack-timeout', 'bye-sent']));
  });
});

describe('TestPhone digest', () => {
  async function registrar(transport: 'udp' | 'tcp') {
    const stack = await SipStack.create({ listen: [{ transport, address: '127.0.0.1', port: 0 }], timers: TIMERS });
    closers.push(() => stack.close());
    const digest = new DigestServer({ realm: 'example.com', clock: systemClock });
    const contacts: string[] = [];
    stack.onRequest = (req, ctx) => {
      const txn = ctx.transaction;
      if (!txn) return;
      const header = req.method === 'REGISTER' ? 'authorization' : 'proxy-authorization';
      const v = digest.verify(req.get(header), req.method, (u) => (u === 'alice' ? 'secret' : undefined));
      if (!v.ok) {
        const status = req.method === 'REGISTER' ? Status.Unauthorized : Status.ProxyAuthenticationRequired;
        const res = createResponse(req, status, undefined, { toTag: 'reg' });
        res.append(req.method === 'REGISTER' ? 'WWW-Authenticate' : 'Proxy-Authenticate', digest.challenge());
        txn.respond(res);
        return;
      }
      if (req.method === 'REGISTER') contacts.push(`${req.get('contact')};expires=${req.get('expires')}`);
      const res = createResponse(req, req.method === 'REGISTER' ? Status.OK : Status.BusyHere, undefined, { toTag: 'reg' });
      if (req.method === 'REGISTER') res.append('Expires', req.get('expires') ?? '3600');
      txn.respond(res);
    };
    return { stack, contacts, endpoint: stack.listening[0]! };
  }

  for (const transport of ['udp', 'tcp'] as const) {
    it(`registers and unregisters through a 401 challenge over ${transport}`, async () => {
      const reg = await registrar(transport);
      const alice = await phone(transport, 'alice', { password: 'secret', registrar: reg.endpoint });
      expect(await alice.register({ expires: 120 })).toMatchObject({ ok: true, expires: 120 });
      expect(await alice.unregister()).toMatchObject({ ok: true, expires: 0 });
      expect(reg.contacts).toHaveLength(2);
      const mallory = await phone(transport, 'alice', { password: 'wrong', registrar: reg.endpoint });
      expect(await mallory.register()).toMatchObject({ ok: false, status: 401 });
    });
  }

  it('answers a 407 on INVITE with credentials', async () => {
    const reg = await registrar('udp');
    const alice = await phone('udp', 'alice', { password: 'secret', registrar: reg.endpoint });
    const call = alice.call('sip:bob@example.com');
    expect(await call.waitFor('failed')).toMatchObject({ status: 486 });
    expect(alice.kinds()).toContain('auth-retry');
  });
});
