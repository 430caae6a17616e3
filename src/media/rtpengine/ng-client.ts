/**
 * A small typed client for rtpengine's ng control protocol over UDP.
 *
 * Each datagram is `<cookie> <bencoded dictionary>`; the daemon answers with the same cookie and a dictionary whose
 * `result` is `ok`/`pong`, or `error` with an `error-reason`. rtpengine caches each answer under its cookie, so a
 * retransmission with the same cookie is answered from the cache instead of running the command twice: that makes
 * resending after silence safe for every command, offer and delete included.
 *
 * Requests use ng's own key names (`call-id`, `from-tag`, …) so they read like rtpengine's documentation. Text
 * values (SDP) are sent and returned as UTF-8; everything else stays bytes until a caller asks.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock, type TimerHandle } from '../../common/index.js';
import type { Logger } from '../../common/index.js';
import { decode, encode, isDict, type BencodeDict, type BencodeInput, type BencodeValue } from './bencode.js';
import { NgClosedError, NgCommandError, NgProtocolError, NgTimeoutError } from './errors.js';

/** Where the daemon listens (`--listen-ng`). */
export interface NgAddress { host: string; port: number }

export interface NgClientOptions {
  address: NgAddress;
  /** Give up on a command after this long; default 3000 ms. */
  timeoutMs?: number;
  /** Resend an unanswered command after this long, then doubling; default 250 ms. */
  retransmitMs?: number;
  clock?: Clock;
  log?: Logger;
}

/** Identifies one call's media session, and optionally one of its monologues (a tag) in it. */
export interface NgSessionRef {
  'call-id': string;
  'from-tag'?: string;
  'to-tag'?: string;
  'via-branch'?: string;
  label?: string;
}

/** Fields shared by `offer` and `answer` (rtpengine's SDP-rewriting options). */
export interface NgSdpRequest extends NgSessionRef {
  sdp: string;
  /** Plain flags, e.g. `trust-address`, `symmetric`, `port latching`, `strict source`, `no-rtcp-attribute`. */
  flags?: readonly string[];
  /** What to rewrite in the SDP: `origin`, `session-connection` (`session connection` in older releases). */
  replace?: readonly string[];
  ICE?: 'remove' | 'force' | 'default' | 'optional' | 'force-relay';
  DTLS?: 'off' | 'passive' | 'active';
  /** The DTLS role toward the party whose SDP this is (the offerer in an offer); `DTLS` is toward the receiver. */
  'DTLS-reverse'?: 'passive' | 'active';
  'transport-protocol'?: 'RTP/AVP' | 'RTP/SAVP' | 'RTP/AVPF' | 'RTP/SAVPF' | 'UDP/TLS/RTP/SAVP' | 'UDP/TLS/RTP/SAVPF';
  'rtcp-mux'?: readonly ('offer' | 'require' | 'demux' | 'accept' | 'reject')[];
  /** Which interfaces to use for the two sides (`--interface` names). */
  direction?: readonly [string, string];
  'address family'?: 'IP4' | 'IP6';
  /** `yes` starts recording at once (`record call`). */
  'record call'?: 'yes' | 'no';
  /** Recorded in the recording's metadata file. */
  metadata?: string;
  codec?: { strip?: readonly string[]; offer?: readonly string[]; transcode?: readonly string[]; mask?: readonly string[] };
  ptime?: number;
  /** Anything this type does not name yet, passed through verbatim. */
  extra?: { readonly [key: string]: BencodeInput };
}

export type NgOfferRequest = NgSdpRequest & { 'from-tag': string };
export type NgAnswerRequest = NgSdpRequest & { 'from-tag': string; 'to-tag': string };

/** The rewritten SDP, plus the whole answer for fields this type does not name. */
export interface NgSdpResult { sdp: string; warning?: string; raw: BencodeDict }

/** `play media`: one of file (a path on the daemon's host), blob (the file's bytes) or db-id. */
export interface NgPlayMediaRequest extends NgSessionRef {
  file?: string;
  blob?: Buffer;
  'db-id'?: number;
  /** How often to play it; rtpengine plays once by default. */
  'repeat-times'?: number;
  'start-pos'?: number;
}

/** `play media`'s answer: `duration` is the media's length in ms (for one play), when rtpengine knows it. */
export interface NgPlayMediaResult { durationMs?: number; raw: BencodeDict }

