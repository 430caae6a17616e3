/**
 * One SIP-edge attack of bench/security-sip.ts against the Switchboard of a given source tree (its own modules, so an
 * older tree shows the old behaviour). Keys the older tree does not have are left out of its configuration.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';

/* eslint-disable @typescript-eslint/no-explicit-any -- modules of another tree, typed loosely on purpose */
type Any = any;
const load = (tree: string, rel: string): Promise<Any> => import(pathToFileURL(join(tree, rel)).href);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DOMAIN = 'switchboard.local';

async function pbx(tree: string, mutate: (c: Any) => void = () => undefined, extra: Any = {}): Promise<Any> {
  const { startTestSwitchboard } = await load(tree, 'test/support/switchboard.ts');
  return startTestSwitchboard({ mutate, extra });
}
const udpPort = (sb: Any): number => sb.sip.find((e: Any) => e.transport === 'udp').port;
const tcpPort = (sb: Any): number => sb.sip.find((e: Any) => e.transport === 'tcp').port;

function bindUdp(address: string, port = 0): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, address, () => resolve(s));
  });
}

function request(method: string, line: string, viaHostPort: string, extra: string[] = [], body = ''): string {
  return [
    line,
    `Via: SIP/2.0/UDP ${viaHostPort};branch=z9hG4bK${randomBytes(6).toString('hex')}`,
    'Max-Forwards: 70',
    `From: <sip:probe@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:${DOMAIN}>`,
    `Call-ID: ${randomBytes(8).toString('hex')}`,
    `CSeq: 1 ${method}`,
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '', body,
  ].join('\r\n');
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

async function received(tree: string): Promise<string> {
  const sb = await pbx(tree);
  const a = await bindUdp('127.0.0.1');
  const port = a.address().port;
  const b = await bindUdp('127.0.0.2', port);
  let atA = 0;
  let atB = 0;
  a.on('message', () => atA++);
  b.on('message', () => atB++);
  const msg = request('OPTIONS', `OPTIONS sip:${DOMAIN} SIP/2.0`, `127.0.0.1:${port};received=127.0.0.2`);
  a.send(Buffer.from(msg), udpPort(sb), '127.0.0.1');
  await sleep(2000);
  a.close(); b.close();
  await sb.stop();
  return `responses: ${atA} to the packet source, ${atB} to the named third party 127.0.0.2`;
}

async function version(tree: string): Promise<string> {
  const sb = await pbx(tree);
  const a = await bindUdp('127.0.0.1');
  const got: Array<{ status: number; at: number }> = [];
  const t0 = Date.now();
  a.on('message', (m) => { const s = /^SIP\/2\.0 (\d{3})/.exec(m.toString('latin1')); if (s) got.push({ status: Number(s[1]), at: Date.now() - t0 }); });
  const msg = request('INVITE', `INVITE sip:+61390000000@${DOMAIN} sip/2.0`, `127.0.0.1:${a.address().port}`, ['Content-Type: application/sdp', `Contact: <sip:probe@127.0.0.1:${a.address().port}>`], SDP);
  a.send(Buffer.from(msg), udpPort(sb), '127.0.0.1');
  await sleep(5000);
  a.close();
  await sb.stop();
  const final = got.find((g) => g.status >= 200);
  const seen = [...new Set(got.map((g) => g.status))].join(', ') || 'nothing';
  return final ? `${final.status} after ${final.at} ms (responses: ${seen})` : `no final response in 5 s (responses: ${seen}); the INVITE is held`;
}

async function lockout(tree: string): Promise<string> {
  const sb = await pbx(tree);
  const { rawStack, register } = await load(tree, 'test/support/engine-sip.ts');
  const raw = await rawStack();
  const dest = { transport: 'udp', address: '127.0.0.1', port: udpPort(sb) };
  for (let i = 0; i < 25; i++) await register(raw, dest, { username: 'alice-desk', password: 'wrong', domain: DOMAIN, contacts: ['<sip:a@127.0.0.1:6100>'] });
  const bob = await register(raw, dest, { username: 'bob-desk', password: 'bob-desk-pw', domain: DOMAIN, contacts: ['<sip:b@127.0.0.1:6101>'] });
  await raw.close();
  await sb.stop();
  return `after 25 wrong REGISTERs for alice-desk, bob-desk's correct one from the same address gets ${bob.res?.status ?? 'nothing'}`;
}

async function displayName(tree: string): Promise<string> {
  const sb = await pbx(tree);
  const a = await bindUdp('127.0.0.1');
  let first: string | undefined;
  a.on('message', (m) => { first ??= m.toString('latin1').split('\r\n')[0]; });
  // Two tokens 60,000 spaces apart: valid SIP (display-name = *(token LWS)), and the old regex /^\s*([^<"]+?)\s*</
  // retried the run of spaces from every position of it.
  const from = `a${' '.repeat(60_000)}b <sip:+61400000000@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`;
  const msg = request('INVITE', `INVITE sip:+61390000000@${DOMAIN} SIP/2.0`, `127.0.0.1:${a.address().port}`, ['Content-Type: application/sdp', `Contact: <sip:probe@127.0.0.1:${a.address().port}>`], SDP)
    .replace(/^From: .*$/m, `From: ${from}`);
  const h = monitorEventLoopDelay({ resolution: 5 });
  await sleep(200);
  h.enable();
  const t0 = Date.now();
  a.send(Buffer.from(msg), udpPort(sb), '127.0.0.1');
  await sleep(3000);
  h.disable();
  a.close();
  await sb.stop();
  return `${Buffer.byteLength(msg)}-byte INVITE: event loop blocked up to ${(h.max / 1e6).toFixed(0)} ms (mean delay ${(h.mean / 1e6).toFixed(1)} ms over ${Date.now() - t0} ms); first response: ${first ?? 'none'}`;
}

function tcpLimits(c: Any, o: { perSource?: number; idleS?: number }): void {
  if (!c.sip?.tcp) return;
  if (o.perSource) c.sip.tcp.max_connections_per_source = o.perSource;
  if (o.idleS) c.sip.tcp.idle_timeout_s = o.idleS;
}

function connect(port: number): Promise<{ sock: net.Socket; ended: () => boolean; closedAt: () => number | undefined }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let ended = false;
    let closedAt: number | undefined;
    sock.on('end', () => { ended = true; closedAt ??= Date.now(); });
    sock.on('close', () => { closedAt ??= Date.now(); });
    sock.on('error', () => undefined);
    sock.once('connect', () => resolve({ sock, ended: () => ended, closedAt: () => closedAt }));
    sock.once('error', reject);
  });
}

