/**
 * One drachtio-srf client on the control port: framing, authentication state, the verbs it routes, and writing
 * server messages back. Commands are handed to the server; bad frames close this client only.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { randomToken } from '../common/index.js';
import { FrameDecoder } from './wire/frame.js';
import { parseCommand, type ClientCommand } from './wire/commands.js';
import type { DialogOwner } from './dialogs.js';

/** What a connection tells its server. */
export interface ConnectionHandlers {
  onCommand: (conn: ClientConnection, command: ClientCommand) => void;
  onClose: (conn: ClientConnection) => void;
}

/** A connected app (one drachtio-srf socket). */
export class ClientConnection implements DialogOwner {
  readonly id: string;
  readonly log: Logger;
  authenticated = false;
  tags: string[] = [];
  /** Verbs this client routes, lower-case (`invite`, `register`…). */
  readonly verbs = new Set<string>();
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder();
  readonly #handlers: ConnectionHandlers;
  #closed = false;
  #closing = false;
  /** Frames queued this turn: each a length-prefixed leader (string) and, for SIP frames, the message's bytes. */
  readonly #pending: Array<string | Buffer> = [];
  #pendingBytes = 0;
  #flushQueued = false;

  constructor(socket: Socket, log: Logger, handlers: ConnectionHandlers) {
    this.id = `app_${randomToken(8)}`;
    this.#socket = socket;
    this.#handlers = handlers;
    this.log = log.child({ client: this.id, remote: `${socket.remoteAddress}:${socket.remotePort}` });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.log.debug({ err }, 'control socket error'));
    socket.on('close', () => this.#onClosed());
  }

  /** Whether the socket is still open. */
  get open(): boolean {
    return !this.#closed;
  }

  /**
   * Queues one server message (framed) for this turn of the event loop; every message queued in a turn goes out
   * in one socket write, in order (so an echo still precedes any later network message for its transaction).
   * One write per frame was ~9% of the process's CPU at 500 calls/s. `sip` is the SIP message's bytes, sent after
   * `leader` as they are: they were decoded to a string and encoded back before, for every frame (issue 15).
   * Dropped silently once the socket is closed.
   */
  send(leader: string, sip?: Buffer): void {
    if (this.#closed || this.#socket.destroyed) return;
    if (this.log.isLevelEnabled('debug')) {
      const text = sip ? leader + sip.toString('utf8') : leader;
      this.log.debug({ out: text.length > 300 ? `${text.slice(0, 300)}…` : text }, 'to app');
    }
    const leaderBytes = Buffer.byteLength(leader, 'utf8');
    const prefix = `${leaderBytes + (sip ? sip.length : 0)}#`;
    this.#pending.push(prefix + leader);
    this.#pendingBytes += prefix.length + leaderBytes;
    if (sip && sip.length > 0) {
      this.#pending.push(sip);
      this.#pendingBytes += sip.length;
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      setImmediate(this.#flush);
    }
  }

  /** Writes every queued frame at once, as one buffer. */
  readonly #flush = (): void => {
    this.#flushQueued = false;
    if (this.#pending.length === 0) return;
    const data = Buffer.allocUnsafe(this.#pendingBytes);
    let at = 0;
    for (const part of this.#pending) at += typeof part === 'string' ? data.write(part, at, 'utf8') : part.copy(data, at);
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    if (this.#closed || this.#socket.destroyed) return;
    this.#socket.write(data);
  };

  /** Ends the connection after pending writes (idempotent). */
  close(reason: string): void {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    this.log.info({ reason }, 'closing app connection');
    this.#flush();
    this.#socket.end();
    // A peer that never closes its side must not keep the socket: destroy after a grace period.
    setTimeout(() => this.#socket.destroy(), 1000).unref();
  }

  /** Destroys the socket now (server shutdown). */
  destroy(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed || this.#closing) return;
    const r = this.#decoder.push(chunk);
    if (!r.ok) {
      this.log.warn({ error: r.error.message }, 'bad frame from app');
      this.close(r.error.message);
      return;
    }
    for (const frame of r.frames) {
      if (this.#closed || this.#closing) return;
      const parsed = parseCommand(frame);
      if (!parsed.ok) {
        this.log.warn({ error: parsed.error.message }, 'bad command from app');
        this.close(parsed.error.message);
        return;
      }
      if (this.log.isLevelEnabled('debug')) this.log.debug({ in: frame.length > 300 ? `${frame.slice(0, 300)}…` : frame }, 'from app');
      try {
        this.#handlers.onCommand(this, parsed.command);
      } catch (err) {
        // A bug in command handling must not take the server down; the client is dropped instead.
        this.log.error({ err }, 'error handling app command');
        this.close('internal error');
        return;
      }
    }
  }

  #onClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers.onClose(this);
  }
}
