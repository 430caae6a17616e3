/**
 * TCP transport (RFC 3261 §18): a listening server plus outbound connections, one StreamFramer per
 * connection, connection reuse per peer address, and an idle sweep driven by the injected clock.
 *
 * Hardening (issue 11): limits on connections in total and per source address (an extra inbound connection is
 * destroyed at once); sockets are destroyed, never only ended, on a framing error (after a short linger for the 400),
 * on idle timeout and on a peer that does not read; write backpressure: past a quarter of the write-buffer limit we
 * stop reading from that peer until its queue drains, past the limit (or blocked for an idle timeout) it is dropped;
 * at most {@link MAX_ALIASES_PER_CONNECTION} aliases per connection.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/index.js';
import type { Endpoint, SipMessage } from '../message.js';
import { StreamFramer } from '../stream-framer.js';
import type { StartLineInfo } from '../parser.js';
import type { Transport } from './transport.js';

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
   * A framing error; when `fatal` the connection is destroyed right after writing the bytes returned (a 400), if
   * any; otherwise the message was skipped, the bytes returned are sent and the connection goes on. `head` is the
   * message's header section when it was delimited.
   */
  onFramingError(conn: TcpConnection, error: { message: string }, fatal: boolean, startLine?: StartLineInfo, head?: Buffer): Buffer | undefined;
}

/** Connection limits, read again at every check (a live configuration applies at once). */
export interface TcpLimits {
  /** Open connections, accepted and opened; an inbound one beyond it is destroyed at once. */
  maxConnections: number;
  /** Accepted connections from one source IP address. */
  maxConnectionsPerSource: number;
  /** A connection without traffic for this long is destroyed. */
  idleTimeoutMs: number;
  /** Bytes queued for a peer: reading pauses at a quarter of it, the connection is destroyed beyond it. */
  writeBufferLimitBytes: number;
}

/** Defaults of {@link TcpLimits} (Kamailio's tcp_max_connections is 2048 too). */
export const DEFAULT_TCP_LIMITS: Readonly<TcpLimits> = Object.freeze({
  maxConnections: 2048, maxConnectionsPerSource: 64, idleTimeoutMs: 10 * 60 * 1000, writeBufferLimitBytes: 1024 * 1024,
});

/** Aliases (Via sent-by ports of one peer address) one connection may carry; more are ignored. */
export const MAX_ALIASES_PER_CONNECTION = 8;

/** How long a connection closed after a framing error may take to flush its 400 before it is destroyed. */
export const LINGER_MS = 2000;

/** Why the transport destroyed a connection. */
export type TcpDropReason = 'framing' | 'idle' | 'slow-reader';

/** Counters of the TCP transport. */
export interface TcpStats {
  /** Inbound connections destroyed at once by a limit. */
  refused: number;
  /** Connections destroyed, by reason. */
  dropped: Record<TcpDropReason, number>;
  /** Times reading from a peer was paused because our writes to it backed up. */
  paused: number;
  /** The most bytes ever queued for one peer. */
  maxQueuedBytes: number;
}

