/**
 * Attacks on the SIP edge of a running Switchboard (issue 11), each over a raw UDP socket on 127.0.0.1: a forged
 * `received`, request lines srf cannot read, drachtio-wire separators in Call-ID and tags, the registrar lockout
 * of an office behind one NAT address.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessage, type SipResponse } from '../../../src/sip/index.js';
import { startTestSwitchboard, type TestSwitchboard } from '../../support/switchboard.js';
import { rawStack, register } from '../../support/engine-sip.js';

describe('SIP edge attacks', () => {
  let sb: TestSwitchboard;
  let sock: dgram.Socket;
  let port: number;
  const waiting: Array<(r: SipResponse) => void> = [];
  const pbxPort = () => Number(sb.sipTarget.split(':')[1]);

  beforeAll(async () => {
    sb = await startTestSwitchboard();
    sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    port = sock.address().port;
    sock.on('message', (m) => {
      const p = parseMessage(m);
      if (p.ok && p.message.kind === 'response' && p.message.status >= 200) waiting.shift()?.(p.message);
    });
  });
  afterAll(async () => {
    await new Promise<void>((r) => sock.close(() => r()));
    await sb?.stop();
  });

  /** Sends raw request text (lines joined with CRLF) and resolves with the first final response, or undefined. */
  const exchange = (lines: string[], timeoutMs = 3000): Promise<SipResponse | undefined> =>
    new Promise((resolve) => {
      const t = setTimeout(() => { waiting.splice(waiting.indexOf(done), 1); resolve(undefined); }, timeoutMs);
      const done = (r: SipResponse) => { clearTimeout(t); resolve(r); };
      waiting.push(done);
      sock.send(Buffer.from([...lines, 'Content-Length: 0', '', ''].join('\r\n')), pbxPort(), '127.0.0.1');
    });
  const request = (o: { line?: string; via?: string; callId?: string; fromTag?: string; toTag?: string; method?: string } = {}): string[] => {
    const method = o.method ?? 'OPTIONS';
    return [
      o.line ?? `${method} sip:switchboard.local SIP/2.0`,
      `Via: ${o.via ?? `SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${randomBytes(6).toString('hex')}`}`,
      'Max-Forwards: 70',
      `From: <sip:probe@127.0.0.1>;tag=${o.fromTag ?? randomBytes(4).toString('hex')}`,
      `To: <sip:switchboard.local>${o.toTag !== undefined ? `;tag=${o.toTag}` : ''}`,
      `Call-ID: ${o.callId ?? randomBytes(8).toString('hex')}`,
      `CSeq: 1 ${method}`,
    ];
  };

  it('overwrites a client-supplied received= (no rport): the response comes back to the packet source, not the named third party', async () => {
    const res = await exchange(request({ via: `SIP/2.0/UDP 127.0.0.1:${port};received=192.0.2.99;branch=z9hG4bK${randomBytes(6).toString('hex')}` }));
    expect(res?.status).toBe(200);
    expect(res!.get('via')).toContain('received=127.0.0.1');
    expect(res!.get('via')).not.toContain('192.0.2.99');
  });

  it('answers a request line with lowercase sip/2.0 (which drachtio-srf cannot read) with 400, not 100 Trying and a 180 s hold', async () => {
    const res = await exchange(request({ method: 'INVITE', line: 'INVITE sip:+61390000000@switchboard.local sip/2.0' }));
    expect(res?.status).toBe(400);
    expect(res?.reason).toMatch(/upper-case SIP\/2\.0/);
  });

  it('answers another SIP version with 505 (RFC 3261 §8.2.1)', async () => {
    const res = await exchange(request({ line: 'OPTIONS sip:switchboard.local SIP/3.0' }));
    expect(res?.status).toBe(505);
  });

  it(`refuses a '|' (a drachtio-wire separator) in the Call-ID with 400`, async () => {
    const res = await exchange(request({ callId: 'abc|network|forged' }));
    expect(res?.status).toBe(400);
    expect(res?.reason).toContain('Call-ID');
  });

  for (const [what, opts] of [
    ['From tag of an OPTIONS', { fromTag: 'abc|network|forged' }],
    ['From tag of an INVITE', { method: 'INVITE', fromTag: 'a|b' }],
    ['To tag of an OPTIONS', { toTag: 'x|application|y' }],
    ['Call-ID of an INVITE', { method: 'INVITE', callId: 'c|sip|d@host' }],
  ] as const) {
    it(`answers a '|' (a drachtio-wire separator) in the ${what} with 400 naming the header, not silence`, async () => {
      const res = await exchange(request(opts));
      expect(res?.status).toBe(400);
      expect(res?.reason).toContain(what.split(' ')[0] === 'Call-ID' ? 'Call-ID' : what.split(' ')[0]);
    });
  }

  it('counts failures per (source, username): 25 wrong REGISTERs for one user do not lock out another user at the same address', async () => {
    const raw = await rawStack();
    try {
      for (let i = 0; i < 25; i++) await register(raw, { transport: 'udp', address: '127.0.0.1', port: pbxPort() }, { username: 'alice-desk', password: 'wrong', domain: 'switchboard.local', contacts: ['<sip:a@127.0.0.1:6100>'] });
      const blocked = await register(raw, { transport: 'udp', address: '127.0.0.1', port: pbxPort() }, { username: 'alice-desk', password: 'alice-desk-pw', domain: 'switchboard.local', contacts: ['<sip:a@127.0.0.1:6100>'] });
      expect(blocked.res?.status).toBe(403);
      const other = await register(raw, { transport: 'udp', address: '127.0.0.1', port: pbxPort() }, { username: 'bob-desk', password: 'bob-desk-pw', domain: 'switchboard.local', contacts: ['<sip:b@127.0.0.1:6101>'] });
      expect(other.res?.status).toBe(200);
    } finally {
      await raw.close();
    }
  });
});
