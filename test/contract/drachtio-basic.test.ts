/**
 * Contract: drachtio-srf ↔ drachtio-lite, control plane and non-INVITE requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Srf from 'drachtio-srf';
import type { DrachtioLite } from '../../src/drachtio-lite/index.js';
import { connect } from 'node:net';
import { createDrachtioLite, encodeFrame, FrameDecoder } from '../../src/drachtio-lite/index.js';
import { ManualClock } from '../../src/common/clock.js';
import { DrachtioPeer, waitFor } from '../support/drachtio-peer.js';
import { connectApp, disconnectApp, liteUri, routed, sipUdp, startLite, testLogger } from '../support/drachtio-harness.js';

describe('drachtio-lite basics with real drachtio-srf', () => {
  let lite: DrachtioLite;
  let peer: DrachtioPeer;
  const apps: Srf[] = [];

  beforeAll(async () => {
    lite = await startLite();
    peer = await DrachtioPeer.create();
  });
  afterAll(async () => {
    for (const a of apps) disconnectApp(a);
    await peer.close();
    await lite.close();
  });

  it('authenticates with the right secret and reports the SIP endpoints as hostport', async () => {
    const srf = new Srf();
    const hostport = await new Promise<string>((resolve, reject) => {
      srf.on('connect', (err: Error | null, hp: string) => (err ? reject(err) : resolve(hp)));
      srf.connect({ host: '127.0.0.1', port: lite.controlPort, secret: 'cymru' });
    });
    apps.push(srf);
    expect(hostport).toContain(`udp/127.0.0.1:${sipUdp(lite).port}`);
  });

  it('rejects a wrong secret and closes the connection', async () => {
    const srf = new Srf();
    const result = await new Promise<string>((resolve) => {
      srf.on('connect', (err: Error | null) => resolve(err ? err.message : 'connected'));
      srf.on('error', () => undefined);
      srf.connect({ host: '127.0.0.1', port: lite.controlPort, secret: 'wrong', reconnect: { maxAttempts: 1 } });
    });
    expect(result).toMatch(/failed to authenticate/);
    disconnectApp(srf);
  });

  it('answers 503 when no connected app routes any verb (the service is down)', async () => {
    const out = peer.send(peer.newRequest('MESSAGE', liteUri(lite)), sipUdp(lite));
    expect((await out.final).status).toBe(503);
  });

  it('hands OPTIONS to the app that routes it and relays its response', async () => {
    const srf = await connectApp(lite, (s) => s.options((req, res) => {
      res.send(200, { headers: { 'X-App': `seen ${req.method} from ${req.source_address}` } });
    }));
    apps.push(srf);
    await routed(lite, 'options');
    const out = peer.send(peer.newRequest('OPTIONS', liteUri(lite)), sipUdp(lite));
    const res = await out.final;
    expect(res.status).toBe(200);
    expect(res.get('x-app')).toBe('seen OPTIONS from 127.0.0.1');
    expect(res.get('to')).toMatch(/;tag=/);
  });

  it('answers 405 with Allow (the verbs apps route) to a method no app routes, and puts the same Allow in OPTIONS answers', async () => {
    const out = peer.send(peer.newRequest('MESSAGE', liteUri(lite)), sipUdp(lite));
    const res = await out.final;
    expect(res.status).toBe(405);
    expect(res.get('allow')).toBe('ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY');
    const opt = await peer.send(peer.newRequest('OPTIONS', liteUri(lite)), sipUdp(lite)).final;
    expect(opt.get('allow')).toBe('ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY');
    expect(opt.get('supported')).toBe('100rel, timer, replaces');
  });

  it('hands REGISTER to the app (srf.register) with its headers intact', async () => {
    const srf = await connectApp(lite, (s) => s.register((req, res) => {
      res.send(200, { headers: { Contact: `${req.get('Contact')};expires=${req.get('Expires')}`, Expires: req.get('Expires') ?? '0' } });
    }));
    apps.push(srf);
    await routed(lite, 'register');
    const reg = peer.newRequest('REGISTER', liteUri(lite).replace('sip:app@', 'sip:'), { headers: { Expires: '300' } });
    const res = await peer.send(reg, sipUdp(lite)).final;
    expect(res.status).toBe(200);
    expect(res.get('contact')).toContain('expires=300');
  });

  it('sends an app request outside a dialog (srf.request) and relays the response', async () => {
    const srf = apps[0]!;
    peer.autoAnswer = (inc) => {
      if (inc.req.method !== 'MESSAGE') return false;
      peer.respond(inc, 202);
      return true;
    };
    const req = await new Promise<Srf.SrfRequest>((resolve, reject) => {
      srf.request(peer.uri('someone'), { method: 'MESSAGE', headers: { 'Content-Type': 'text/plain' }, body: 'hëllo' }, (err, r) => (err ? reject(err) : resolve(r)));
    });
    expect(req.get('Call-ID')).toBeTruthy();
    expect(req.getParsedHeader('from').params.tag).toBeTruthy();
    const res = await new Promise<Srf.SrfResponse>((resolve) => req.on('response', (r) => resolve(r)));
    expect(res.status).toBe(202);
    peer.autoAnswer = undefined;
  });

  it('answers ping, closes a client that sends a bad frame or a command before authenticate, and keeps serving', async () => {
    const ping = await rawExchange(lite.controlPort, ['a1|authenticate|cymru|', 'p1|ping']);
    expect(ping.frames[1]).toMatch(/^[^|]+\|response\|p1\|OK\|pong$/);
    const early = await rawExchange(lite.controlPort, ['r1|route|invite']);
    expect(early.frames[0]).toMatch(/\|response\|r1\|NO\|/);
    expect(early.closed).toBe(true);
    const bad = await rawBytes(lite.controlPort, Buffer.from('12x#garbage'));
    expect(bad).toBe(true);
    const unknown = await rawExchange(lite.controlPort, ['a1|authenticate|cymru|', 'u1|frobnicate']);
    expect(unknown.frames[1]).toMatch(/\|response\|u1\|NO\|/);
    expect(unknown.closed).toBe(true);
    const again = await rawExchange(lite.controlPort, ['a2|authenticate|cymru|tag1,tag2', 'p2|ping']);
    expect(again.frames[0]).toMatch(/\|response\|a2\|OK\|udp\//);
  });
});

/** Sends frames on a raw control connection; collects replies until the server closes or 300 ms of quiet. */
async function rawExchange(port: number, payloads: string[]): Promise<{ frames: string[]; closed: boolean }> {
  const sock = connect(port, '127.0.0.1');
  const dec = new FrameDecoder();
  const frames: string[] = [];
  let closed = false;
  sock.on('data', (b: Buffer) => { const r = dec.push(b); if (r.ok) frames.push(...r.frames); });
  sock.on('close', () => { closed = true; });
  sock.on('error', () => undefined);
  for (const p of payloads) sock.write(encodeFrame(p));
  await waitFor(() => (closed || frames.length >= payloads.length ? true : undefined), 'control replies', 2000);
  await new Promise((r) => setTimeout(r, 100));
  sock.destroy();
  return { frames, closed };
}

