/**
 * SIP message-layer throughput on one core: parses and serializes per second of a typical INVITE with SDP and a
 * 200 OK, plus stream framing. Run: `npx tsx bench/parse.ts` (figures, not assertions).
 */
import os from 'node:os';
import { parseMessage } from '../src/sip/parser.js';
import { serializeMessage } from '../src/sip/serializer.js';
import { StreamFramer } from '../src/sip/stream-framer.js';

const SDP = [
  'v=0', 'o=alice 2890844526 2890844526 IN IP4 192.0.2.101', 's=-', 'c=IN IP4 192.0.2.101', 't=0 0',
  'm=audio 49172 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv', '',
].join('\r\n');

function msg(lines: string[], body: string): Buffer {
  return Buffer.from(lines.join('\r\n') + `\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n` + body);
}

const INVITE = msg([
  'INVITE sip:1001@pbx.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK74bf9a8c;rport',
  'Max-Forwards: 70',
  'From: "Alice Example" <sip:1000@pbx.example.com>;tag=9fxced76sl',
  'To: <sip:1001@pbx.example.com>',
  'Call-ID: 3848276298220188511@192.0.2.101',
  'CSeq: 1 INVITE',
  'Contact: <sip:1000@192.0.2.101:5060;transport=udp>',
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY, UPDATE',
  'Supported: replaces, timer',
  'User-Agent: Example Phone 1.2.3',
  'Content-Type: application/sdp',
], SDP);

const OK = msg([
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK74bf9a8c;rport=5060;received=192.0.2.101',
  'From: "Alice Example" <sip:1000@pbx.example.com>;tag=9fxced76sl',
  'To: <sip:1001@pbx.example.com>;tag=8321234356',
  'Call-ID: 3848276298220188511@192.0.2.101',
  'CSeq: 1 INVITE',
  'Contact: <sip:1001@192.0.2.201:5060>',
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS',
  'Content-Type: application/sdp',
], SDP.replace(/alice/g, 'bob').replace(/192\.0\.2\.101/g, '192.0.2.201'));

/** Runs `fn` for about `ms` of wall time; returns ops per wall second and ops per CPU second of this process. */
function measure(fn: () => void, ms = 1500): { wall: number; cpu: number } {
  for (let i = 0; i < 20_000; i++) fn(); // warm up the JIT
  let n = 0;
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
    now = process.hrtime.bigint();
  }
  const cpu = process.cpuUsage(cpu0);
  return { wall: (n * 1e9) / Number(now - start), cpu: (n * 1e6) / (cpu.user + cpu.system) };
}

let sink = 0;
const rows: Array<[string, number, { wall: number; cpu: number }]> = [];
for (const [name, bytes] of [['INVITE + SDP', INVITE], ['200 OK + SDP', OK]] as const) {
  const parsed = parseMessage(bytes);
  if (!parsed.ok) throw new Error(`${name}: ${parsed.error.message}`);
  const m = parsed.message;
  rows.push([`parse ${name}`, bytes.length, measure(() => { const r = parseMessage(bytes); if (r.ok) sink += r.message.headers.length; })]);
  rows.push([`serialize ${name}`, bytes.length, measure(() => { sink += serializeMessage(m).length; })]);
}
const stream = Buffer.concat(Array.from({ length: 10 }, (_, i) => (i % 2 ? OK : INVITE)));
const framer = new StreamFramer();
const perStream = measure(() => { sink += framer.push(stream).length; }, 1500);
rows.push(['frame TCP (per message)', stream.length / 10, { wall: perStream.wall * 10, cpu: perStream.cpu * 10 }]);

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(9);
console.log(`node ${process.version}, one thread, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs, ${new Date().toISOString()}`);
console.log('ops/s (wall) counts time spent waiting for a CPU; ops per CPU-second is the figure for one dedicated core.');
console.log('| operation                  | bytes | ops/s wall | ops/CPU-s | µs/op (CPU) |');
console.log('|----------------------------|-------|------------|-----------|-------------|');
for (const [op, bytes, rate] of rows) {
  console.log(`| ${op.padEnd(26)} | ${String(bytes).padStart(5)} |  ${fmt(rate.wall)} | ${fmt(rate.cpu)} | ${(1e6 / rate.cpu).toFixed(2).padStart(11)} |`);
}
if (sink === -1) console.log(sink);
