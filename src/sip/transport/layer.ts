/**
 * The transport layer (RFC 3261 §18): binds UDP, TCP and WebSocket (RFC 7118) listeners, parses what arrives, stamps
 * `received`/`rport` on requests (§18.2.1, RFC 3581), answers unroutable garbage per STYLE.md §7, and sends
 * requests and responses on the right socket (§18.1.1, §18.2.2).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../common/index.js';
import type { Endpoint, SipMessage, SipRequest } from '../message.js';
import { canonicalName, keyOf } from '../message.js';
import { parseMessage, missingMandatoryHeader, unacceptableVersion, type StartLineInfo } from '../parser.js';
import { serializeMessage } from '../serializer.js';
import { parseNameAddr, parseVia } from '../headers.js';
import { UdpTransport } from './udp.js';
import { TcpTransport, type TcpConnection, type TcpLimits, type TcpStats } from './tcp.js';
import { readTopVia, stampReceived, viaParam, type TopVia } from './via.js';
import { isDialable, isReliable, type Transport, type TransportProtocol } from './transport.js';
import { WsTransport, type WsConnection, type WsHandlers, type WsOptions, type WsStats } from './ws.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** One listen address. */
export interface ListenSpec {
  transport: TransportProtocol;
  address: string;
  port: number;
  /** `wss` only: the PEM certificate chain and private key. */
  tls?: { cert: Buffer; key: Buffer };
}

/** A message that arrived, with where it came from. */
export interface Inbound {
  message: SipMessage;
  source: Endpoint;
  local: Endpoint;
  /** The connection it arrived on (connection-oriented transports). */
  connectionId?: string;
  /** A request's top Via as stamped with received/rport (parsed once here, reused by the layers above). */
  via?: TopVia;
}

/** Where a response to a request goes (§18.2.2): the connection it came on, else `dest`. */
export interface ResponseRoute {
  dest: Endpoint;
  connectionId?: string;
}

/** Options of {@link TransportLayer.create}. */
export interface TransportLayerOptions {
  listen: ListenSpec[];
  clock: Clock;
  log?: Logger | undefined;
  maxMessageBytes: number;
  /** TCP connection limits, read at every check. */
  tcpLimits: () => TcpLimits;
  /** WebSocket connection limits (same shape), read at every check; default the TCP ones. */
  wsLimits?: () => TcpLimits;
  /** A connection-bound flow (a WebSocket connection) closed: requests can no longer reach that peer. */
  onFlowClosed?: (remote: Endpoint) => void;
  /** Every parsed message with its mandatory headers present. */
  onMessage: (inbound: Inbound) => void;
}

/** Counters kept by the transport layer. */
export interface TransportStats {
  received: number;
  sent: number;
  parseErrors: number;
}

const LOG_INTERVAL_MS = 10_000;

function firstLine(msg: SipMessage): string {
  return msg.kind === 'request' ? `${msg.method} ${msg.uri}` : `${msg.status} ${msg.reason}`;
}

/** The start line of serialized bytes (debug lines only). */
function wireFirstLine(buf: Buffer): string {
  const end = buf.indexOf('\r\n');
  return buf.toString('utf8', 0, end === -1 ? Math.min(buf.length, 200) : Math.min(end, 200));
}

/** Headers a stateless 400 copies from the request (RFC 3261 §8.2.6.2), by canonical name. */
const COPIED_TO_400 = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

/**
 * A stateless 400 with the given reason phrase and copied header lines. `encoding` is the one the lines were decoded
 * with (utf8 for parsed headers, latin1 for raw lines of an unparsable message), so their bytes go back unchanged.
 */
function badRequestText(reason: string, headerLines: readonly string[], encoding: 'utf8' | 'latin1', status = 400): Buffer {
  return Buffer.from([`SIP/2.0 ${status} ${reason}`, ...headerLines, 'Content-Length: 0', '', ''].join('\r\n'), encoding);
}

/**
 * A From or To line fit to copy into a 400: as it came when it parses, else cut to its name-addr (`;tag=a|b` and
 * any other unreadable parameters dropped), else undefined. Copied verbatim, a broken From makes the 400 itself
 * unparsable and the client never learns why it was refused; the client matches the 400 by Via branch and CSeq
 * (RFC 3261 §17.1.3), not by tag, so the cut value still reaches its transaction.
 */
