import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import { SipStack, type ClientTransaction } from '../../../../src/sip/stack.js';
import { SipRequest, type SipResponse, type Endpoint } from '../../../../src/sip/message.js';
import { createResponse, Status } from '../../../../src/sip/status.js';
import { parseMessage } from '../../../../src/sip/parser.js';
import { ManualClock } from '../../../../src/common/clock.js';
import { createLogger } from '../../../../src/common/log.js';
import { eventually } from '../../../support/eventually.js';

const stacks: SipStack[] = [];
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});

async function stack(transport: 'udp' | 'tcp', address = '127.0.0.1'): Promise<SipStack> {
  const s = await SipStack.create({ listen: [{ transport, address, port: 0 }], timers: { t1: 50, t2: 400, t4: 500 } });
  stacks.push(s);
  return s;
}

function request(method: string, to: Endpoint, callId = `c-${Math.random()}`): SipRequest {
  const host = to.address.includes(':') ? `[${to.address}]` : to.address;
  const r = new SipRequest(method, `sip:bob@${host}:${to.port};transport=${to.transport}`);
  r.append('From', '<sip:alice@example.com>;tag=a1');
  r.append('To', '<sip:bob@example.com>');
  r.append('Call-ID', callId);
  r.append('CSeq', `1 ${method}`);
  r.append('Contact', '<sip:alice@127.0.0.1>');
  return r;
}

function finalResponse(txn: ClientTransaction): Promise<SipResponse> {
  return new Promise((resolve, reject) => {
    txn.on('response', (res: SipResponse) => { if (res.status >= 200) resolve(res); });
    txn.on('timeout', () => reject(new Error('timeout')));
    txn.on('transport-error', (e: Error) => reject(e));
  });
}

for (const [transport, address] of [['udp', '127.0.0.1'], ['tcp', '127.0.0.1'], ['udp', '::1'], ['tcp', '::1']] as const) {
  describe(`SipStack over ${transport} ${address}`, () => {
    it('delivers a non-INVITE request and its final response, then forgets both transactions', async () => {
      const a = await stack(transport, address);
      const b = await stack(transport, address);
      b.onRequest = (req, ctx) => ctx.transaction!.respond(createResponse(req, Status.OK, undefined, { toTag: 'b1' }));
      const res = await finalResponse(a.sendRequest(request('OPTIONS', b.listening[0]!)));
      expect(res.status).toBe(200);
      expect(res.get('to')).toContain('tag=b1');
      if (transport === 'tcp') {
        expect(a.stats.transactions).toBe(0);
      }
    });

    it('stamps received and rport on the top Via of a request (RFC 3581)', async () => {
      const a = await stack(transport, address);
      const b = await stack(transport, address);
      let via = '';
      b.onRequest = (req, ctx) => { via = req.getAll('via')[0]!; ctx.transaction!.respond(createResponse(req, Status.OK)); };
      await finalResponse(a.sendRequest(request('OPTIONS', b.listening[0]!)));
      expect(via).toMatch(/;rport=\d+/);
      expect(via).toContain(`;received=${address}`);
    });

    it('sends 100 Trying for an INVITE, answers CANCEL with 200 and lets the TU send 487', async () => {
      const a = await stack(transport, address);
      const b = await stack(transport, address);
      const inv = request('INVITE', b.listening[0]!);
      b.onRequest = () => undefined;
      b.onCancel = (_cancel, invite) => invite.respond(createResponse(invite.request, Status.RequestTerminated, undefined, { toTag: 'x' }));
      const txn = a.sendRequest(inv);
      const statuses: number[] = [];
      const done = new Promise<void>((resolve) => txn.on('response', (r: SipResponse) => {
        statuses.push(r.status);
        if (r.status === 100) {
          const cancel = new SipRequest('CANCEL', inv.uri);
          cancel.append('Via', inv.getAll('via')[0]!);
          for (const h of ['from', 'to', 'call-id']) cancel.append(h, inv.get(h)!);
          cancel.append('CSeq', '1 CANCEL');
          void finalResponse(a.sendRequest(cancel)).then((cr) => statuses.push(cr.status));
        }
        if (r.status >= 200) resolve();
      }));
      await done;
      expect(statuses).toContain(100);
      expect(statuses).toContain(487);
    });
  });
}

