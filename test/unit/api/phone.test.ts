import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from './harness.js';

describe('the softphone page (/phone/)', () => {
  let dist: string;
  let h: Harness;
  let bare: Harness;
  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), 'sb-phone-dist-'));
    mkdirSync(join(dist, 'phone'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dist, 'phone', 'index.html'), '<!doctype html><title>Switchboard softphone</title>');
    h = await makeHarness(undefined, { consoleDir: dist, phone: { path: '/sip', port: 5066, tls_port: 7443 } });
    bare = await makeHarness(undefined, { consoleDir: join(dist, 'missing') });
  });
  afterAll(async () => {
    await h.close();
    await bare.close();
    rmSync(dist, { recursive: true, force: true });
  });

  it('serves the built page with a policy that lets it reach only Switchboard and its SIP WebSocket ports', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/phone/' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('text/html');
    expect(r.body).toContain('Switchboard softphone');
    expect(r.headers['content-security-policy']).toContain("connect-src 'self' ws://*:5066 wss://*:7443;");
    expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect((await h.app.inject({ method: 'GET', url: '/phone' })).headers.location).toBe('/phone/');
  });

  it('tells the page the SIP domain and the WebSocket listeners, and nothing about any account', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/phone/config.json' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ domain: 'test.local', websocket: { path: '/sip', port: 5066, tls_port: 7443 } });
  });

  it('gives the console the same connect-src, for its softphone screen', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/console/' });
    expect(r.headers['content-security-policy']).toContain("connect-src 'self' ws://*:5066 wss://*:7443;");
  });

  it('without WebSocket listeners says so, and without a build answers 503 naming the command', async () => {
    expect((await bare.app.inject({ method: 'GET', url: '/phone/config.json' })).json()).toEqual({ domain: 'test.local', websocket: { path: null, port: null, tls_port: null } });
    const r = await bare.app.inject({ method: 'GET', url: '/phone/' });
    expect(r.statusCode).toBe(503);
    expect(r.body).toContain('npm run build:console');
    expect(r.headers['content-security-policy']).toBeUndefined();
  });

  it('keeps the IP whitelist', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/phone/config.json', remoteAddress: '192.0.2.9' });
    expect(r.statusCode).toBe(401);
  });
});