function usableNameAddrLine(line: string, colon: number): string | undefined {
  const value = line.slice(colon + 1).trim();
  if (parseNameAddr(value)) return line;
  const gt = value.indexOf('>');
  const semi = value.indexOf(';');
  const cut = gt !== -1 ? value.slice(0, gt + 1) : semi !== -1 ? value.slice(0, semi) : value;
  return parseNameAddr(cut) ? `${line.slice(0, colon)}: ${cut}` : undefined;
}

/**
 * A 400 for a request that failed to parse: the top Via, From, To, Call-ID and CSeq lines are copied as they came
 * (line by line, so nothing the parser refused is interpreted; a broken From/To cut to its name-addr), the reason
 * phrase names the problem. Undefined when the top Via cannot be read (nowhere to send it). The caller sends it to
 * the packet source or on the connection, so a broken Via cannot redirect it elsewhere.
 */
function rawBadRequest(buf: Buffer, problem: string): Buffer | undefined {
  const head = buf.subarray(0, Math.min(buf.length, 8192)).toString('latin1');
  const end = head.indexOf('\r\n\r\n');
  const lines = (end === -1 ? head : head.slice(0, end)).split('\r\n').slice(1);
  const keep: string[] = [];
  let vias = 0;
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = canonicalName(line.slice(0, colon).trim());
    // Only the top Via: the others were not parsed and may be what broke the message.
    if (name === 'via') {
      if (vias++ === 0) keep.push(line);
    } else if (name === 'from' || name === 'to') {
      const usable = usableNameAddrLine(line, colon);
      if (usable !== undefined) keep.push(usable);
    } else if (COPIED_TO_400.has(name)) keep.push(line);
  }
  const topVia = keep.find((l) => /^\s*(via|v)\s*:/i.test(l));
  if (!topVia || !parseVia(topVia.slice(topVia.indexOf(':') + 1).trim())) return undefined;
  const reason = `Bad Request (${problem.replace(/[^\x20-\x7e]/g, '').slice(0, 120)})`;
  return badRequestText(reason, keep, 'latin1');
}

export class TransportLayer {
  readonly listening: ListenSpec[] = [];
  readonly stats: TransportStats = { received: 0, sent: 0, parseErrors: 0 };
  /** Every bound transport, in listen order: what sends and closes. */
  readonly #transports: Transport[] = [];
  /** The TCP ones again, for what only TCP has (aliases, limits, counters). */
  readonly #tcp: TcpTransport[] = [];
  readonly #ws: WsTransport[] = [];
  readonly #opts: TransportLayerOptions;
  #lastParseLog = -Infinity;
  #suppressed = 0;

  private constructor(opts: TransportLayerOptions) {
    this.#opts = opts;
  }

