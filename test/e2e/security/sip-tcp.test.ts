/**
 * Attacks on the TCP edge of a running Switchboard (issue 11), over real sockets on 127.0.0.1: more connections from
 * one address than allowed, garbage and broken framing, a connection that says nothing, and a peer that sends
 * requests but never reads the answers. Clients are half-open capable (`allowHalfOpen`): a server that only ended a
 * socket would keep it until the client's FIN, so "closed" here means destroyed.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ALIASES_PER_CONNECTION } from '../../../src/sip/index.js';
import { startTestSwitchboard, type TestSwitchboard } from '../../support/switchboard.js';

const PER_SOURCE = 4;
const IDLE_S = 2;
const WRITE_LIMIT_KIB = 256;

let sb: TestSwitchboard;
const clients: net.Socket[] = [];
const port = () => sb.sip.find((e) => e.transport === 'tcp')!.port;
const tcp = () => sb.sipStats()!.tcp;

/** A client connection that collects what it receives and notes when the server closes it. */
function open(): Promise<{ sock: net.Socket; data: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port: port(), allowHalfOpen: true });
    clients.push(sock);
    let data = '';
    sock.on('data', (d) => { data += d.toString('latin1'); });
    sock.on('error', () => undefined);
    const closed = new Promise<void>((r) => { sock.once('end', () => r()); sock.once('close', () => r()); });
    sock.once('connect', () => resolve({ sock, data: () => data, closed }));
    sock.once('error', reject);
  });
}

