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
