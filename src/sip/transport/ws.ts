/**
 * SIP over WebSocket (RFC 7118) on the `ws` package: a listening HTTP(S) server whose upgrades become SIP connections,
 * `ws://` or `wss://` (TLS with a configured certificate). Each WebSocket message carries one SIP message (§5.1), so
 * there is no stream framing: the transport layer parses a message as it parses a datagram.
 *
 * A WebSocket peer is a browser or an app behind NAT that cannot be dialled: requests to it go back over the connection
 * it opened (RFC 7118 §5, the "flow" of RFC 5626), found by its connection id or its remote address and port. When the
 * connection closes, {@link WsHandlers.onClosed} tells the layers above so its registrations can be dropped.
 *
 * Limits like TCP's (issue 11): connections in total and per source address (refused at the handshake with 503), the
 * message size (`maxPayload`: a bigger message closes the connection with 1009), an idle timeout (a WebSocket ping at
 * half of it keeps a live but quiet browser; one that answers nothing is destroyed), and a write buffer limit.
 */
import http from 'node:http';
import https from 'node:https';
import { isUtf8 } from 'node:buffer';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../../common/index.js';
import type { Endpoint } from '../message.js';
import type { TcpLimits } from './tcp.js';
import type { Transport } from './transport.js';

/** The subprotocol RFC 7118 §4.1 registers; a handshake that does not offer it is refused. */
export const SIP_SUBPROTOCOL = 'sip';

/** One WebSocket connection (always accepted: we never dial a WebSocket peer). */
export interface WsConnection {
  readonly id: string;
  readonly remote: Endpoint;
  readonly local: Endpoint;
}

/** Callbacks from the WebSocket transport to the transport layer. */
export interface WsHandlers {
  /** One WebSocket message (one SIP message, or a CRLF keep-alive). */
  onMessage(buf: Buffer, conn: WsConnection): void;
  /** The connection is gone (closed by either side, or destroyed by a limit). */
  onClosed(conn: WsConnection): void;
}

/** Options of {@link WsTransport.listen}. */
export interface WsOptions {
  clock: Clock;
  /** Connection limits, read at every check (the TCP shape: total, per source, idle, write buffer). */
  limits: () => TcpLimits;
  maxMessageBytes: number;
  log?: Logger | undefined;
  /** For `wss`: the PEM certificate chain and private key. */
  tls?: { cert: Buffer; key: Buffer } | undefined;
}

/** Why a connection was refused or dropped. */
export type WsDropReason = 'subprotocol' | 'limit' | 'idle' | 'slow-reader';

/** Counters of the WebSocket transport. */
export interface WsStats {
  /** Handshakes refused, by reason. */
  refused: { subprotocol: number; limit: number };
  /** Connections destroyed, by reason. */
  dropped: { idle: number; 'slow-reader': number };
}

class Conn implements WsConnection {
  lastActivity: number;
  pinged = false;
  gone = false;

  constructor(readonly id: string, readonly ws: WebSocket, readonly remote: Endpoint, readonly local: Endpoint, now: number) {
    this.lastActivity = now;
  }
}

const peerKey = (address: string, port: number): string => `${address}|${port}`;
const PONG = Buffer.from('\r\n');

/** Whether a WebSocket message is a CRLF keep-alive (RFC 5626 §3.5.1 style), and whether it asks for a pong. */
function keepAlive(buf: Buffer): 'ping' | 'pong' | undefined {
  if (buf.length === 0 || buf.length > 4 || !buf.every((b) => b === 0x0d || b === 0x0a)) return undefined;
  return buf.length === 4 ? 'ping' : 'pong';
}

/** The subprotocols a handshake offers (`Sec-WebSocket-Protocol: sip, other`), lower-cased. */
function offeredProtocols(value: string | string[] | undefined): string[] {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return text.split(',').map((p) => p.trim().toLowerCase()).filter((p) => p !== '');
}

