/**
 * The test phone and SipStack against SIPp, an independent SIP implementation, over UDP and TCP.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TestPhone } from '../../../src/sip/phone/index.js';
import { killAllSipp, runSipp } from '../../support/sipp.js';

const TIMERS = { t1: 100, t2: 400, t4: 500 };
const phones: TestPhone[] = [];
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
});
afterAll(() => killAllSipp());

async function phone(transport: 'udp' | 'tcp'): Promise<TestPhone> {
  const p = await TestPhone.create({ transport, username: 'phone', domain: '127.0.0.1', registrar: { transport, address: '127.0.0.1', port: 9 }, timers: TIMERS });
  phones.push(p);
  return p;
}

for (const transport of ['udp', 'tcp'] as const) {
  const t = transport === 'udp' ? 'u1' : 't1';
  describe(`phone ⇄ SIPp over ${transport}`, () => {
    it('answers SIPp calls (INVITE, 180, 200, ACK, BYE from SIPp)', async () => {
      const p = await phone(transport);
      p.onIncoming = (c) => { c.ring(); c.answer({ afterMs: 20 }); };
      const run = await runSipp({ scenario: 'uac-invite-bye.xml', target: `127.0.0.1:${p.endpoint.port}`, transport: t, calls: 5, timeoutS: 20, extra: ['-s', 'phone', '-d', '50', '-r', '20'] });
      const res = await run.done;
      expect(res.code, res.errors || res.stdout.slice(-2000)).toBe(0);
      expect(p.kinds().filter((k) => k === 'bye-received')).toHaveLength(5);
      expect(p.activeCalls).toHaveLength(0);
    });

    it('answers a SIPp CANCEL with 200 and the INVITE with 487 (and absorbs the ACK)', async () => {
      const p = await phone(transport);
      p.onIncoming = (c) => c.ring();
      const run = await runSipp({ scenario: 'uac-cancel.xml', target: `127.0.0.1:${p.endpoint.port}`, transport: t, calls: 3, timeoutS: 20, extra: ['-s', 'phone'] });
      const res = await run.done;
      expect(res.code, res.errors || res.stdout.slice(-2000)).toBe(0);
      expect(p.kinds().filter((k) => k === 'cancelled')).toHaveLength(3);
    });

    it('reports SIPp 486 and cancels a ringing SIPp callee', async () => {
      const p = await phone(transport);
      const tp = transport === 'tcp' ? ';transport=tcp' : '';
      const busy = await runSipp({ scenario: 'uas-busy.xml', transport: t, calls: 1, timeoutS: 20 });
      const ringing = await runSipp({ scenario: 'uas-ring-cancel.xml', transport: t, calls: 1, timeoutS: 20 });
      await new Promise((r) => setTimeout(r, 300)); // let SIPp bind
      const c1 = p.call(`sip:busy@127.0.0.1:${busy.port}${tp}`, { destination: { transport, address: '127.0.0.1', port: busy.port } });
      expect(await c1.waitFor('failed', 10_000)).toMatchObject({ status: 486 });
      const c2 = p.call(`sip:ring@127.0.0.1:${ringing.port}${tp}`, { destination: { transport, address: '127.0.0.1', port: ringing.port } });
      await c2.waitFor('progress', 10_000);
      c2.cancel();
      expect(await c2.waitFor('failed', 10_000)).toMatchObject({ status: 487 });
      for (const run of [busy, ringing]) {
        const res = await run.done;
        expect(res.code, res.errors || res.stdout.slice(-2000)).toBe(0);
      }
    });

    it('re-INVITEs a SIPp callee in the dialog', async () => {
      const p = await phone(transport);
      const tp = transport === 'tcp' ? ';transport=tcp' : '';
      const run = await runSipp({ scenario: 'uas-answer-reinvite.xml', transport: t, calls: 1, timeoutS: 20 });
      await new Promise((r) => setTimeout(r, 300));
      const call = p.call(`sip:sipp@127.0.0.1:${run.port}${tp}`, { destination: { transport, address: '127.0.0.1', port: run.port } });
      await call.waitFor('answered', 10_000);
      const re = await call.reinvite('v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n');
      expect(re?.status).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
      expect((await call.bye())?.status).toBe(200);
      const res = await run.done;
      expect(res.code, res.errors || res.stdout.slice(-2000)).toBe(0);
    });

    it('calls SIPp and hangs up (INVITE, 180, 200, ACK, BYE from the phone)', async () => {
      const p = await phone(transport);
      const run = await runSipp({ scenario: 'uas-answer.xml', transport: t, calls: 1, timeoutS: 20, extra: ['-d', '50'] });
      await new Promise((r) => setTimeout(r, 300)); // let SIPp bind
      const call = p.call(`sip:sipp@127.0.0.1:${run.port}${transport === 'tcp' ? ';transport=tcp' : ''}`, { destination: { transport, address: '127.0.0.1', port: run.port } });
      await call.waitFor('answered', 10_000);
      const bye = await call.bye();
      expect(bye?.status).toBe(200);
      const res = await run.done;
      expect(res.code, res.errors || res.stdout.slice(-2000)).toBe(0);
    });
  });
}