/** Options of {@link TcpTransport.listen}. */
export interface TcpOptions {
  clock: Clock;
  limits: () => TcpLimits;
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
  /** Accepted from a peer (counts against the per-source limit), not opened by us. */
  inbound = false;
  /** Reading paused until the peer drains what we wrote (since when). */
  blockedSince: number | undefined;
  gone = false;

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
const PONG = Buffer.from('\r\n');

/** A listening TCP transport and its connections. */
export class TcpTransport implements Transport {
  readonly protocol = 'tcp' as const;
  readonly reliable = true;
  readonly local: Endpoint;
  readonly #server: net.Server;
  readonly #opts: TcpOptions;
  readonly #handlers: TcpHandlers;
  readonly #conns = new Map<string, Conn>();
  readonly #byPeer = new Map<string, Conn>();
  /** Accepted connections per source address. */
  readonly #perSource = new Map<string, number>();
  /** Sockets not yet closed, including ones already forgotten and lingering (tests watch this reach zero). */
  readonly #sockets = new Set<net.Socket>();
  readonly stats: TcpStats = { refused: 0, dropped: { framing: 0, idle: 0, 'slow-reader': 0 }, paused: 0, maxQueuedBytes: 0 };
  #lastRefusalLog = -Infinity;
  #refusalsSuppressed = 0;
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
        server.on('connection', (s) => t.#accept(s));
        server.on('error', (err) => opts.log?.warn({ err }, 'tcp server error'));
        resolve(t);
      });
    });
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.#conns.size;
  }

  /** Sockets not yet closed (a destroyed socket leaves at once; one only ended would wait for its peer). */
  get socketCount(): number {
    return this.#sockets.size;
  }

  /** Entries of the peer table (each connection's own address plus its aliases). */
  get peerEntries(): number {
    return this.#byPeer.size;
  }

  /** Bytes queued for peers right now, over every connection. */
  get queuedBytes(): number {
    let n = 0;
    for (const c of this.#conns.values()) n += c.socket.writableLength;
    return n;
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
    // Bounded: a peer writing a new Via port in every request must not grow the table without end.
    if (conn.aliases.length >= MAX_ALIASES_PER_CONNECTION) return;
    this.#byPeer.set(key, conn);
    conn.aliases.push(key);
  }

  /** Whether a connection is still open. */
  isOpen(connectionId: string): boolean {
    return this.#conns.has(connectionId);
  }

  /** A new inbound connection: destroyed at once beyond the total or per-source limit. */
  #accept(socket: net.Socket): void {
    const limits = this.#opts.limits();
    const source = socket.remoteAddress ?? '';
    const fromSource = this.#perSource.get(source) ?? 0;
    const why = this.#conns.size >= limits.maxConnections ? `${this.#conns.size} connections open (sip.tcp.max_connections ${limits.maxConnections})`
      : fromSource >= limits.maxConnectionsPerSource ? `${fromSource} connections from ${source} (sip.tcp.max_connections_per_source ${limits.maxConnectionsPerSource})`
        : undefined;
    if (why) {
      this.stats.refused++;
      socket.on('error', () => undefined);
      socket.destroy();
      this.#logRefusal(source, why);
      return;
    }
    const conn = this.#adopt(socket, Promise.resolve());
    conn.inbound = true;
    this.#perSource.set(source, fromSource + 1);
  }

  #logRefusal(source: string, why: string): void {
    const now = this.#opts.clock.now();
    if (now - this.#lastRefusalLog < 10_000) {
      this.#refusalsSuppressed++;
      return;
    }
    this.#opts.log?.warn({ source, suppressed: this.#refusalsSuppressed }, `tcp connection refused: ${why}`);
    this.#lastRefusalLog = now;
    this.#refusalsSuppressed = 0;
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
    this.#sockets.add(socket);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      this.#forget(conn);
    });
    return conn;
  }

  #forget(conn: Conn): void {
    if (conn.gone) return;
    conn.gone = true;
    if (conn.inbound) {
      const n = (this.#perSource.get(conn.remote.address) ?? 1) - 1;
      if (n <= 0) this.#perSource.delete(conn.remote.address);
      else this.#perSource.set(conn.remote.address, n);
    }
    this.#conns.delete(conn.id);
    for (const key of [peerKey(conn.remote.address, conn.remote.port), ...conn.aliases]) {
      if (this.#byPeer.get(key) === conn) this.#byPeer.delete(key);
    }
  }

  #onData(conn: Conn, chunk: Buffer): void {
    if (conn.gone) return;
    conn.lastActivity = this.#opts.clock.now();
    for (const item of conn.framer.push(chunk)) {
      if (conn.gone) return;
      if (item.kind === 'message') {
        this.#handlers.onMessage(item.message, conn);
      } else if (item.kind === 'keepalive') {
        // RFC 5626 §4.4.1: answer a double-CRLF ping with a single CRLF pong.
        if (item.pong) this.#write(conn, PONG);
      } else {
        const reply = this.#handlers.onFramingError(conn, item.error, item.fatal, item.startLine, item.head);
        if (item.fatal) return this.#drop(conn, 'framing', reply);
        if (reply) this.#write(conn, reply);
      }
    }
  }

  /**
   * Writes to a peer with backpressure: past a quarter of the limit we stop reading from it (it gets no more answers
   * to queue up) until its queue drains; past the limit it is dropped. Without this a peer that sends and never reads
   * makes us buffer its answers without bound.
   */
  #write(conn: Conn, buf: Buffer, done?: (err?: Error | null) => void): void {
    const socket = conn.socket;
    socket.write(buf, done);
    const queued = socket.writableLength;
    if (queued > this.stats.maxQueuedBytes) this.stats.maxQueuedBytes = queued;
    const limit = this.#opts.limits().writeBufferLimitBytes;
    if (queued > limit) {
      this.#opts.log?.warn({ conn: conn.id, remote: conn.remote, queued, limit }, 'tcp peer does not read: connection destroyed (sip.tcp.write_buffer_limit_kib)');
      this.#drop(conn, 'slow-reader');
    } else if (queued > limit / 4 && conn.blockedSince === undefined) {
      conn.blockedSince = this.#opts.clock.now();
      this.stats.paused++;
      socket.pause();
      this.#opts.log?.debug({ conn: conn.id, queued }, 'tcp peer reads slowly: reading paused until it drains');
      socket.once('drain', () => {
        conn.blockedSince = undefined;
        if (!conn.gone) socket.resume();
      });
    }
  }

  /**
   * Forgets a connection and destroys its socket; with `reply`, after the reply is flushed or {@link LINGER_MS},
   * whichever is first. Ending alone would leave the socket to a peer that never sends its FIN.
   */
  #drop(conn: Conn, reason: TcpDropReason, reply?: Buffer): void {
    if (conn.gone) return;
    this.#forget(conn);
    this.stats.dropped[reason]++;
    const socket = conn.socket;
    if (!reply) {
      socket.destroy();
      return;
    }
    const timer = this.#opts.clock.setTimeout(() => socket.destroy(), LINGER_MS);
    socket.once('close', () => this.#opts.clock.clearTimeout(timer));
    socket.end(reply, () => socket.destroy());
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
    if (conn.gone) throw new Error(`TCP connection ${conn.id} closed`);
    conn.lastActivity = this.#opts.clock.now();
    await new Promise<void>((resolve, reject) => {
      this.#write(conn, buf, (err) => (err ? reject(err) : resolve()));
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
    const idleMs = this.#opts.limits().idleTimeoutMs;
    const every = Math.max(1000, Math.floor(idleMs / 4));
    this.#sweep = this.#opts.clock.setTimeout(() => {
      const now = this.#opts.clock.now();
      const cutoff = now - this.#opts.limits().idleTimeoutMs;
      for (const conn of [...this.#conns.values()]) {
        if (conn.blockedSince !== undefined && conn.blockedSince <= cutoff) {
          this.#opts.log?.info({ conn: conn.id, remote: conn.remote, queued: conn.socket.writableLength }, 'tcp peer has not read for an idle timeout: connection destroyed');
          this.#drop(conn, 'slow-reader');
        } else if (conn.lastActivity <= cutoff) {
          this.#opts.log?.debug({ conn: conn.id }, 'idle tcp connection destroyed');
          this.#drop(conn, 'idle');
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
    for (const s of this.#sockets) s.destroy();
    this.#conns.clear();
    this.#byPeer.clear();
    this.#perSource.clear();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
