/**
 * The drachtio-lite server: a TCP control port speaking the drachtio wire protocol to drachtio-srf apps, on top of
 * our SIP stack. It authenticates apps, keeps their routes (round-robin per verb, as drachtio-server does), and
 * dispatches `sip` commands to the app side and stack callbacks to the network side.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../common/index.js';
import { createResponse, Status, type SipStack } from '../sip/index.js';
import { ClientConnection } from './client-connection.js';
import { DialogTable } from './dialogs.js';
import type { AppTxn, LiteContext, LiteTimers, NetTxn } from './context.js';
import { parseAppMessage } from './app-message.js';
import { endStaleDialog, onNetworkCancel, onNetworkRequest, respondToNetworkRequest, settle } from './network-side.js';
import { abandonDialog, cancelPendingOf, onStrayResponse, sendAppRequest } from './app-side.js';
import { failReply, okReply, type ClientCommand } from './wire/commands.js';
import { formatHost } from '../common/index.js';
import { RequestChecks } from './request-checks.js';

/** The version string reported to apps (drachtio-srf parses `vX.Y.Z` only to decide whether to ping). */
export const SERVER_VERSION = 'v0.9.3-drachtio-lite';

/** How long a new control connection may take to authenticate. */
export const AUTH_TIMEOUT_MS = 10_000;

/** Dependencies of {@link DrachtioLiteServer}. */
export interface DrachtioLiteServerDeps {
  stack: SipStack;
  secret: string;
  log: Logger;
  clock: Clock;
  timers: LiteTimers;
  /** Default {@link AUTH_TIMEOUT_MS}. */
  authTimeoutMs?: number;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** One drachtio-lite instance: control server plus the glue to one SIP stack. */
export class DrachtioLiteServer {
  readonly #deps: DrachtioLiteServerDeps;
  readonly #ctx: LiteContext;
  readonly #clients = new Set<ClientConnection>();
  readonly #routes = new Map<string, ClientConnection[]>();
  readonly #next = new Map<string, number>();
  #server: Server | undefined;

  constructor(deps: DrachtioLiteServerDeps) {
    this.#deps = deps;
    this.#ctx = {
      stack: deps.stack, clock: deps.clock, log: deps.log, timers: deps.timers,
      dialogs: new DialogTable(), netTxns: new Map<string, NetTxn>(), netByServerTxn: new WeakMap(), appTxns: new Map<string, AppTxn>(),
      checks: new RequestChecks({ routedVerbs: () => this.#routedVerbs() }),
      pickClient: (verb) => this.#pickClient(verb),
      endStale: (d, reason) => endStaleDialog(this.#ctx, d, reason),
    };
    const ctx = this.#ctx;
    deps.stack.onRequest = (req, rc) => onNetworkRequest(ctx, req, rc);
    deps.stack.onCancel = (cancel, invite, { source }) => onNetworkCancel(ctx, cancel, invite, source);
    deps.stack.onStrayResponse = (res) => onStrayResponse(ctx, res);
  }

  /** Counts for tests and health output. */
  get stats(): { clients: number; dialogs: number; networkTransactions: number; appTransactions: number } {
    return { clients: this.#clients.size, dialogs: this.#ctx.dialogs.size, networkTransactions: this.#ctx.netTxns.size, appTransactions: this.#ctx.appTxns.size };
  }

  /** A summary of up to `limit` live dialogs (diagnostics). */
  describeDialogs(limit = 10): Array<{ id: string; role: string; state: string; awaitingAck: boolean; owner: string }> {
    return this.#ctx.dialogs.all().slice(0, limit).map((d) => ({
      id: d.id, role: d.sip.role, state: d.sip.state, awaitingAck: d.pending2xx !== undefined, owner: d.owner.id,
    }));
  }

