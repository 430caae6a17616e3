/**
 * TCP transport (RFC 3261 §18): a listening server plus outbound connections, one StreamFramer per
 * connection, connection reuse per peer address, and an idle sweep driven by the injected clock.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Endpoint, SipMessage } from '../message.js';
import { StreamFramer } from '../stream-framer.js';
import type { StartLineInfo } from '../parser.js';

/** One TCP connection (accepted or opened by us). */
export interface TcpConnection {
  readonly id: string;
  readonly remote: Endpoint;
  readonly local: Endpoint;
}

/** Callbacks from the TCP transport to the transport layer. */
export interface TcpHandlers {
  onMessage(msg: SipMessage, conn: TcpConnection): void;
  /**
   * A framing error; when `fatal` the connection is closed right after this returns, after writing the bytes
   * returned (a 400), if any.
   */
  onFramingError(conn: TcpConnection, error: { message: string }, fatal: boolean, startLine?: StartLineInfo): Buffer | undefined;
}

/** Options of {@link TcpTransport.listen}. */
export interface TcpOptions {
  clock: Clock;
  idleTimeoutMs: number;
  maxMessageBytes: number;
  log?: Logger | undefined;
}

class Conn implements TcpConnection {
  readonly id: string;
  remote: Endpoint;
  local: Endpoint;
  readonly socket: net.Socket;
  readonly framer: StreamFramer;
  lastActivity: number;
  ready: Promise<void>;
  readonly aliases: string[] = [];

  constructor(id: string, socket: net.Socket, remote: Endpoint, local: Endpoint, framer: StreamFramer, now: number, ready: Promise<void>) {
    this.id = id;
    this.socket = socket;
    this.remote = remote;
    this.local = local;
    this.framer = framer;
    this.lastActivity = now;
    this.ready = ready;
  }
}

const peerKey = (address: string, port: number): string => `${address}|${port}`;

/** A listening TCP transport and its connections. */
export class TcpTransport {
  readonly local: Endpoint;
  readonly #server: net.Server;
  readonly #opts: TcpOptions;
  readonly #handlers: TcpHandlers;
  readonly #conns = new Map<string, Conn>();
  readonly #byPeer = new Map<string, Conn>();
  #seq = 0;
  #sweep: TimerHandle | undefined;
  #closed = false;

  private constructor(server: net.Server, local: Endpoint, opts: TcpOptions, handlers: TcpHandlers) {
    this.#server = server;
    this.local = local;
    this.#opts = opts;
    this.#handlers = handlers;
    this.#armSweep();
  }