  /** Per-message debug lines only when the logger would print them (no allocation otherwise). */
  get #debug(): boolean {
    return this.#opts.log?.isLevelEnabled('debug') ?? false;
  }

  /** Binds every listen address; rejects (after closing what was bound) on the first failure. */
  static async create(opts: TransportLayerOptions): Promise<TransportLayer> {
    const layer = new TransportLayer(opts);
    try {
      for (const spec of opts.listen) {
        if (spec.transport === 'udp') {
          const u = await UdpTransport.bind(spec.address, spec.port, (buf, src, local) => layer.#onDatagram(buf, src, local),
            (err) => opts.log?.warn({ err }, 'udp socket error'));
          layer.#transports.push(u);
          layer.listening.push({ ...u.local });
        } else if (spec.transport === 'tcp') {
          const t = await TcpTransport.listen(spec.address, spec.port, {
            clock: opts.clock, limits: opts.tcpLimits, maxMessageBytes: opts.maxMessageBytes, log: opts.log,
          }, {
            onMessage: (msg, conn) => layer.#onStreamMessage(msg, conn),
            onFramingError: (conn, error, fatal, startLine, head) => layer.#onFramingError(conn, error, fatal, startLine, head),
          });
          layer.#transports.push(t);
          layer.#tcp.push(t);
          layer.listening.push({ ...t.local });
        } else if (spec.transport === 'ws' || spec.transport === 'wss') {
          const w = await WsTransport.listen(spec.transport, spec.address, spec.port, layer.#wsOptions(spec.tls), layer.#wsHandlers());
          layer.#transports.push(w);
          layer.#ws.push(w);
          layer.listening.push({ ...w.local });
        } else {
          throw new TypeError(`unsupported transport ${String((spec as ListenSpec).transport)}`);
        }
      }
    } catch (err) {
      await layer.close();
      throw err;
    }
    return layer;
  }

  #wsOptions(tls?: { cert: Buffer; key: Buffer }): WsOptions {
    const o = this.#opts;
    return { clock: o.clock, limits: o.wsLimits ?? o.tcpLimits, maxMessageBytes: o.maxMessageBytes, log: o.log, tls };
  }

  #wsHandlers(): WsHandlers {
    return {
      onMessage: (buf, conn) => this.#onWsMessage(buf, conn),
      onClosed: (conn) => this.#opts.onFlowClosed?.({ ...conn.remote }),
    };
  }

  /**
   * SIP over WebSocket on an HTTP server that is not ours (the API's, on a path): returns the handler its `upgrade`
   * events go to. The transport joins `listening` with that server's address.
   */
  attachWebSocket(protocol: 'ws' | 'wss', local: { address: string; port: number }): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
    const w = WsTransport.attached(protocol, local, this.#wsOptions(), this.#wsHandlers());
    this.#transports.push(w);
    this.#ws.push(w);
    this.listening.push({ ...w.local });
    return (req, socket, head) => w.handleUpgrade(req, socket, head);
  }

  /** RFC 7118 §5.1: one WebSocket message is one SIP message; Content-Length may be absent. Parsed like a datagram. */
  #onWsMessage(buf: Buffer, conn: WsConnection): void {
    const r = parseMessage(buf, { maxBytes: this.#opts.maxMessageBytes });
    if (!r.ok) {
      this.stats.parseErrors++;
      this.#logParseError(conn.remote, r.error.message);
      if (r.startLine?.kind === 'request' && r.startLine.method !== 'ACK') {
        const reply = rawBadRequest(buf, r.error.message);
        if (reply) this.#sendRaw(reply, conn.remote, conn.id).catch(() => undefined);
      }
      return;
    }
    this.#deliver({ message: r.message, source: { ...conn.remote }, local: { ...conn.local }, connectionId: conn.id });
  }

  #onDatagram(buf: Buffer, source: Endpoint, local: Endpoint): void {
    // RFC 5626 §3.5.1 keep-alives (CRLF) on UDP are silently ignored.
    if (buf.length <= 4 && buf.every((b) => b === 0x0d || b === 0x0a)) return;
    const r = parseMessage(buf, { maxBytes: this.#opts.maxMessageBytes });
    if (!r.ok) {
      // STYLE.md §7: "An unparsable UDP datagram is dropped, counted and logged with a rate limit" — unless it is a
      // request whose top Via we can still read: then RFC 3261 §8.2 lets us say why with a 400.
      this.stats.parseErrors++;
      this.#logParseError(source, r.error.message);
      if (r.startLine?.kind === 'request' && r.startLine.method !== 'ACK') this.#badRequestRaw(buf, source, r.error.message);
      return;
    }
    this.#deliver({ message: r.message, source, local });
  }

  #onStreamMessage(message: SipMessage, conn: TcpConnection): void {
    this.#deliver({ message, source: { ...conn.remote }, local: { ...conn.local }, connectionId: conn.id });
  }

  #onFramingError(conn: TcpConnection, error: { message: string }, fatal: boolean, startLine?: StartLineInfo, head?: Buffer): Buffer | undefined {
    this.stats.parseErrors++;
    this.#logParseError(conn.remote, error.message);
    // STYLE.md §7: "On TCP we send 400 if the request line parsed, then close." A message the framer could skip
    // (its Content-Length known) gets its 400 too, and the connection goes on. The 400 copies the request's Via,
    // From, To, Call-ID and CSeq when the header section was read, so the client's transaction sees it.
    if (startLine?.kind !== 'request' || startLine.method === 'ACK') return undefined;
    const copied = head ? rawBadRequest(head, error.message) : undefined;
    if (!copied && !fatal) return undefined;
    this.stats.sent++;
    return copied ?? Buffer.from(`SIP/2.0 400 Bad Request\r\nWarning: 399 - "${error.message.replace(/["\r\n\\]/g, '')}"\r\nContent-Length: 0\r\n\r\n`);
  }

  #logParseError(source: Endpoint, message: string): void {
    const now = this.#opts.clock.now();
    if (now - this.#lastParseLog < LOG_INTERVAL_MS) {
      this.#suppressed++;
      return;
    }
    this.#opts.log?.debug({ source, error: message, suppressed: this.#suppressed }, 'dropped unparsable SIP message');
    this.#lastParseLog = now;
    this.#suppressed = 0;
  }

  #deliver(inbound: Inbound): void {
    try {
      this.#deliverUnsafe(inbound);
    } catch (err) {
      // Bad input never crashes us (STYLE.md §1); reaching this is a bug worth an error line.
      this.stats.parseErrors++;
      this.#opts.log?.error({ err, source: inbound.source }, 'error while delivering a SIP message');
    }
  }

  #deliverUnsafe(inbound: Inbound): void {
    const msg = inbound.message;
    this.stats.received++;
    if (this.#debug) this.#opts.log!.debug({ from: inbound.source, line: firstLine(msg), callId: msg.callId }, 'sip in');
    const missing = missingMandatoryHeader(msg);
    if (msg.kind === 'request') {
      const via = stampReceived(msg, inbound.source.address, inbound.source.port);
      if (missing !== undefined) {
        this.stats.parseErrors++;
        // STYLE.md §7: "A missing mandatory header gets a 400 whose reason phrase names it" — when routable.
        if (via && msg.method !== 'ACK') this.#badRequest(msg, inbound, `Missing or invalid ${missing} header`);
        return;
      }
      if (!via) return;
      const version = unacceptableVersion(msg);
      if (version) {
        this.stats.parseErrors++;
        if (msg.method !== 'ACK') this.#badRequest(msg, inbound, version.reason, version.status);
        return;
      }
      inbound.via = via;
      // The alias is the packet's source address with the Via port, never an address the client wrote.
      if (inbound.source.transport === 'tcp' && inbound.connectionId !== undefined && via.port !== undefined) this.#tcpByPort(inbound.local.port)?.alias(inbound.connectionId, inbound.source.address, via.port);
    } else if (missing !== undefined) {
      this.stats.parseErrors++;
      this.#logParseError(inbound.source, `response without ${missing}`);
      return;
    }
    this.#opts.onMessage(inbound);
  }

  #badRequest(req: SipRequest, inbound: Inbound, reason: string, status = 400): void {
    const copied = req.headers.filter((h) => COPIED_TO_400.has(keyOf(h))).map((h) => `${h.name}: ${h.value}`);
    const route = this.responseRoute(req, inbound);
    if (route) this.#sendRaw(badRequestText(reason, copied, 'utf8', status), route.dest, route.connectionId).catch(() => undefined);
  }

  /** A 400 for a datagram that failed to parse, sent to its source address and port (RFC 3581 behaviour). */
  #badRequestRaw(buf: Buffer, source: Endpoint, problem: string): void {
    const reply = rawBadRequest(buf, problem);
    if (reply) this.#sendRaw(reply, { transport: 'udp', address: source.address, port: source.port }).catch(() => undefined);
  }

  /**
   * §18.2.2 (with RFC 3581): reliable → the connection the request came on (else a new one to received/sent-by);
   * unreliable → `received`:`rport` when rport is present, else `received` (or sent-by host) and sent-by port.
   */
  responseRoute(req: SipRequest, inbound: { source: Endpoint; connectionId?: string; via?: TopVia }): ResponseRoute | undefined {
    const via = inbound.via ?? readTopVia(req);
    if (!via) return undefined;
    const received = viaParam(via, 'received');
    const host = received ?? via.host;
    // RFC 7118 §5: a WebSocket client's Via names a host nobody can reach; its responses go back on its connection,
    // which is known by the packet source (the `received`/`rport` it gets say the same), never by sent-by.
    if (!isDialable(inbound.source.transport)) {
      const dest: Endpoint = { ...inbound.source };
      return inbound.connectionId !== undefined ? { dest, connectionId: inbound.connectionId } : { dest };
    }
    if (isReliable(inbound.source.transport)) {
      const dest: Endpoint = { transport: inbound.source.transport, address: host, port: via.port ?? 5060 };
      return inbound.connectionId !== undefined ? { dest, connectionId: inbound.connectionId } : { dest };
    }
    const rport = viaParam(via, 'rport');
    const port = rport ? Number(rport) : (via.port ?? 5060);
    return { dest: { transport: 'udp', address: host, port } };
  }

  /** Serializes and sends a message. Rejects on a transport error. */
  send(msg: SipMessage, dest: Endpoint, connectionId?: string): Promise<void> {
    if (this.#debug) this.#opts.log!.debug({ to: dest, line: firstLine(msg), callId: msg.callId }, 'sip out');
    let buf: Buffer;
    try {
      buf = serializeMessage(msg);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return this.#sendRaw(buf, dest, connectionId);
  }

  /** Sends a message already serialized (a transaction's bytes, sent once and resent as they are). Rejects on a transport error. */
  sendWire(buf: Buffer, dest: Endpoint, connectionId?: string): Promise<void> {
    if (this.#debug) this.#opts.log!.debug({ to: dest, line: wireFirstLine(buf) }, 'sip out');
    return this.#sendRaw(buf, dest, connectionId);
  }

  #sendRaw(buf: Buffer, dest: Endpoint, connectionId?: string): Promise<void> {
    this.stats.sent++;
    const address = dest.address === 'localhost' ? (this.#hasFamily(dest.transport, 4) ? '127.0.0.1' : '::1') : dest.address;
    const t = this.#transportFor(dest.transport, address, (w) => (connectionId !== undefined && w.isOpen(connectionId)) || w.hasPeer(address, dest.port));
    if (!t) return Promise.reject(new Error(`no ${dest.transport.toUpperCase()} listener for ${address}`));
    // A datagram has no framing to carry more; a stream transport frames any size (its reader enforces the cap).
    if (!t.reliable && buf.length > this.#opts.maxMessageBytes) return Promise.reject(new Error(`message of ${buf.length} bytes > ${this.#opts.maxMessageBytes}`));
    return t.send(buf, { address, port: dest.port }, connectionId);
  }

  #hasFamily(transport: TransportProtocol, family: 4 | 6): boolean {
    return this.listening.some((l) => l.transport === transport && l.address.includes(':') === (family === 6));
  }

  /**
   * The transport of `protocol` whose address family matches `remote`. A connection-oriented one falls back to any
   * listener of its protocol (a connection carries its own addressing); a datagram socket of the other family cannot.
   */
  #transportFor(protocol: TransportProtocol, remote: string, holdsFlow?: (w: WsTransport) => boolean): Transport | undefined {
    // A WebSocket flow lives on the listener it was accepted by (its own port, or the HTTP server's path).
    const flow = !isDialable(protocol) && holdsFlow ? this.#ws.find((w) => w.protocol === protocol && holdsFlow(w)) : undefined;
    if (flow) return flow;
    const v6 = remote.includes(':');
    const same = this.#transports.find((t) => t.protocol === protocol && t.local.address.includes(':') === v6);
    return same ?? (isReliable(protocol) ? this.#transports.find((t) => t.protocol === protocol) : undefined);
  }

  #tcpByPort(port: number): TcpTransport | undefined {
    return this.#tcp.find((t) => t.local.port === port);
  }

  /** Open TCP connections across listeners. */
  get tcpConnections(): number {
    return this.#tcp.reduce((n, t) => n + t.connectionCount, 0);
  }

  /** TCP counters summed over listeners, with the sockets not yet closed and the bytes queued now. */
  get tcpStats(): TcpStats & { connections: number; sockets: number; queuedBytes: number; peerEntries: number } {
    const sum: TcpStats & { connections: number; sockets: number; queuedBytes: number; peerEntries: number } = {
      refused: 0, dropped: { framing: 0, idle: 0, 'slow-reader': 0 }, paused: 0, maxQueuedBytes: 0, connections: 0, sockets: 0, queuedBytes: 0, peerEntries: 0,
    };
    for (const t of this.#tcp) {
      sum.refused += t.stats.refused;
      sum.paused += t.stats.paused;
      sum.maxQueuedBytes = Math.max(sum.maxQueuedBytes, t.stats.maxQueuedBytes);
      for (const k of ['framing', 'idle', 'slow-reader'] as const) sum.dropped[k] += t.stats.dropped[k];
      sum.connections += t.connectionCount;
      sum.sockets += t.socketCount;
      sum.queuedBytes += t.queuedBytes;
      sum.peerEntries += t.peerEntries;
    }
    return sum;
  }

  /** WebSocket counters summed over listeners, with the connections open now. */
  get wsStats(): WsStats & { connections: number } {
    const sum = { refused: { subprotocol: 0, limit: 0 }, dropped: { idle: 0, 'slow-reader': 0 }, connections: 0 };
    for (const w of this.#ws) {
      sum.refused.subprotocol += w.stats.refused.subprotocol;
      sum.refused.limit += w.stats.refused.limit;
      sum.dropped.idle += w.stats.dropped.idle;
      sum.dropped['slow-reader'] += w.stats.dropped['slow-reader'];
      sum.connections += w.connectionCount;
    }
    return sum;
  }

  /** Closes every socket (idempotent). */
  async close(): Promise<void> {
    await Promise.all(this.#transports.map((t) => t.close()));
  }
}