/** Refuses an upgrade with a plain HTTP answer, then destroys the socket. */
function refuse(socket: Duplex, status: number, reason: string, detail: string): void {
  const body = `${detail}\n`;
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** A listening `ws`/`wss` transport and its connections. */
export class WsTransport implements Transport {
  readonly reliable = true;
  readonly stats: WsStats = { refused: { subprotocol: 0, limit: 0 }, dropped: { idle: 0, 'slow-reader': 0 } };
  readonly #server: http.Server | undefined;
  readonly #wss: WebSocketServer;
  readonly #opts: WsOptions;
  readonly #handlers: WsHandlers;
  readonly #conns = new Map<string, Conn>();
  readonly #byPeer = new Map<string, Conn>();
  readonly #perSource = new Map<string, number>();
  #local: Endpoint;
  #seq = 0;
  #sweep: TimerHandle | undefined;
  #closed = false;

  private constructor(readonly protocol: 'ws' | 'wss', server: http.Server | undefined, local: Endpoint, opts: WsOptions, handlers: WsHandlers) {
    this.#server = server;
    this.#local = local;
    this.#opts = opts;
    this.#handlers = handlers;
    // Compression off: SIP messages are small, and permessage-deflate costs memory per connection (ws's own advice).
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes, clientTracking: false, perMessageDeflate: false,
      handleProtocols: (offered) => (offered.has(SIP_SUBPROTOCOL) ? SIP_SUBPROTOCOL : false) });
    this.#armSweep();
  }

  get local(): Endpoint {
    return this.#local;
  }

  /** Listens on `address:port` (0 = free port) with its own HTTP(S) server; rejects on bind failure. */
  static listen(protocol: 'ws' | 'wss', address: string, port: number, opts: WsOptions, handlers: WsHandlers): Promise<WsTransport> {
    if (protocol === 'wss' && !opts.tls) return Promise.reject(new TypeError('wss needs a certificate and a key'));
    const server = protocol === 'wss' ? https.createServer({ cert: opts.tls!.cert, key: opts.tls!.key }) : http.createServer();
    return new Promise((resolve, reject) => {
      const onErr = (err: Error): void => reject(err);
      server.once('error', onErr);
      server.listen({ host: address, port, ipv6Only: address.includes(':') }, () => {
        server.off('error', onErr);
        const a = server.address() as import('node:net').AddressInfo;
        const t = new WsTransport(protocol, server, { transport: protocol, address: a.address, port: a.port }, opts, handlers);
        // A plain HTTP request on a SIP WebSocket port is told what the port is for.
        server.on('request', (_req, res) => {
          res.writeHead(426, { Upgrade: 'websocket', 'Content-Type': 'text/plain' });
          res.end('SIP over WebSocket (RFC 7118): upgrade with Sec-WebSocket-Protocol: sip\n');
        });
        server.on('upgrade', (req, socket, head) => t.handleUpgrade(req, socket, head));
        server.on('clientError', (_err, socket) => socket.destroy());
        server.on('error', (err) => opts.log?.warn({ err }, `${protocol} server error`));
        resolve(t);
      });
    });
  }

  /**
   * A transport on someone else's HTTP server (the API's, on a path): the caller routes matching upgrades to
   * {@link handleUpgrade}. `local` is that server's address.
   */
  static attached(protocol: 'ws' | 'wss', local: { address: string; port: number }, opts: WsOptions, handlers: WsHandlers): WsTransport {
    return new WsTransport(protocol, undefined, { transport: protocol, address: local.address, port: local.port }, opts, handlers);
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.#conns.size;
  }

  /** Whether a connection is still open. */
  isOpen(connectionId: string): boolean {
    return this.#conns.has(connectionId);
  }

  /** Whether a connection from `address:port` is open (several WebSocket listeners: which one holds the flow). */
  hasPeer(address: string, port: number): boolean {
    return this.#byPeer.has(peerKey(address, port));
  }

  /**
   * An HTTP upgrade: RFC 7118 §4.1 — the client offers `sip` in Sec-WebSocket-Protocol and the server answers with it;
   * a handshake without it is refused with 400 (we speak nothing else on this port). Beyond a connection limit: 503.
   */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    if (this.#closed) return void socket.destroy();
    const source = req.socket.remoteAddress ?? '';
    if (!offeredProtocols(req.headers['sec-websocket-protocol']).includes(SIP_SUBPROTOCOL)) {
      this.stats.refused.subprotocol++;
      this.#opts.log?.debug({ source, offered: req.headers['sec-websocket-protocol'] ?? null }, 'websocket handshake without the sip subprotocol refused');
      return refuse(socket, 400, 'Bad Request', 'Sec-WebSocket-Protocol must offer "sip" (RFC 7118 §4.1)');
    }
    const limits = this.#opts.limits();
    const fromSource = this.#perSource.get(source) ?? 0;
    const why = this.#conns.size >= limits.maxConnections ? `${this.#conns.size} connections open (sip.ws.max_connections ${limits.maxConnections})`
      : fromSource >= limits.maxConnectionsPerSource ? `${fromSource} connections from ${source} (sip.ws.max_connections_per_source ${limits.maxConnectionsPerSource})`
        : undefined;
    if (why) {
      this.stats.refused.limit++;
      this.#opts.log?.debug({ source }, `websocket connection refused: ${why}`);
      return refuse(socket, 503, 'Service Unavailable', 'too many connections');
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#adopt(ws, req));
  }

  #adopt(ws: WebSocket, req: http.IncomingMessage): void {
    const s = req.socket;
    const remote: Endpoint = { transport: this.protocol, address: s.remoteAddress ?? '', port: s.remotePort ?? 0 };
    const local: Endpoint = { transport: this.protocol, address: s.localAddress ?? this.#local.address, port: this.#local.port };
    const conn = new Conn(`${this.protocol}-${this.#local.port}-${++this.#seq}`, ws, remote, local, this.#opts.clock.now());
    this.#conns.set(conn.id, conn);
    this.#byPeer.set(peerKey(remote.address, remote.port), conn);
    this.#perSource.set(remote.address, (this.#perSource.get(remote.address) ?? 0) + 1);
    if (this.#closed) return this.#drop(conn);
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      if (conn.gone) return;
      conn.lastActivity = this.#opts.clock.now();
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const ka = keepAlive(buf);
      // A CRLF CRLF ping gets a CRLF pong, as on TCP (RFC 5626 §4.4.1); a lone CRLF is a pong, absorbed.
      if (ka === 'ping') return void this.#write(conn, PONG);
      if (ka === 'pong') return;
      this.#handlers.onMessage(buf, conn);
    });
    ws.on('pong', () => {
      conn.lastActivity = this.#opts.clock.now();
      conn.pinged = false;
    });
    ws.on('error', (err) => this.#opts.log?.debug({ err: err.message, conn: conn.id }, 'websocket error'));
    ws.on('close', () => this.#forget(conn));
  }

  #forget(conn: Conn): void {
    if (conn.gone) return;
    conn.gone = true;
    const n = (this.#perSource.get(conn.remote.address) ?? 1) - 1;
    if (n <= 0) this.#perSource.delete(conn.remote.address);
    else this.#perSource.set(conn.remote.address, n);
    this.#conns.delete(conn.id);
    const key = peerKey(conn.remote.address, conn.remote.port);
    if (this.#byPeer.get(key) === conn) this.#byPeer.delete(key);
    try {
      this.#handlers.onClosed(conn);
    } catch (err) {
      this.#opts.log?.error({ err, conn: conn.id }, 'websocket close handler failed');
    }
  }

  #drop(conn: Conn, reason?: 'idle' | 'slow-reader'): void {
    if (reason) this.stats.dropped[reason]++;
    conn.ws.terminate();
    this.#forget(conn);
  }

  /** Sends as a text frame when the bytes are UTF-8 (every SIP message without a binary body), else as binary. */
  #write(conn: Conn, buf: Buffer, done?: (err?: Error) => void): void {
    conn.ws.send(buf, { binary: !isUtf8(buf) }, done);
    const limit = this.#opts.limits().writeBufferLimitBytes;
    if (conn.ws.bufferedAmount > limit) {
      this.#opts.log?.warn({ conn: conn.id, remote: conn.remote, queued: conn.ws.bufferedAmount, limit }, 'websocket peer does not read: connection destroyed');
      this.#drop(conn, 'slow-reader');
    }
  }

  /**
   * Sends bytes on `connectionId` if that connection is open, else on the open connection from `dest`. A WebSocket
   * peer is never dialled (RFC 7118 §5: the server sends over the connection the client opened), so with neither
   * this rejects.
   */
  async send(buf: Buffer, dest: { address: string; port: number }, connectionId?: string): Promise<void> {
    if (this.#closed) throw new Error('WebSocket transport closed');
    const conn = (connectionId !== undefined ? this.#conns.get(connectionId) : undefined) ?? this.#byPeer.get(peerKey(dest.address, dest.port));
    if (!conn || conn.gone) throw new Error(`no ${this.protocol} connection from ${dest.address}:${dest.port} (a WebSocket peer cannot be dialled)`);
    conn.lastActivity = this.#opts.clock.now();
    await new Promise<void>((resolve, reject) => this.#write(conn, buf, (err) => (err ? reject(err) : resolve())));
  }

  #armSweep(): void {
    const idleMs = this.#opts.limits().idleTimeoutMs;
    const every = Math.max(500, Math.floor(idleMs / 4));
    this.#sweep = this.#opts.clock.setTimeout(() => {
      const now = this.#opts.clock.now();
      const idle = this.#opts.limits().idleTimeoutMs;
      for (const conn of [...this.#conns.values()]) {
        const quiet = now - conn.lastActivity;
        if (quiet >= idle) {
          this.#opts.log?.debug({ conn: conn.id }, 'idle websocket connection destroyed');
          this.#drop(conn, 'idle');
        } else if (quiet >= idle / 2 && !conn.pinged) {
          // A browser sends nothing between registration refreshes: a ping it answers by itself keeps it.
          conn.pinged = true;
          conn.ws.ping();
        }
      }
      if (!this.#closed) this.#armSweep();
    }, every);
  }

  /** Closes the server and every connection (idempotent). */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    if (this.#sweep !== undefined) this.#opts.clock.clearTimeout(this.#sweep);
    for (const c of [...this.#conns.values()]) this.#drop(c);
    this.#wss.close();
    const server = this.#server;
    if (!server) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