describe('SipStack transport edge cases', () => {
  it('answers a UDP request missing Call-ID with 400 naming the header, and counts unparsable datagrams', async () => {
    const b = await stack('udp');
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const port = sock.address().port;
    const got = new Promise<string>((resolve) => sock.once('message', (m) => resolve(m.toString())));
    sock.send(Buffer.from('garbage\r\n\r\n'), b.listening[0]!.port, '127.0.0.1');
    sock.send(Buffer.from(`OPTIONS sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKx;rport\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`), b.listening[0]!.port, '127.0.0.1');
    const text = await got;
    expect(text).toMatch(/^SIP\/2.0 400 .*Call-ID/);
    expect(b.stats.parseErrors).toBeGreaterThanOrEqual(2);
    sock.close();
  });

  it('answers an unparsable UDP request whose Via is readable with a 400 naming the problem', async () => {
    const b = await stack('udp');
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const port = sock.address().port;
    const got = new Promise<string>((resolve) => sock.once('message', (m) => resolve(m.toString())));
    sock.send(Buffer.from(`OPTIONS sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKempty\r\nFrom: <sip:a@x>;tag=1\r\nTo: \r\nCall-ID: e1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`), b.listening[0]!.port, '127.0.0.1');
    const text = await got;
    expect(text.split('\r\n')[0]).toMatch(/^SIP\/2.0 400 .*To/);
    expect(text).toContain('branch=z9hG4bKempty');
    sock.close();
  });

  it('absorbs a retransmitted request and resends the last response', async () => {
    const b = await stack('udp');
    let calls = 0;
    b.onRequest = (req, ctx) => { calls++; ctx.transaction!.respond(createResponse(req, Status.OK)); };
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const port = sock.address().port;
    const msgs: string[] = [];
    let firstIn!: () => void;
    const first = new Promise<void>((r) => { firstIn = r; });
    const two = new Promise<void>((resolve) => sock.on('message', (m) => { msgs.push(m.toString()); if (msgs.length === 1) firstIn(); if (msgs.length === 2) resolve(); }));
    const raw = Buffer.from(`OPTIONS sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKretx\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: r1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
    sock.send(raw, b.listening[0]!.port, '127.0.0.1');
    // Retransmitted once the transaction has answered: the stored final response is re-sent, the TU not called again.
    await first;
    sock.send(raw, b.listening[0]!.port, '127.0.0.1');
    await two;
    expect(calls).toBe(1);
    expect(msgs.every((m) => m.startsWith('SIP/2.0 200'))).toBe(true);
    expect(b.stats.absorbed).toBe(1);
    sock.close();
  });

  it('on TCP answers a fatal framing error after a request line with 400 and closes', async () => {
    const b = await stack('tcp');
    const sock = net.connect(b.listening[0]!.port, '127.0.0.1');
    let data = '';
    sock.on('data', (d) => { data += d.toString(); });
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.write('INVITE sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5;branch=z9hG4bKq\r\nContent-Length: abc\r\n\r\n');
    await closed;
    expect(data).toMatch(/^SIP\/2.0 400/);
  });

  it('reuses one TCP connection for several requests to the same peer', async () => {
    const a = await stack('tcp');
    const b = await stack('tcp');
    b.onRequest = (req, ctx) => ctx.transaction!.respond(createResponse(req, Status.OK));
    for (let i = 0; i < 3; i++) await finalResponse(a.sendRequest(request('OPTIONS', b.listening[0]!)));
    expect(a.tcpConnections).toBe(1);
    expect(b.tcpConnections).toBe(1);
  });

  it('sends requests back to a TCP peer over the connection it opened (alias on Via sent-by)', async () => {
    const a = await stack('tcp');
    const b = await stack('tcp');
    a.onRequest = (req, ctx) => ctx.transaction!.respond(createResponse(req, Status.OK));
    b.onRequest = (req, ctx) => ctx.transaction!.respond(createResponse(req, Status.OK));
    await finalResponse(a.sendRequest(request('OPTIONS', b.listening[0]!)));
    await finalResponse(b.sendRequest(request('OPTIONS', a.listening[0]!)));
    expect(a.tcpConnections).toBe(1);
    expect(b.tcpConnections).toBe(1);
  });

  it('closes idle TCP connections after tcpIdleTimeoutMs on the injected clock', async () => {
    const clock = new ManualClock(Date.now());
    const a = await SipStack.create({ listen: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }], clock, tcpIdleTimeoutMs: 4000 });
    const b = await SipStack.create({ listen: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }], tcpIdleTimeoutMs: 600_000 });
    stacks.push(a, b);
    b.onRequest = (req, ctx) => ctx.transaction!.respond(createResponse(req, Status.OK));
    await finalResponse(a.sendRequest(request('OPTIONS', b.listening[0]!)));
    expect(a.tcpConnections).toBe(1);
    clock.advance(3000);
    expect(a.tcpConnections).toBe(1);
    clock.advance(3000);
    expect(a.tcpConnections).toBe(0);
  });

  it('reports a transport error for an unresolvable host', async () => {
    const a = await stack('udp');
    const r = request('OPTIONS', { transport: 'udp', address: '127.0.0.1', port: 5 });
    r.uri = 'sip:bob@no.such.host';
    await expect(finalResponse(a.sendRequest(r))).rejects.toThrow(/resolve/);
  });

  it('rejects create() when the port is taken', async () => {
    const a = await stack('udp');
    await expect(SipStack.create({ listen: [{ transport: 'udp', address: '127.0.0.1', port: a.listening[0]!.port }] })).rejects.toThrow();
  });

  it('survives random and mutated datagrams and TCP bytes, then still serves a request', async () => {
    const errors: string[] = [];
    const log = createLogger({ level: 'error', destination: { write: (line: string) => { errors.push(line); } } });
    const b = await SipStack.create({ listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }], log });
    const bt = await SipStack.create({ listen: [{ transport: 'tcp', address: '127.0.0.1', port: 0 }], log });
    stacks.push(b, bt);
    for (const s of [b, bt]) s.onRequest = (req, ctx) => ctx.transaction?.respond(createResponse(req, Status.OK));
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const port = sock.address().port;
    const valid = Buffer.from(`INVITE sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKfz;rport\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: fz\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1>\r\nContent-Length: 4\r\n\r\nabcd`);
    let seed = 42;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    const tcp = net.connect(bt.listening[0]!.port, '127.0.0.1');
    tcp.on('error', () => undefined);
    for (let i = 0; i < 400; i++) {
      const m = Buffer.from(valid);
      for (let k = 0; k < 1 + rnd(4); k++) m[rnd(m.length)] = rnd(256);
      const junk = i % 4 === 0 ? Buffer.from(Array.from({ length: rnd(300) }, () => rnd(256))) : m;
      sock.send(junk, b.listening[0]!.port, '127.0.0.1');
      if (!tcp.destroyed) tcp.write(junk);
    }
    // Every datagram handled (the UDP stack counted parse errors for the garbled ones) before the sockets go.
    await eventually(() => b.stats.parseErrors > 0 || undefined, 'parse errors counted');
    await new Promise<void>((r) => { if (tcp.destroyed) r(); else tcp.end(() => r()); });
    tcp.destroy();
    sock.close();
    for (const s of [b, bt]) {
      const a = await stack(s.listening[0]!.transport as 'udp' | 'tcp');
      const res = await finalResponse(a.sendRequest(request('OPTIONS', s.listening[0]!)));
      expect(res.status).toBe(200);
    }
    expect(b.stats.parseErrors).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  it('parses what it serializes (sanity)', () => {
    expect(parseMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\n\r\n')).ok).toBe(true);
  });
});