/** One monologue (tag) in a `query` answer. */
export interface NgQueryTag {
  tag: string;
  label?: string;
  createdS?: number;
  /** Per-medium packet and byte counters, as rtpengine reports them. */
  medias: Array<{ index?: number; type?: string; protocol?: string; streams: Array<{ localPort?: number; endpoint?: { address: string; port: number }; packets?: number; bytes?: number; errors?: number }> }>;
}

/** `query`'s answer, typed where it matters, plus the whole dictionary. */
export interface NgQueryResult {
  createdS?: number;
  lastSignalS?: number;
  tags: NgQueryTag[];
  totals?: { rtp: { packets?: number; bytes?: number; errors?: number }; rtcp: { packets?: number; bytes?: number; errors?: number } };
  raw: BencodeDict;
}

interface Pending {
  command: string;
  datagram: Buffer;
  attempts: number;
  nextDelayMs: number;
  startedAt: number;
  timer: TimerHandle;
  resolve(d: BencodeDict): void;
  reject(e: Error): void;
}

/** Largest datagram we accept as an answer (a `query` of a big call is a few kB; UDP caps at 64 KiB). */
const MAX_DATAGRAM = 65_507;

/** The ng client. Create with {@link createNgClient}; `close()` fails pending commands and frees the socket. */
export interface NgClient {
  readonly address: NgAddress;
  ping(): Promise<void>;
  offer(req: NgOfferRequest): Promise<NgSdpResult>;
  answer(req: NgAnswerRequest): Promise<NgSdpResult>;
  /**
   * Ends a session (or one tag of it); returns rtpengine's final statistics. An unknown call is not an error for
   * rtpengine (`result: ok` with a `warning`), so deleting twice is harmless.
   */
  delete(req: NgSessionRef & { flags?: readonly string[] }): Promise<{ warning?: string; raw: BencodeDict }>;
  query(req: NgSessionRef): Promise<NgQueryResult>;
  startRecording(req: NgSessionRef): Promise<void>;
  stopRecording(req: NgSessionRef): Promise<void>;
  playMedia(req: NgPlayMediaRequest): Promise<NgPlayMediaResult>;
  stopMedia(req: NgSessionRef): Promise<void>;
  blockDtmf(req: NgSessionRef): Promise<void>;
  unblockDtmf(req: NgSessionRef): Promise<void>;
  /** Any command by name, for what the typed methods do not cover. */
  command(command: string, args: { readonly [key: string]: BencodeInput | undefined }): Promise<BencodeDict>;
  close(): Promise<void>;
}

