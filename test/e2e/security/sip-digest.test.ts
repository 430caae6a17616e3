/**
 * Digest at the SIP edge of a running Switchboard (issues 11 and 12), over real sockets: one MD5 challenge by
 * default, SHA-256 only for a device that opts in, several Authorization headers, the digest uri checked against
 * the Request-URI, no-qop answers refused, and trunk credentials answered for MD5 and SHA-256 carriers (SIPp).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeAuthorization, DigestServer, parseAuthParams, SipRequest, type SipStack } from '../../../src/sip/index.js';
import { TestPhone } from '../../../src/sip/phone/index.js';
import { systemClock } from '../../../src/common/clock.js';
import { killAllSipp, runSipp, freePort } from '../../support/sipp.js';
import { startTestSwitchboard, type TestSwitchboard } from '../../support/switchboard.js';
import { rawStack, send } from '../../support/engine-sip.js';

describe('SIP edge: digest', () => {
  let sb: TestSwitchboard;
  let raw: SipStack;
  let trunkPort: number;
  const pbx = () => ({ transport: 'udp' as const, address: '127.0.0.1', port: Number(sb.sipTarget.split(':')[1]) });
  const domain = 'switchboard.local';

  beforeAll(async () => {
    trunkPort = await freePort();
    sb = await startTestSwitchboard({
      mutate: (c) => {
        c.trunks[0] = { ...c.trunks[0]!, host: '127.0.0.1', port: trunkPort, transport: 'udp', username: 'pbx-trunk', password: 'trunk-secret' };
      },
    });
    raw = await rawStack();
  });
  afterAll(async () => {
    killAllSipp();
    await raw?.close();
    await sb?.stop();
  });

  const registerReq = (auth?: string[], uri = `sip:${domain}`): SipRequest => {
    const req = new SipRequest('REGISTER', uri);
    req.append('From', `<sip:alice-desk@${domain}>;tag=${randomBytes(4).toString('hex')}`);
    req.append('To', `<sip:alice-desk@${domain}>`);
    req.append('Call-ID', randomBytes(8).toString('hex'));
    req.append('CSeq', '1 REGISTER');
    req.append('Contact', '<sip:alice@127.0.0.1:5999>');
    for (const a of auth ?? []) req.append('Authorization', a);
    return req;
  };
  const challenge = async (): Promise<string> => {
    const res = await send(raw, registerReq(), pbx());
    expect(res?.status).toBe(401);
    return res!.getAll('www-authenticate')[0]!;
  };
  const creds = (ch: string, extra: { uri?: string } = {}) =>
    computeAuthorization(ch, { username: 'alice-desk', password: 'alice-desk-pw', method: 'REGISTER', uri: extra.uri ?? `sip:${domain}` });

  it('sends exactly one MD5 challenge by default (what baresip 1.0, sip.js and sofia-sip can all answer)', async () => {
    const res = await send(raw, registerReq(), pbx());
    expect(res?.status).toBe(401);
    expect(res!.getAll('www-authenticate')).toHaveLength(1);
    expect(res!.get('www-authenticate')).toMatch(/algorithm=MD5, qop="auth"$/);
  });

  it('verifies, among several Authorization headers, the one answering a nonce it issued', async () => {
    const foreign = creds(new DigestServer({ realm: domain, clock: systemClock }).challenge());
    const carrier = creds((await challenge()).replace(`realm="${domain}"`, 'realm="carrier.example"'));
    const ours = creds(await challenge());
    const res = await send(raw, registerReq([foreign, carrier, ours]), pbx());
    expect(res?.status).toBe(200);
  });

  it('answers 400 when the digest uri is not the Request-URI (a response lifted from another request)', async () => {
    const res = await send(raw, registerReq([creds(await challenge(), { uri: 'sip:elsewhere.example' })]), pbx());
    expect(res?.status).toBe(400);
    expect(res?.reason).toMatch(/uri/i);
  });

  it('refuses a response without qop=auth (replayable) with a fresh challenge', async () => {
    const noQop = creds((await challenge()).replace(', qop="auth"', ''));
    expect(noQop).not.toContain('qop=');
    const res = await send(raw, registerReq([noQop]), pbx());
    expect(res?.status).toBe(401);
  });

  for (const alg of ['MD5', 'SHA-256'] as const) {
    it(`answers a carrier's ${alg} 407 with ${alg} credentials on the same Call-ID, CSeq + 1 (SIPp trunk)`, async () => {
      const trunk = await runSipp({ scenario: 'trunk-challenge.xml', port: trunkPort, calls: 1, timeoutS: 20, extra: ['-key', 'alg', alg, '-trace_logs'] });
      await new Promise((r) => setTimeout(r, 300));
      const alice = await TestPhone.create({ transport: 'udp', username: 'alice-desk', password: 'alice-desk-pw', domain, registrar: pbx(), timers: { t1: 100, t2: 400, t4: 500 } });
      try {
        expect((await alice.register({ expires: 120 })).ok).toBe(true);
        const out = alice.call(`sip:+61299998888@${domain}`);
        await out.waitFor('answered', 10_000);
        await out.bye();
        const result = await trunk.done;
        expect(result.code, result.errors).toBe(0);
        const logFile = readdirSync(trunk.dir).find((f) => f.endsWith('_logs.log'))!;
        const line = readFileSync(join(trunk.dir, logFile), 'utf8').split('\n').find((l) => l.startsWith('AUTH|'))!;
        const [, auth, , cseq, ruri] = line.split('|');
        const p = parseAuthParams(auth!.trim()).params;
        expect(p['algorithm']).toBe(alg);
        expect(p['username']).toBe('pbx-trunk');
        expect(cseq!.trim()).toBe('2 INVITE');
        // The response must be what a carrier computes with the shared secret.
        const expected = parseAuthParams(computeAuthorization(
          `Digest realm="carrier.example", nonce="${p['nonce']}", algorithm=${alg}, qop="auth"`,
          { username: 'pbx-trunk', password: 'trunk-secret', method: 'INVITE', uri: p['uri']!, cnonce: p['cnonce']!, nc: parseInt(p['nc']!, 16) },
        )).params['response'];
        expect(p['response']).toBe(expected);
        expect(p['uri']).toBe(ruri!.trim());
      } finally {
        trunk.kill();
        await alice.close();
      }
    });
  }
});