async function tcpFlood(tree: string): Promise<string> {
  const sb = await pbx(tree);
  const conns = [];
  for (let i = 0; i < 300; i++) conns.push(await connect(tcpPort(sb)).catch(() => undefined));
  await sleep(1000);
  const open = conns.filter((c) => c && c.closedAt() === undefined).length;
  for (const c of conns) c?.sock.destroy();
  await sb.stop();
  return `300 connections from 127.0.0.1: ${open} still open after 1 s`;
}

const fds = (): number => readdirSync('/proc/self/fd').length;

async function tcpGarbage(tree: string): Promise<string> {
  const sb = await pbx(tree);
  await sleep(300);
  const base = fds();
  const c = await connect(tcpPort(sb));
  await sleep(300);
  const withConn = fds();
  c.sock.write(Buffer.alloc(70_000, 0x41));
  await sleep(3000);
  const after = fds();
  const serverSide = after - base - 1; // our own half-open client socket is still open on purpose
  c.sock.destroy();
  await sb.stop();
  return `70 KB of garbage: client saw FIN: ${c.ended() ? 'yes' : 'no'}; server socket after 3 s: ${serverSide > 0 ? 'still open (ended, waiting for our FIN)' : 'destroyed'} (fds ${base} → ${withConn} → ${after})`;
}

async function tcpIdle(tree: string): Promise<string> {
  const sb = await pbx(tree, (c) => tcpLimits(c, { idleS: 2 }));
  const t0 = Date.now();
  const c = await connect(tcpPort(sb));
  for (let i = 0; i < 60 && c.closedAt() === undefined; i++) await sleep(100);
  const at = c.closedAt();
  c.sock.destroy();
  await sb.stop();
  return at === undefined ? 'silent connection still open after 6 s (idle timeout fixed at 10 min)' : `silent connection closed by the server after ${((at - t0) / 1000).toFixed(1)} s (sip.tcp.idle_timeout_s 2)`;
}