  /** How many connected, authenticated apps route `verb` (tests wait on this after connecting). */
  routedBy(verb: string): number {
    return (this.#routes.get(verb.toLowerCase()) ?? []).filter((c) => c.open && c.authenticated).length;
  }

  /** Starts the control listener; resolves with the bound address. */
  listen(address: string, port: number): Promise<{ address: string; port: number }> {
    const server = createServer((socket) => this.#onConnection(socket));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => {
        server.off('error', reject);
        const a = server.address();
        if (a && typeof a === 'object') resolve({ address: a.address, port: a.port });
        else reject(new Error('control server has no address'));
      });
    });
  }

  /** Stops accepting apps, drops every connection and dialog timer. */
  async close(): Promise<void> {
    for (const d of this.#ctx.dialogs.all()) this.#ctx.dialogs.remove(d);
    this.#ctx.netTxns.clear();
    for (const c of this.#clients) c.destroy();
    this.#clients.clear();
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #onConnection(socket: Socket): void {
    socket.setKeepAlive(true);
    const conn = new ClientConnection(socket, this.#deps.log, {
      onCommand: (c, cmd) => this.#onCommand(c, cmd),
      onClose: (c) => this.#onClose(c),
    });
    this.#clients.add(conn);
    conn.log.info('app connected');
    // A connection that never authenticates must not hold a socket forever.
    const timer = this.#deps.clock.setTimeout(() => {
      if (!conn.authenticated) conn.close('no authenticate within the time allowed');
    }, this.#deps.authTimeoutMs ?? AUTH_TIMEOUT_MS);
    socket.once('close', () => this.#deps.clock.clearTimeout(timer));
  }

  #pickClient(verb: string): ClientConnection | undefined {
    const list = (this.#routes.get(verb) ?? []).filter((c) => c.open && c.authenticated);
    if (list.length === 0) return undefined;
    const i = (this.#next.get(verb) ?? 0) % list.length;
    this.#next.set(verb, i + 1);
    return list[i];
  }

  /** Verbs (lower-case) some open, authenticated app routes now. */
  #routedVerbs(): Set<string> {
    const out = new Set<string>();
    for (const [verb, list] of this.#routes) if (list.some((c) => c.open && c.authenticated)) out.add(verb);
    return out;
  }

  #hostports(): string {
    return this.#deps.stack.listening.map((l) => `${l.transport}/${formatHost(l.address)}:${l.port}`).join(',');
  }

  #onCommand(conn: ClientConnection, cmd: ClientCommand): void {
    if (!conn.authenticated && cmd.kind !== 'authenticate') {
      conn.send(failReply(cmd.msgId, 'not authenticated'));
      return conn.close('command before authenticate');
    }
    switch (cmd.kind) {
      case 'authenticate': {
        if (!timingSafeEqual(digest(cmd.secret), digest(this.#deps.secret))) {
          conn.log.warn('app sent an incorrect secret');
          conn.send(failReply(cmd.msgId, 'incorrect secret'));
          return conn.close('incorrect secret');
        }
        conn.authenticated = true;
        conn.tags = cmd.tags;
        const hp = this.#hostports();
        conn.log.info({ tags: cmd.tags }, 'app authenticated');
        return conn.send(okReply(cmd.msgId, hp, SERVER_VERSION, hp));
      }
      case 'route': {
        const verb = cmd.verb.toLowerCase();
        conn.verbs.add(verb);
        const list = this.#routes.get(verb) ?? [];
        if (!list.includes(conn)) list.push(conn);
        this.#routes.set(verb, list);
        conn.log.info({ verb }, 'route added');
        return conn.send(okReply(cmd.msgId));
      }
      case 'remove_route': {
        const verb = cmd.verb.toLowerCase();
        conn.verbs.delete(verb);
        this.#routes.set(verb, (this.#routes.get(verb) ?? []).filter((c) => c !== conn));
        return conn.send(okReply(cmd.msgId));
      }
      case 'ping':
        return conn.send(okReply(cmd.msgId, 'pong'));
      case 'sip': {
        const parsed = parseAppMessage(cmd.sip);
        if (!parsed.ok) return conn.send(failReply(cmd.msgId, `invalid SIP message: ${parsed.error.message}`));
        const m = parsed.message;
        if (m.kind === 'response') {
          if (!cmd.txnId) return conn.send(failReply(cmd.msgId, 'transaction id missing'));
          return respondToNetworkRequest(this.#ctx, conn, cmd.msgId, cmd.txnId, m);
        }
        return sendAppRequest(this.#ctx, conn, cmd.msgId, cmd.txnId, cmd.dialogId, cmd.routeUrl, m);
      }
      case 'proxy':
        return conn.send(failReply(cmd.msgId, 'proxy is not supported by drachtio-lite'));
      case 'unknown':
        conn.send(failReply(cmd.msgId, 'Unknown message type'));
        return conn.close(`unknown message type ${cmd.type}`);
    }
  }

  /**
   * An app went away. Its unanswered network requests get 480; its dialogs are ended with a BYE (nobody is left
   * to control those calls); its INVITEs still ringing are CANCELed.
   */
  #onClose(conn: ClientConnection): void {
    this.#clients.delete(conn);
    for (const [verb, list] of this.#routes) this.#routes.set(verb, list.filter((c) => c !== conn));
    const ctx = this.#ctx;
    let answered = 0;
    for (const nt of [...ctx.netTxns.values()]) {
      if (nt.owner !== conn || nt.finalSent) continue;
      settle(ctx, nt);
      nt.txn.respond(createResponse(nt.request, Status.TemporarilyUnavailable, undefined, { toTag: nt.toTag }));
      answered++;
    }
    const dialogs = ctx.dialogs.ownedBy(conn);
    for (const d of dialogs) abandonDialog(ctx, d);
    cancelPendingOf(ctx, conn);
    conn.log.info({ answered480: answered, dialogsEnded: dialogs.length }, 'app disconnected');
  }
}