function options(localPort: number, extra: string[] = [], body = ''): string {
  return [
    'OPTIONS sip:switchboard.local SIP/2.0',
    `Via: SIP/2.0/TCP 127.0.0.1:${localPort};branch=z9hG4bK${randomBytes(6).toString('hex')}`,
    'Max-Forwards: 70',
    `From: <sip:probe@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`,
    'To: <sip:switchboard.local>',
    `Call-ID: ${randomBytes(8).toString('hex')}`,
    'CSeq: 1 OPTIONS',
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '', body,
  ].join('\r\n');
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const closedWithin = (c: { closed: Promise<void> }, ms: number): Promise<boolean> =>
  Promise.race([c.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

beforeAll(async () => {
  sb = await startTestSwitchboard({
    mutate: (c) => {
      c.sip.tcp.max_connections_per_source = PER_SOURCE;
      c.sip.tcp.idle_timeout_s = IDLE_S;
      c.sip.tcp.write_buffer_limit_kib = WRITE_LIMIT_KIB;
    },
  });
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await sb?.stop();
});

describe('TCP edge attacks', () => {
  it(`refuses connections beyond ${PER_SOURCE} from one source at once, and the admitted ones keep working`, async () => {
    const before = tcp().refused;
    const conns = [];
    for (let i = 0; i < PER_SOURCE + 3; i++) conns.push(await open());
    const admitted = conns.slice(0, PER_SOURCE);
    const extra = conns.slice(PER_SOURCE);
    for (const c of extra) expect(await closedWithin(c, 3000), 'an extra connection was closed').toBe(true);
    expect(extra.every((c) => c.data() === '')).toBe(true);
    expect(tcp().refused - before).toBe(3);
    for (const c of admitted) c.sock.write(options(c.sock.localPort!));
    await until('200 on every admitted connection', () => admitted.every((c) => c.data().startsWith('SIP/2.0 200')));
    for (const c of admitted) c.sock.destroy();
    await until('the admitted connections to be gone', () => tcp().connections === 0 || undefined);
    // Slots come back when connections close.
    const again = await open();
    again.sock.write(options(again.sock.localPort!));
    await until('200 on a new connection', () => again.data().startsWith('SIP/2.0 200'));
    again.sock.destroy();
    await until('no connection left', () => tcp().connections === 0 || undefined);
  });

  it('destroys the socket on garbage with no end of headers (over 64 KiB), without waiting for the client to close', async () => {
    const c = await open();
    const before = tcp().dropped.framing;
    c.sock.write(Buffer.alloc(70_000, 0x41));
    expect(await closedWithin(c, 5000)).toBe(true);
    expect(tcp().dropped.framing).toBe(before + 1);
    await until('the server socket to be closed, not half-open', () => tcp().sockets === 0 || undefined);
  });

  it('answers a bad Content-Length with a 400 carrying the Via, then destroys the socket', async () => {
    const c = await open();
    c.sock.write(options(c.sock.localPort!).replace(/Content-Length: 0/, 'Content-Length: abc'));
    expect(await closedWithin(c, 5000)).toBe(true);
    expect(c.data()).toMatch(/^SIP\/2\.0 400 /);
    expect(c.data()).toContain(`Via: SIP/2.0/TCP 127.0.0.1:${c.sock.localPort}`);
    await until('the server socket to be closed', () => tcp().sockets === 0 || undefined);
  });

  it("answers a '|' in the From tag on TCP with a 400 the client can read, and keeps the connection", async () => {
    const c = await open();
    c.sock.write(options(c.sock.localPort!).replace(/;tag=[0-9a-f]+/, ';tag=a|network|b'));
    await until('a 400', () => /^SIP\/2\.0 400 .*From/.test(c.data()) || undefined);
    expect(c.data()).toContain('From: <sip:probe@127.0.0.1>\r\n');
    c.sock.write(options(c.sock.localPort!));
    await until('a 200 on the same connection', () => c.data().includes('SIP/2.0 200'));
    c.sock.destroy();
  });

  it('keeps at most MAX_ALIASES_PER_CONNECTION aliases for a connection that writes a new Via port in every request', async () => {
    const c = await open();
    for (let i = 0; i < 40; i++) c.sock.write(options(20_000 + i));
    await until('40 answers', () => (c.data().match(/SIP\/2\.0 200/g)?.length ?? 0) >= 40 || undefined);
    // The connection's own address plus at most 8 aliases.
    expect(tcp().peerEntries).toBeLessThanOrEqual(1 + MAX_ALIASES_PER_CONNECTION);
    c.sock.destroy();
    await until('the table to empty', () => tcp().peerEntries === 0 || undefined);
  });

  it(`destroys a connection that sends nothing for sip.tcp.idle_timeout_s (${IDLE_S} s)`, async () => {
    const c = await open();
    const before = tcp().dropped.idle;
    expect(await closedWithin(c, IDLE_S * 1000 + 4000)).toBe(true);
    expect(tcp().dropped.idle).toBe(before + 1);
    await until('the server socket to be closed', () => tcp().sockets === 0 || undefined);
  });

  it('stops reading from a peer that never reads its answers, keeps what it queues under the limit, and drops it', async () => {
    const c = await open();
    c.sock.pause(); // never read: the kernel buffers fill, then the server's own queue would grow
    const before = tcp().dropped['slow-reader'];
    // Each request is skipped by the framer (bad CSeq) and answered with a 400 that copies its ~7 KB To line: a fast
    // way to make many answers. The first megabytes fill the loopback buffers.
    const to = `To: "${'x'.repeat(7000)}" <sip:switchboard.local>`;
    const req = options(c.sock.localPort!, [], '').replace('To: <sip:switchboard.local>', to).replace('CSeq: 1 OPTIONS', 'CSeq: one OPTIONS');
    const chunk = Buffer.from(req.repeat(20));
    let written = 0;
    let closed = false;
    void c.closed.then(() => { closed = true; });
    // Write until our own socket backs up (the server stopped reading) or the server dropped us.
    while (!closed && written < 200 * 1024 * 1024) {
      if (!c.sock.write(chunk)) await Promise.race([new Promise((r) => c.sock.once('drain', r)), new Promise((r) => setTimeout(r, 500))]);
      written += chunk.length;
      if (c.sock.writableLength > 4 * 1024 * 1024) break;
    }
    await until('the server to pause reading or drop the peer', () => tcp().paused > 0 || closed || undefined);
    expect(tcp().maxQueuedBytes).toBeLessThanOrEqual(WRITE_LIMIT_KIB * 1024 + 16 * 1024);
    // Blocked for an idle timeout: destroyed (or at once, had its queue passed the limit).
    expect(await closedWithin(c, IDLE_S * 1000 + 6000)).toBe(true);
    expect(tcp().dropped['slow-reader']).toBeGreaterThan(before);
    await until('the server socket to be closed', () => tcp().sockets === 0 || undefined);
    expect(tcp().queuedBytes).toBe(0);
  });
});
