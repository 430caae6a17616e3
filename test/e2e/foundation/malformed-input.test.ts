/**
 * Bad input never breaks the PBX (issue 2): a randomized stream of mutated SIP messages (truncation, byte flips,
 * huge headers, bogus Content-Length, random bytes) over UDP and TCP, each batch followed by an OPTIONS that must
 * still get 200. Requests whose Via is readable but that are otherwise broken get a 400 naming the problem.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSwitchboard, type TestSwitchboard } from '../../support/switchboard.js';
import { prng } from '../../support/prng.js';

let sb: TestSwitchboard;
let udp: UdpSocket;
let udpPort: number;
const inbox: string[] = [];

beforeAll(async () => {
  sb = await startTestSwitchboard();
  udp = createSocket('udp4');
  udp.on('message', (m) => inbox.push(m.toString('latin1')));
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  udpPort = udp.address().port;
});

afterAll(async () => {
  udp?.close();
  await sb?.stop();
});

const sipPort = () => sb.sip.find((e) => e.transport === 'udp')!.port;

function options(callId: string, transport = 'UDP', port = udpPort): string {
  return [
    `OPTIONS sip:ping@127.0.0.1:${sipPort()} SIP/2.0`,
    `Via: SIP/2.0/${transport} 127.0.0.1:${port};branch=z9hG4bK-${callId}`,
    `From: <sip:fuzz@127.0.0.1:${port}>;tag=f${callId}`,
    `To: <sip:ping@127.0.0.1:${sipPort()}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '', '',
  ].join('\r\n');
}

function invite(callId: string): string {
  const body = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
  return [
    `INVITE sip:+61390000000@127.0.0.1:${sipPort()} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${udpPort};branch=z9hG4bK-${callId}`,
    `From: "Fuzz" <sip:fuzz@127.0.0.1:${udpPort}>;tag=f${callId}`,
    `To: <sip:+61390000000@127.0.0.1:${sipPort()}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    'Max-Forwards: 70',
    `Contact: <sip:fuzz@127.0.0.1:${udpPort}>`,
    'Content-Type: application/sdp',
    `Content-Length: ${body.length}`,
    '', body,
  ].join('\r\n');
}

function mutate(msg: string, r: () => number): Buffer {
  const buf = Buffer.from(msg, 'latin1');
  switch (Math.floor(r() * 6)) {
    case 0: return buf.subarray(0, Math.floor(r() * buf.length)); // truncation
    case 1: { // byte flips
      const b = Buffer.from(buf);
      for (let i = 0; i < 1 + r() * 8; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      return b;
    }
    case 2: return Buffer.from(msg.replace('Max-Forwards: 70', `X-Huge: ${'A'.repeat(Math.floor(r() * 70000))}`), 'latin1'); // huge header
    case 3: return Buffer.from(msg.replace(/Content-Length: \d+/, `Content-Length: ${Math.floor(r() * 1e9) - 5e8}`), 'latin1'); // bogus length
    case 4: return Buffer.from(Array.from({ length: Math.floor(r() * 2000) }, () => Math.floor(r() * 256))); // random bytes
    default: { // a header line dropped
      const lines = msg.split('\r\n');
      lines.splice(1 + Math.floor(r() * 6), 1);
      return Buffer.from(lines.join('\r\n'), 'latin1');
    }
  }
}

async function waitFor(pred: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting for a response');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function udpOptionsAnswered(tag: string): Promise<void> {
  const callId = `alive-${tag}`;
  // Retransmitted like a real UA (RFC 3261 Timer E): a burst can overflow the kernel's socket buffer and drop one.
  const send = () => udp.send(options(callId), sipPort(), '127.0.0.1');
  send();
  const timer = setInterval(send, 500);
  try {
    await waitFor(() => inbox.some((m) => m.startsWith('SIP/2.0 200') && m.includes(callId)), 10_000);
  } finally {
    clearInterval(timer);
  }
}

describe('malformed input over UDP', () => {
  it('MUST answer 400 naming the problem to a request with a readable Via but no Call-ID', async () => {
    const msg = options('no-call-id').replace(/Call-ID: .*\r\n/, '');
    udp.send(msg, sipPort(), '127.0.0.1');
    await waitFor(() => inbox.some((m) => m.startsWith('SIP/2.0 400') && m.includes('z9hG4bK-no-call-id')));
    const resp = inbox.find((m) => m.includes('z9hG4bK-no-call-id'))!;
    expect(resp.split('\r\n')[0]).toMatch(/Call-ID/i);
  });

  it('MUST answer 400 to a request whose To header is empty', async () => {
    const msg = options('empty-to').replace(/To: .*\r\n/, 'To: \r\n');
    udp.send(msg, sipPort(), '127.0.0.1');
    await waitFor(() => inbox.some((m) => m.startsWith('SIP/2.0 400') && m.includes('z9hG4bK-empty-to')));
  });

  it('stays up through 3,000 mutated datagrams and answers OPTIONS after every batch, without growing memory', async () => {
    const r = prng(20261128);
    const rss0 = process.memoryUsage().rss;
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 300; i++) {
        const base = r() < 0.5 ? invite(`fz-${batch}-${i}`) : options(`fz-${batch}-${i}`);
        const m = mutate(base, r);
        if (m.length > 0 && m.length < 65000) udp.send(m, sipPort(), '127.0.0.1');
      }
      await udpOptionsAnswered(`u${batch}`);
    }
    inbox.length = 0;
    // Some mutated INVITEs are valid calls to the DID (nobody registered → rejected); let them finish.
    await new Promise((res) => setTimeout(res, 500));
    const growthMb = (process.memoryUsage().rss - rss0) / 1048576;
    expect(growthMb).toBeLessThan(150);
  });
});

describe('malformed input over TCP', () => {
  async function tcpExchange(payloads: Buffer[], finalOptionsId: string): Promise<string> {
    const sock: Socket = connect(sipPort(), '127.0.0.1');
    await new Promise<void>((res, rej) => { sock.once('connect', () => res()); sock.once('error', rej); });
    let got = '';
    sock.on('data', (d) => { got += d.toString('latin1'); });
    sock.on('error', () => { /* the server may close on a fatal framing error */ });
    for (const p of payloads) sock.write(p);
    sock.end();
    await new Promise((res) => sock.once('close', res));
    // A fresh connection must still be served.
    const s2 = connect(sipPort(), '127.0.0.1');
    let got2 = '';
    s2.on('data', (d) => { got2 += d.toString('latin1'); });
    await new Promise<void>((res) => s2.once('connect', () => res()));
    s2.write(options(finalOptionsId, 'TCP', s2.localPort!));
    await waitFor(() => got2.includes('SIP/2.0 200') && got2.includes(finalOptionsId));
    s2.destroy();
    return got;
  }

  it('MUST answer 400 then close when a stream request has no Content-Length', async () => {
    const sock = connect(sipPort(), '127.0.0.1');
    await new Promise<void>((res) => sock.once('connect', () => res()));
    let got = '';
    sock.on('data', (d) => { got += d.toString('latin1'); });
    const closed = new Promise((res) => sock.once('close', res));
    sock.write(options('tcp-no-cl', 'TCP', sock.localPort!).replace('Content-Length: 0\r\n', ''));
    await closed;
    expect(got).toMatch(/^SIP\/2\.0 400/);
  });

  it('stays up through mutated streams, partial and coalesced, and serves a new connection after each', async () => {
    const r = prng(7);
    for (let round = 0; round < 20; round++) {
      const parts: Buffer[] = [];
      for (let i = 0; i < 20; i++) parts.push(mutate(options(`tz-${round}-${i}`, 'TCP', 1), r));
      const joined = Buffer.concat(parts);
      const chunks: Buffer[] = [];
      for (let off = 0; off < joined.length;) {
        const n = 1 + Math.floor(r() * 700);
        chunks.push(joined.subarray(off, off + n));
        off += n;
      }
      await tcpExchange(chunks, `talive-${round}`);
    }
  });
});
