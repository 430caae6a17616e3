/**
 * Binding flood against a running Switchboard (issue 11): one device's credentials used to register ever more
 * contacts. Beyond `sip.max_contacts_per_device` the REGISTER gets 503 Too many registered contacts (Kamailio's
 * answer), nothing of it is bound, and the device's existing bindings still receive calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { SipStack } from '../../../src/sip/index.js';
import { TestPhone, type IncomingCall } from '../../../src/sip/phone/index.js';
import { startTestSwitchboard, type TestSwitchboard } from '../../support/switchboard.js';
import { boundContacts, rawStack, register } from '../../support/engine-sip.js';

const DOMAIN = 'switchboard.local';
const MAX = 4;

describe('binding flood: per-device contact limit', () => {
  let sb: TestSwitchboard;
  let raw: SipStack;
  const phones: TestPhone[] = [];
  const pbx = () => ({ transport: 'udp' as const, address: '127.0.0.1', port: Number(sb.sipTarget.split(':')[1]) });
  const phone = async (username: string, onIncoming?: (c: IncomingCall) => void): Promise<TestPhone> => {
    const p = await TestPhone.create({
      transport: 'udp', username, password: `${username}-pw`, domain: DOMAIN, registrar: pbx(), log: pino({ level: 'silent' }),
      ...(onIncoming ? { onIncoming } : {}),
    });
    phones.push(p);
    return p;
  };
  const alice = (contacts: string[], o: { callId?: string; cseq?: number; expires?: number } = {}) =>
    register(raw, pbx(), { username: 'alice-mobile', password: 'alice-mobile-pw', domain: DOMAIN, contacts, ...o });

  beforeAll(async () => {
    sb = await startTestSwitchboard({ mutate: (c) => { c.sip.max_contacts_per_device = MAX; } });
    raw = await rawStack();
  });
  afterAll(async () => {
    for (const p of phones) await p.close();
    await raw?.close();
    await sb?.stop();
  });

  it(`answers the REGISTER that would bind contact ${MAX + 1} with 503 Too many registered contacts and binds none of it`, async () => {
    // The real phone's binding comes first; the flood adds fake contacts up to the limit.
    const real = await phone('alice-mobile', (c) => c.answer());
    expect((await real.register({ expires: 300 })).ok).toBe(true);
    for (let i = 1; i < MAX; i++) expect((await alice([`<sip:flood${i}@127.0.0.1:${7000 + i}>`])).res?.status).toBe(200);

    const over = await alice([`<sip:flood${MAX}@127.0.0.1:${7000 + MAX}>`]);
    expect(over.res?.status).toBe(503);
    expect(over.res?.reason).toBe('Too many registered contacts');
    // Two new contacts in one REGISTER when one slot is free: refused as a whole (RFC 3261 §10.3 is atomic).
    await alice([`<sip:flood1@127.0.0.1:7001>`], { expires: 0, callId: 'drop-one' });
    const two = await alice(['<sip:flood8@127.0.0.1:7008>', '<sip:flood9@127.0.0.1:7009>']);
    expect(two.res?.status).toBe(503);
    const bound = sb.engine.registrations().filter((r) => r.username === 'alice-mobile').map((r) => r.contact);
    expect(bound).toHaveLength(MAX - 1);
    expect(bound.some((c) => /flood[89]|flood4/.test(c))).toBe(false);
  });

  it('still allows a refresh and a swap (remove one, add one) at the limit', async () => {
    expect((await alice(['<sip:flood5@127.0.0.1:7005>'])).res?.status).toBe(200); // back at MAX
    const refresh = await alice(['<sip:flood2@127.0.0.1:7002>'], { expires: 600 });
    expect(refresh.res?.status).toBe(200);
    expect(boundContacts(refresh.res)).toHaveLength(MAX);
    const swap = await alice(['<sip:flood2@127.0.0.1:7002>;expires=0', '<sip:flood6@127.0.0.1:7006>']);
    expect(swap.res?.status).toBe(200);
    expect(boundContacts(swap.res).map((c) => c.uri).sort()).toContain('sip:flood6@127.0.0.1:7006');
    expect(boundContacts(swap.res)).toHaveLength(MAX);
  });

  it('keeps the existing bindings working: a call to the user reaches the real phone after the flood', async () => {
    const real = phones[0]!;
    const caller = await phone('bob-desk');
    const incoming = real.waitForIncoming(8000);
    const out = caller.call(`sip:1001@${DOMAIN}`);
    await incoming;
    await out.waitFor('answered', 8000);
    await out.bye();
  });
});