/** Opens a UDP socket towards the daemon. */
export async function createNgClient(opts: NgClientOptions): Promise<NgClient> {
  const { address } = opts;
  if (!address || typeof address.host !== 'string' || !Number.isInteger(address.port) || address.port <= 0 || address.port > 65535) {
    throw new TypeError(`ng address must be { host, port 1..65535 }, got ${JSON.stringify(address)}`);
  }
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.timeoutMs ?? 3000;
  const retransmitMs = opts.retransmitMs ?? 250;
  const log = opts.log;
  const target = `${address.host}:${address.port}`;
  const socket: Socket = createSocket({ type: isIPv6(address.host) ? 'udp6' : 'udp4' });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, () => { socket.off('error', reject); resolve(); });
  });
  const pending = new Map<string, Pending>();
  const prefix = randomBytes(4).toString('hex');
  let seq = 0;
  let closed = false;
  let stray = 0;

  socket.on('error', (err) => log?.warn({ err, target }, 'rtpengine ng socket error'));
  socket.on('message', (msg) => {
    const sp = msg.indexOf(0x20);
    if (sp <= 0 || sp > 64) { stray++; log?.debug({ target, bytes: msg.length, stray }, 'rtpengine: answer without a cookie dropped'); return; }
    const cookie = msg.toString('latin1', 0, sp);
    const p = pending.get(cookie);
    if (!p) { stray++; log?.debug({ target, cookie, stray }, 'rtpengine: answer for no pending command (late duplicate?)'); return; }
    pending.delete(cookie);
    clock.clearTimeout(p.timer);
    const body = decode(msg.subarray(sp + 1));
    if (!body.ok) { p.reject(new NgProtocolError(`rtpengine answer to '${p.command}' is not bencode: ${body.error.message}`)); return; }
    if (!isDict(body.value)) { p.reject(new NgProtocolError(`rtpengine answer to '${p.command}' is not a dictionary`)); return; }
    const dict = body.value;
    const result = text(dict, 'result');
    if (result === undefined) { p.reject(new NgProtocolError(`rtpengine answer to '${p.command}' has no 'result'`)); return; }
    if (result === 'ok' || result === 'pong') { p.resolve(dict); return; }
    p.reject(new NgCommandError(p.command, result, text(dict, 'error-reason') ?? text(dict, 'warning') ?? '(no error-reason)'));
  });

  const send = (datagram: Buffer): void => {
    socket.send(datagram, address.port, address.host, (err) => { if (err) log?.warn({ err, target }, 'rtpengine: send failed'); });
  };

  const command = (name: string, args: { readonly [key: string]: BencodeInput | undefined }): Promise<BencodeDict> => {
    if (closed) return Promise.reject(new NgClosedError(name));
    const cookie = `${prefix}_${(seq++).toString(36)}`;
    const datagram = Buffer.concat([Buffer.from(`${cookie} `, 'latin1'), encode({ ...args, command: name })]);
    if (datagram.length > MAX_DATAGRAM) return Promise.reject(new TypeError(`rtpengine '${name}' is ${datagram.length} bytes, more than one UDP datagram (${MAX_DATAGRAM})`));
    return new Promise<BencodeDict>((resolve, reject) => {
      const p: Pending = { command: name, datagram, attempts: 1, nextDelayMs: retransmitMs, startedAt: clock.now(), timer: undefined, resolve, reject };
      const arm = (): void => {
        const left = timeoutMs - (clock.now() - p.startedAt);
        p.timer = clock.setTimeout(() => {
          if (clock.now() - p.startedAt >= timeoutMs) {
            pending.delete(cookie);
            reject(new NgTimeoutError(name, target, timeoutMs, p.attempts));
            return;
          }
          p.attempts++;
          p.nextDelayMs *= 2;
          send(datagram);
          arm();
        }, Math.max(1, Math.min(p.nextDelayMs, left)));
      };
      pending.set(cookie, p);
      send(datagram);
      arm();
    });
  };

  const sessionArgs = (r: NgSessionRef): Record<string, BencodeInput | undefined> => ({
    'call-id': r['call-id'], 'from-tag': r['from-tag'], 'to-tag': r['to-tag'], 'via-branch': r['via-branch'], label: r.label,
  });
  const sdpArgs = (r: NgSdpRequest): Record<string, BencodeInput | undefined> => {
    const { extra, codec, ...rest } = r;
    return { ...extra, ...(rest as Record<string, BencodeInput | undefined>), ...(codec ? { codec: codec as { [k: string]: BencodeInput } } : {}) };
  };
  const sdpResult = (name: string, d: BencodeDict): NgSdpResult => {
    const sdp = text(d, 'sdp');
    if (sdp === undefined) throw new NgProtocolError(`rtpengine answer to '${name}' has no 'sdp'`);
    const warning = text(d, 'warning');
    return warning === undefined ? { sdp, raw: d } : { sdp, warning, raw: d };
  };
  const requireCallId = (name: string, r: NgSessionRef): void => {
    if (!r || typeof r['call-id'] !== 'string' || r['call-id'] === '') throw new TypeError(`rtpengine '${name}' needs a non-empty 'call-id'`);
  };
  const typed = <R extends NgSessionRef>(name: string, build: (r: R) => Record<string, BencodeInput | undefined>) =>
    async (r: R): Promise<BencodeDict> => { requireCallId(name, r); return command(name, build(r)); };

  const offer = typed<NgOfferRequest>('offer', sdpArgs);
  const answer = typed<NgAnswerRequest>('answer', sdpArgs);

  return {
    address,
    async ping() { await command('ping', {}); },
    offer: async (r) => sdpResult('offer', await offer(r)),
    answer: async (r) => sdpResult('answer', await answer(r)),
    async delete(r) {
      const d = await typed<NgSessionRef & { flags?: readonly string[] }>('delete', (x) => ({ ...sessionArgs(x), flags: x.flags }))(r);
      const warning = text(d, 'warning');
      return warning === undefined ? { raw: d } : { warning, raw: d };
    },
    query: async (r) => queryResult(await typed<NgSessionRef>('query', sessionArgs)(r)),
    async startRecording(r) { await typed<NgSessionRef>('start recording', sessionArgs)(r); },
    async stopRecording(r) { await typed<NgSessionRef>('stop recording', sessionArgs)(r); },
    async playMedia(r) {
      const sources = [r.file, r.blob, r['db-id']].filter((x) => x !== undefined).length;
      if (sources !== 1) throw new TypeError(`rtpengine 'play media' needs exactly one of file, blob, db-id (got ${sources})`);
      const d = await typed<NgPlayMediaRequest>('play media', (x) => ({ ...sessionArgs(x), file: x.file, blob: x.blob, 'db-id': x['db-id'], 'repeat-times': x['repeat-times'], 'start-pos': x['start-pos'] }))(r);
      const durationMs = int(d, 'duration');
      return durationMs === undefined ? { raw: d } : { durationMs, raw: d };
    },
    async stopMedia(r) { await typed<NgSessionRef>('stop media', sessionArgs)(r); },
    async blockDtmf(r) { await typed<NgSessionRef>('block DTMF', sessionArgs)(r); },
    async unblockDtmf(r) { await typed<NgSessionRef>('unblock DTMF', sessionArgs)(r); },
    command,
    async close() {
      if (closed) return;
      closed = true;
      for (const [cookie, p] of pending) { clock.clearTimeout(p.timer); pending.delete(cookie); p.reject(new NgClosedError(p.command)); }
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

/** A byte-string field read as UTF-8 text (only for fields that are text by definition). */
function text(d: BencodeDict, key: string): string | undefined {
  const v = d[key];
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

function int(d: BencodeDict, key: string): number | undefined {
  const v = d[key];
  if (typeof v === 'number') return v;
  // rtpengine writes some numbers as strings in some releases; accept digits only.
  if (Buffer.isBuffer(v) && /^-?\d{1,15}$/.test(v.toString('latin1'))) return Number(v.toString('latin1'));
  return undefined;
}

function dictAt(v: BencodeValue | undefined): BencodeDict | undefined { return isDict(v) ? v : undefined; }
function listAt(v: BencodeValue | undefined): BencodeValue[] { return Array.isArray(v) ? v : []; }

function counters(d: BencodeDict | undefined): { packets?: number; bytes?: number; errors?: number } {
  if (!d) return {};
  const out: { packets?: number; bytes?: number; errors?: number } = {};
  for (const k of ['packets', 'bytes', 'errors'] as const) { const n = int(d, k); if (n !== undefined) out[k] = n; }
  return out;
}

function queryResult(d: BencodeDict): NgQueryResult {
  const tags: NgQueryTag[] = [];
  const tagDict = dictAt(d.tags);
  for (const [tag, tv] of Object.entries(tagDict ?? {})) {
    const t = dictAt(tv);
    if (!t) continue;
    const medias = listAt(t.medias).map(dictAt).filter((m): m is BencodeDict => !!m).map((m) => ({
      ...(int(m, 'index') !== undefined ? { index: int(m, 'index')! } : {}),
      ...(text(m, 'type') !== undefined ? { type: text(m, 'type')! } : {}),
      ...(text(m, 'protocol') !== undefined ? { protocol: text(m, 'protocol')! } : {}),
      streams: listAt(m.streams).map(dictAt).filter((s): s is BencodeDict => !!s).map((s) => {
        const ep = dictAt(s.endpoint);
        const epAddr = ep && text(ep, 'address');
        const epPort = ep && int(ep, 'port');
        const st = dictAt(s.stats);
        return {
          ...(int(s, 'local port') !== undefined ? { localPort: int(s, 'local port')! } : {}),
          ...(epAddr !== undefined && epPort !== undefined ? { endpoint: { address: epAddr, port: epPort } } : {}),
          ...counters(st),
        };
      }),
    }));
    const label = text(t, 'label');
    const created = int(t, 'created');
    tags.push({ tag, ...(label !== undefined ? { label } : {}), ...(created !== undefined ? { createdS: created } : {}), medias });
  }
  const totals = dictAt(d.totals);
  const created = int(d, 'created');
  const lastSignal = int(d, 'last signal');
  return {
    ...(created !== undefined ? { createdS: created } : {}),
    ...(lastSignal !== undefined ? { lastSignalS: lastSignal } : {}),
    tags,
    ...(totals ? { totals: { rtp: counters(dictAt(totals.RTP)), rtcp: counters(dictAt(totals.RTCP)) } } : {}),
    raw: d,
  };
}
