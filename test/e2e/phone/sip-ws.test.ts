/**
 * SIP over WebSocket (RFC 7118) through the whole Switchboard: ws:// on its own port and on the HTTP server's path,
 * wss:// with a certificate made by openssl for this run, the sip subprotocol required, registration bound to the
 * connection (requests reach the device over it; the binding goes when it closes), MD5-only challenges for WebSocket
 * clients, and the connection limits.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { TestPhone } from '../../../src/sip/phone/index.js';
import { ConfigError } from '../../../src/config/index.js';
import { startTestSwitchboard, type TestSwitchboard } from '../../support/switchboard.js';
import { eventually } from '../../support/engine-harness.js';
import { WsSipClient } from '../../support/ws-sip.js';
import { audioSdp } from '../../support/rtp-peer.js';

const DOMAIN = 'switchboard.local';
let dir: string;
let sb: TestSwitchboard;
const clients: WsSipClient[] = [];

function endpoint(transport: 'ws' | 'wss' | 'udp'): { address: string; port: number } {
  const e = sb.sip.find((s) => s.transport === transport);
  if (!e) throw new Error(`no ${transport} listener`);
  return e;
}

async function client(url: string, username = 'alice-desk', extra: Parameters<typeof WsSipClient.connect>[1]['ws'] = undefined): Promise<WsSipClient> {
  const c = await WsSipClient.connect(url, { username, domain: DOMAIN, ...(extra ? { ws: extra } : {}) });
  clients.push(c);
  return c;
}

const wsUrl = (): string => `ws://127.0.0.1:${endpoint('ws').port}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-ws-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  sb = await startTestSwitchboard({
    mutate: (c) => {
      c.sip.digest = 'sha256';
      c.sip.ws = { ...c.sip.ws, port: 0, tls_port: 0, tls_cert: join(dir, 'cert.pem'), tls_key: join(dir, 'key.pem'), http_path: '/sip', max_connections_per_source: 6 };
    },
  });
}, 60_000);

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
});

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await sb?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('SIP over WebSocket (RFC 7118)', () => {
  it('lists ws and wss listeners beside UDP and TCP', () => {
    expect(sb.sip.map((s) => s.transport).sort()).toEqual(['tcp', 'udp', 'ws', 'ws', 'wss']);
  });

  it('refuses a handshake that does not offer the sip subprotocol (RFC 7118 §4.1), on its port and on the HTTP path', async () => {
    for (const url of [wsUrl(), `${sb.baseUrl.replace('http', 'ws')}/sip`]) {
      await expect(WsSipClient.connect(url, { username: 'x', domain: DOMAIN, protocols: ['xmpp'] })).rejects.toMatchObject({ status: 400 });
      await expect(WsSipClient.connect(url, { username: 'x', domain: DOMAIN, protocols: [] })).rejects.toMatchObject({ status: 400 });
      const ok = await client(url);
      expect(ok.ws.protocol).toBe('sip');
      await ok.close();
    }
    // Another path of the HTTP server is not SIP.
    await expect(WsSipClient.connect(`${sb.baseUrl.replace('http', 'ws')}/other`, { username: 'x', domain: DOMAIN })).rejects.toMatchObject({ status: 404 });
  });

  it('challenges a WebSocket REGISTER with MD5 alone even with sip.digest sha256, stamps received on its Via and binds it', async () => {
    const c = await client(wsUrl());
    const { challenge, ok } = await c.registerWithAuth('alice-desk-pw');
    expect(challenge.getAll('www-authenticate').join(', ')).toMatch(/algorithm=MD5/);
    expect(challenge.getAll('www-authenticate').join(', ')).not.toMatch(/SHA-256/);
    // §5: the Via names an .invalid host, so the server adds received (the response went back over the connection).
    expect(ok.get('via')).toMatch(new RegExp(`^SIP/2.0/WS ${c.host.replace('.', '\\.')};branch=[^;]+;received=127\\.0\\.0\\.1`));
    expect(ok.status).toBe(200);
    expect(ok.get('contact')).toContain(c.contact);
    expect(sb.engine.registrations().filter((r) => r.username === 'alice-desk').map((r) => r.contact)).toEqual([c.contact]);
    // A flow-bound binding is never written to the store (it dies with its connection).
    expect((await sb.store.listRegistrations('alice-desk')).map((r) => r.contact)).not.toContain(c.contact);
    await c.close();
    await eventually(() => sb.engine.registrations().every((r) => r.username !== 'alice-desk') || undefined, 'binding removed when the socket closed');
  });

  it('answers a refresh that re-sends a used nc with a fresh stale challenge, not 403 (sip.js refreshes that way)', async () => {
    const c = await client(wsUrl());
    const { challenge } = await c.registerWithAuth('alice-desk-pw');
    const again = await c.register({ challenge: challenge.get('www-authenticate')!, password: 'alice-desk-pw' });
    expect(again.status).toBe(401);
    expect(again.get('www-authenticate')).toMatch(/stale=true/);
  });

  it('sends a call for a WebSocket-registered device over the connection it registered on, and its BYE too', async () => {
    const c = await client(wsUrl());
    expect((await c.registerWithAuth('alice-desk-pw')).ok.status).toBe(200);
    const caller = await TestPhone.create({ transport: 'udp', username: 'bob-desk', password: 'bob-desk-pw', domain: DOMAIN, registrar: { transport: 'udp', ...endpoint('udp') } });
    try {
      expect((await caller.register()).ok).toBe(true);
      const call = caller.call(`sip:1001@${DOMAIN}`, { sdp: audioSdp(40000) });
      const invite = await c.nextRequest('INVITE');
      expect(invite.uri).toBe(c.contact);
      expect(invite.get('via')).toMatch(/^SIP\/2\.0\/WS /);
      expect(invite.get('contact')).toMatch(/;transport=ws/);
      c.respond(invite, 180, 'Ringing', { toTag: 'wsphone' });
      c.respond(invite, 200, 'OK', { toTag: 'wsphone', contact: true, body: audioSdp(40002) });
      await c.nextRequest('ACK');
      await call.waitFor('answered', 8000);
      void call.bye();
      const bye = await c.nextRequest('BYE');
      expect(bye.uri).toBe(c.contact);
      c.respond(bye, 200, 'OK');
    } finally {
      await caller.close();
    }
  });

  it('REGISTERs over wss:// with the configured certificate (and over the HTTP server path)', async () => {
    const tls = await client(`wss://127.0.0.1:${endpoint('wss').port}`, 'bob-soft', { rejectUnauthorized: false });
    const r = await tls.registerWithAuth('bob-soft-pw');
    expect(r.ok.status).toBe(200);
    expect(r.ok.get('via')).toMatch(/^SIP\/2\.0\/WS .*received=127\.0\.0\.1/);
    const onPath = await client(`${sb.baseUrl.replace('http', 'ws')}/sip`, 'alice-mobile');
    expect((await onPath.registerWithAuth('alice-mobile-pw')).ok.status).toBe(200);
    await tls.close();
    await onPath.close();
  });

  it('replaces the binding of the same +sip.instance and reg-id when the phone comes back on a new connection (RFC 5626 §6)', async () => {
    const instance = ';+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000001>";reg-id=1';
    const first = await client(wsUrl(), 'bob-desk');
    const a = await first.registerWithAuth('bob-desk-pw', { extraContact: instance });
    expect(a.ok.get('require')).toBe('outbound');
    const second = await client(wsUrl(), 'bob-desk');
    await second.registerWithAuth('bob-desk-pw', { extraContact: instance });
    // (bob-desk's UDP phone of the call test may still be bound: only the WebSocket flows count here)
    expect(sb.engine.registrations().filter((r) => r.username === 'bob-desk' && r.contact.includes('.invalid')).map((r) => r.contact)).toEqual([second.contact]);
    await first.close();
    await second.close();
  });

  it('refuses a handshake beyond sip.ws.max_connections_per_source with 503', async () => {
    const open: WsSipClient[] = [];
    for (let i = 0; i < 6; i++) open.push(await client(wsUrl()));
    await expect(WsSipClient.connect(wsUrl(), { username: 'x', domain: DOMAIN })).rejects.toMatchObject({ status: 503 });
    for (const c of open) await c.close();
    await eventually(async () => {
      try {
        const again = await client(wsUrl());
        await again.close();
        return true;
      } catch {
        return undefined;
      }
    }, 'a slot is free again once they closed');
  });

  it('closes a connection whose message is over the size limit (1009) and answers a garbage request with 400', async () => {
    const c = await client(wsUrl());
    c.send(`OPTIONS sip:${DOMAIN} SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bKbad\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCSeq: 1 OPTIONS\r\n\r\n`);
    const bad = await c.next((m) => m.kind === 'response');
    expect(bad.kind === 'response' && `${bad.status} ${bad.reason}`).toMatch(/^400 .*Call-ID/);
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    c.send(`OPTIONS sip:${DOMAIN} SIP/2.0\r\nX-Pad: ${'a'.repeat(70_000)}\r\n\r\n`);
    expect(await closed).toBe(1009);
  });
});

describe('SIP over WebSocket configuration', () => {
  it('refuses to start with an unreadable tls_key, naming the key', async () => {
    const d = mkdtempSync(join(tmpdir(), 'sb-ws-bad-'));
    writeFileSync(join(d, 'cert.pem'), 'not a certificate');
    try {
      const err = await startTestSwitchboard({ mutate: (c) => { c.sip.ws = { ...c.sip.ws, tls_port: 0, tls_cert: join(d, 'cert.pem'), tls_key: join(d, 'missing.pem') }; } }).then(
        async (s) => { await s.stop(); return undefined; }, (e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues[0]).toMatchObject({ path: 'sip.ws.tls_key' });
      expect((err as Error).message).toMatch(/missing\.pem/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('destroys a WebSocket that answers no ping for sip.ws.idle_timeout_s, keeps one that does', async () => {
    const s = await startTestSwitchboard({ mutate: (c) => { c.sip.ws = { ...c.sip.ws, port: 0, idle_timeout_s: 3 }; } });
    try {
      const port = s.sip.find((e) => e.transport === 'ws')!.port;
      const quiet = new WebSocket(`ws://127.0.0.1:${port}`, ['sip'], { autoPong: false });
      const lively = new WebSocket(`ws://127.0.0.1:${port}`, ['sip']);
      await Promise.all([quiet, lively].map((w) => new Promise((r) => w.once('open', r))));
      const t0 = Date.now();
      await new Promise((r) => quiet.once('close', r));
      expect(Date.now() - t0).toBeGreaterThanOrEqual(2900);
      // The one that answers pings is kept.
      expect(lively.readyState).toBe(WebSocket.OPEN);
      lively.close();
    } finally {
      await s.stop();
    }
  }, 20_000);
});