async function rawBytes(port: number, bytes: Buffer): Promise<boolean> {
  const sock = connect(port, '127.0.0.1');
  let closed = false;
  sock.on('close', () => { closed = true; });
  sock.on('error', () => undefined);
  sock.write(bytes);
  await waitFor(() => closed || undefined, 'server to close a bad client', 2000);
  sock.destroy();
  return closed;
}

describe('drachtio-lite control connections on a manual clock', () => {
  it('closes a connection that does not authenticate within 10 s', async () => {
    const clock = new ManualClock();
    const lite = await createDrachtioLite({
      sip: { listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }] },
      control: { address: '127.0.0.1', port: 0 }, secret: 'cymru', log: testLogger(), clock,
    });
    try {
      const sock = connect(lite.controlPort, '127.0.0.1');
      let closed = false;
      sock.on('close', () => { closed = true; });
      sock.on('error', () => undefined);
      await new Promise((r) => sock.once('connect', r));
      await waitFor(() => lite.server.stats.clients === 1 || undefined, 'server sees the client');
      clock.advance(9_999);
      await new Promise((r) => setTimeout(r, 50));
      expect(closed).toBe(false);
      clock.advance(1);
      await waitFor(() => closed || undefined, 'server to close the idle client', 3000);
      sock.destroy();
    } finally {
      await lite.close();
    }
  });
});