  /** Listens on `address:port` (0 = free port); rejects on bind failure. */
  static listen(address: string, port: number, opts: TcpOptions, handlers: TcpHandlers): Promise<TcpTransport> {
    const server = net.createServer({ noDelay: true });
    return new Promise((resolve, reject) => {
      const onErr = (err: Error): void => reject(err);
      server.once('error', onErr);
      server.listen({ host: address, port, ipv6Only: address.includes(':') }, () => {
        server.off('error', onErr);
        const a = server.address() as net.AddressInfo;
        const t = new TcpTransport(server, { transport: 'tcp', address: a.address, port: a.port }, opts, handlers);
        server.on('connection', (s) => t.#adopt(s, Promise.resolve()));
        server.on('error', (err) => opts.log?.warn({ err }, 'tcp server error'));
        resolve(t);
      });
    });
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.#conns.size;
  }

  /**
   * Makes requests to `address:port` reuse an open connection (the peer's Via sent-by of a request it sent us).
   * RFC 3261 §18.1.1 lets a UA receive requests on connections it opened; this is what makes a phone behind
   * NAT reachable over the connection it registered on (the idea of RFC 5923 aliases). A live entry wins.
   */
  alias(connectionId: string, address: string, port: number): void {
    const conn = this.#conns.get(connectionId);
    if (!conn) return;
    const key = peerKey(address, port);
    const existing = this.#byPeer.get(key);
    if (existing && this.#conns.has(existing.id)) return;
    this.#byPeer.set(key, conn);
    conn.aliases.push(key);
  }

  /** Whether a connection is still open. */
  isOpen(connectionId: string): boolean {
    return this.#conns.has(connectionId);
  }

  #adopt(socket: net.Socket, ready: Promise<void>, remoteHint?: Endpoint): Conn {
    socket.setNoDelay(true);
    const remote: Endpoint = remoteHint ?? { transport: 'tcp', address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const local: Endpoint = { transport: 'tcp', address: socket.localAddress ?? this.local.address, port: this.local.port };
    const framer = new StreamFramer({ maxBytes: this.#opts.maxMessageBytes });
    const conn = new Conn(`tcp-${++this.#seq}`, socket, remote, local, framer, this.#opts.clock.now(), ready);
    this.#conns.set(conn.id, conn);
    const key = peerKey(remote.address, remote.port);
    if (!this.#byPeer.has(key)) this.#byPeer.set(key, conn);
    socket.on('data', (chunk: Buffer) => this.#onData(conn, chunk));
    socket.on('error', (err) => this.#opts.log?.debug({ err: err.message, conn: conn.id }, 'tcp socket error'));
    socket.on('close', () => this.#forget(conn));
    return conn;
  }

  #forget(conn: Conn): void {
    this.#conns.delete(conn.id);
    for (const key of [peerKey(conn.remote.address, conn.remote.port), ...conn.aliases]) {
      if (this.#byPeer.get(key) === conn) this.#byPeer.delete(key);
    }
  }

  #onData(conn: Conn, chunk: Buffer): void {
    conn.lastActivity = this.#opts.clock.now();
    for (const item of conn.framer.push(chunk)) {
      if (item.kind === 'message') {
        this.#handlers.onMessage(item.message, conn);
      } else if (item.kind === 'keepalive') {
        // RFC 5626 §4.4.1: answer a double-CRLF ping with a single CRLF pong.
        if (item.pong) conn.socket.write('\r\n');
      } else {
        const reply = this.#handlers.onFramingError(conn, item.error, item.fatal, item.startLine);
        if (item.fatal) {
          if (reply) conn.socket.end(reply);
          else conn.socket.end();
          this.#forget(conn);
          return;
        }
      }
    }
  }

  /**
   * Sends bytes: on `connectionId` if that connection is open, else on a connection to `dest` (reused when
   * one exists, opened otherwise). Rejects when the connection cannot be opened or the write fails.
   */
  async send(buf: Buffer, dest: { address: string; port: number }, connectionId?: string): Promise<void> {
    if (this.#closed) throw new Error('TCP transport closed');
    let conn = connectionId !== undefined ? this.#conns.get(connectionId) : undefined;
    conn ??= this.#byPeer.get(peerKey(dest.address, dest.port));
    conn ??= this.#connect(dest);
    await conn.ready;
    conn.lastActivity = this.#opts.clock.now();
    await new Promise<void>((resolve, reject) => {
      conn.socket.write(buf, (err) => (err ? reject(err) : resolve()));
    });
  }

  #connect(dest: { address: string; port: number }): Conn {
    const socket = net.connect({ host: dest.address, port: dest.port, localAddress: this.#localFor(dest.address) });
    const ready = new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', (err) => reject(err));
    });
    ready.catch(() => undefined);
    const conn = this.#adopt(socket, ready, { transport: 'tcp', address: dest.address, port: dest.port });
    ready.then(() => {
      conn.local = { transport: 'tcp', address: socket.localAddress ?? this.local.address, port: this.local.port };
    }, () => this.#forget(conn));
    return conn;
  }

  #localFor(remote: string): string | undefined {
    const a = this.local.address;
    if (a === '0.0.0.0' || a === '::') return undefined;
    if (a.includes(':') !== remote.includes(':')) return undefined;
    return a;
  }

  #armSweep(): void {
    const every = Math.max(1000, Math.floor(this.#opts.idleTimeoutMs / 4));
    this.#sweep = this.#opts.clock.setTimeout(() => {
      const cutoff = this.#opts.clock.now() - this.#opts.idleTimeoutMs;
      for (const conn of this.#conns.values()) {
        if (conn.lastActivity <= cutoff) {
          this.#opts.log?.debug({ conn: conn.id }, 'closing idle tcp connection');
          conn.socket.end();
          this.#forget(conn);
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
    for (const c of this.#conns.values()) c.socket.destroy();
    this.#conns.clear();
    this.#byPeer.clear();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