async function bindings(tree: string): Promise<string> {
  const sb = await pbx(tree);
  const { rawStack, register, boundContacts } = await load(tree, 'test/support/engine-sip.ts');
  const raw = await rawStack();
  const dest = { transport: 'udp', address: '127.0.0.1', port: udpPort(sb) };
  const counts = new Map<number, number>();
  for (let i = 0; i < 30; i++) {
    const r = await register(raw, dest, { username: 'alice-mobile', password: 'alice-mobile-pw', domain: DOMAIN, contacts: [`<sip:flood${i}@127.0.0.1:${7000 + i}>`] });
    const s = r.res?.status ?? 0;
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const q = await register(raw, dest, { username: 'alice-mobile', password: 'alice-mobile-pw', domain: DOMAIN });
  await raw.close();
  await sb.stop();
  return `30 new contacts for one device: ${[...counts].map(([s, n]) => `${n} × ${s}`).join(', ')}; ${boundContacts(q.res).length} bound`;
}

async function longWait(tree: string): Promise<string> {
  const DID = '+61390000009';
  const sb = await pbx(tree, (c) => {
    if ('invite_reaper_s' in (c.sip ?? {})) {
      c.sip.invite_reaper_s = 3;
      c.sip.provisional_interval_s = 1;
    }
    c.flows.push({ id: 'long-wait', nodes: [{ id: 'q', type: 'queue', queue: 'Support', next: null }] });
    c.numbers.push({ number: DID, flow: 'long-wait' });
    const q = c.queues.find((x: Any) => x.name === 'Support');
    q.agents = ['1002'];
    q.max_wait_s = 300;
  }, { sipTimers: { inviteReaperMs: 3000 } }); // the older tree takes the reaper through its stack timers
  const { TestPhone } = await load(tree, 'src/sip/phone/index.ts');
  const registrar = { transport: 'udp', address: '127.0.0.1', port: udpPort(sb) };
  const log = pino({ level: 'silent' });
  const agent = await TestPhone.create({ transport: 'udp', username: 'bob-desk', password: 'bob-desk-pw', domain: DOMAIN, registrar, log, onIncoming: (c: Any) => { c.ring(); c.answer({ afterMs: 5000 }); } });
  await agent.register({ expires: 300 });
  const caller = await TestPhone.create({ transport: 'udp', username: 'caller', domain: DOMAIN, registrar, log });
  const t0 = Date.now();
  const out = caller.call(`sip:${DID}@${DOMAIN}`);
  let ringing = 0;
  let endedAt: number | undefined;
  out.on('progress', (r: Any) => { if (r.status === 180) ringing++; });
  out.on('ended', () => { endedAt ??= Date.now(); });
  let outcome: string;
  try {
    await out.waitFor('answered', 12_000);
    outcome = `answered after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
    await out.bye();
  } catch {
    outcome = `${out.finalResponse?.status ?? 'no'} final after ${(((endedAt ?? Date.now()) - t0) / 1000).toFixed(1)} s, never answered`;
  }
  await agent.close();
  await caller.close();
  await sb.stop();
  return `agent answers at 5 s, reaper 3 s (provisional interval 1 s where configurable): ${outcome}; 180s received: ${ringing}`;
}

async function framer(tree: string): Promise<string> {
  const { StreamFramer } = await load(tree, 'src/sip/stream-framer.ts');
  const body = 'x'.repeat(60_000);
  const msg = Buffer.from(`OPTIONS sip:${DOMAIN} SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  const times: number[] = [];
  for (let run = 0; run < 3; run++) {
    const f = new StreamFramer();
    const t0 = process.hrtime.bigint();
    let n = 0;
    for (let i = 0; i < msg.length; i++) n += f.push(msg.subarray(i, i + 1)).length;
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (n !== 1) return `framed ${n} messages (expected 1)`;
  }
  return `${msg.length}-byte message in 1-byte chunks: ${Math.min(...times).toFixed(0)} ms (best of 3)`;
}

const SCENARIOS: Record<string, (tree: string) => Promise<string>> = {
  received, version, lockout, 'display-name': displayName, 'tcp-flood': tcpFlood, 'tcp-garbage': tcpGarbage,
  'tcp-idle': tcpIdle, bindings, 'long-wait': longWait, framer,
};

/** Runs one named scenario against `tree`; resolves with its outcome line. */
export async function runScenario(tree: string, name: string): Promise<string> {
  const fn = SCENARIOS[name];
  if (!fn) return `unknown scenario ${name}`;
  try {
    return await fn(tree);
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}
