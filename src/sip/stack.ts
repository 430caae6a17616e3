/**
 * `SipStack`: the facade over transports and transactions that drachtio-lite and the test phone code against.
 * It owns the UDP/TCP listeners, creates client and server transactions, answers CANCEL (§9.2), sends 100
 * Trying for INVITE (§17.2.1), and hands new requests, CANCELs and stray responses to the TU.
 */
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../common/index.js';
import { InvalidStateError } from '../common/index.js';
import type { Endpoint, SipMessage, SipRequest, SipResponse } from './message.js';
import { generateBranch, parseNameAddr } from './headers.js';
import { parseUri } from './uri.js';
import { createResponse, Status } from './status.js';
import { TransportLayer, type Inbound, type ListenSpec } from './transport/layer.js';
import { DEFAULT_TCP_LIMITS, type TcpLimits, type TcpStats } from './transport/tcp.js';
import type { WsStats } from './transport/ws.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { formatViaEntry, readTopVia, topViaText } from './transport/via.js';
import { isReliable, transportProtocolOf, type TransportProtocol } from './transport/transport.js';
import { computeTimers, type TimerConfig, type TimerValues } from './transaction/timers.js';
import { TransactionLayer, serverKey, type ClientTransaction, type ServerTransaction } from './transaction/layer.js';
import { InviteServerTransaction } from './transaction/invite-server-transaction.js';
import type { TransactionContext } from './transaction/transaction.js';

export type { ClientTransaction, ServerTransaction } from './transaction/layer.js';

/** Options of {@link SipStack.create}. */
export interface SipStackOptions {
  /** Addresses to bind; port 0 picks a free port. */
  listen: ListenSpec[];
  /** T1/T2/T4 in ms; defaults 500/4000/5000. */
  timers?: Partial<TimerConfig>;
  clock?: Clock;
  log?: Logger;
  /** Largest message accepted or sent; default 65536. */
  maxMessageBytes?: number;
  /** TCP connections with no traffic for this long are closed; default 10 minutes (`tcpLimits` wins). */
  tcpIdleTimeoutMs?: number;
  /** TCP connection limits over {@link DEFAULT_TCP_LIMITS}, read at every check (so a live configuration applies). */
  tcpLimits?: () => Partial<TcpLimits>;
  /** WebSocket connection limits over {@link DEFAULT_TCP_LIMITS} (the same shape), read at every check. */
  wsLimits?: () => Partial<TcpLimits>;
}

/** Context of a new request handed to the TU. */
export interface RequestContext {
  source: Endpoint;
  local: Endpoint;
  /** The server transaction (absent for ACK). */
  transaction?: ServerTransaction;
}

/** Stack counters. `transactions` is the number of live transactions. */
export interface SipStackStats {
  received: number;
  sent: number;
  parseErrors: number;
  absorbed: number;
  /** Server transactions whose TU never answered, answered 408 by the safety reaper. */
  reaped: number;
  transactions: number;
  /** TCP: refusals, drops by reason, pauses, queue high-water mark; open connections, unclosed sockets, bytes queued. */
  tcp: TcpStats & { connections: number; sockets: number; queuedBytes: number; peerEntries: number };
  /** WebSocket: open connections, handshakes refused and connections dropped, by reason. */
  ws: WsStats & { connections: number };
}


/** The SIP stack: transports + transactions, one per process role (no singletons). */
export class SipStack {
  /** New requests (not retransmissions). ACK (for 2xx, or unmatched) arrives here without a transaction. */
  onRequest?: (req: SipRequest, ctx: RequestContext) => void;
  /** A CANCEL that matched a pending INVITE server transaction; the CANCEL was already answered 200. */
  onCancel?: (cancel: SipRequest, invite: ServerTransaction, ctx: { source: Endpoint }) => void;
  /** Responses that match no client transaction (e.g. 2xx retransmissions, RFC 6026). */
  onStrayResponse?: (res: SipResponse, ctx: { source: Endpoint }) => void;
  /** A connection-bound flow (a WebSocket connection) closed: nothing can be sent to `remote` any more. */
  onFlowClosed?: (remote: Endpoint) => void;

  readonly #transport: TransportLayer;
  readonly #txns = new TransactionLayer();
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  readonly #timersUdp: TimerValues;
  readonly #timersTcp: TimerValues;
  #absorbed = 0;
  #reaped = 0;
  #closed = false;

  private constructor(transport: TransportLayer, opts: SipStackOptions, clock: Clock) {
    this.#transport = transport;
    this.#clock = clock;
    this.#log = opts.log;
    this.#timersUdp = computeTimers(opts.timers, false);
    this.#timersTcp = computeTimers(opts.timers, true);
  }

  /** Binds every listen address; rejects on a bind failure (nothing stays bound). */
  static async create(opts: SipStackOptions): Promise<SipStack> {
    if (!opts.listen?.length) throw new TypeError('SipStack needs at least one listen address');
    const clock = opts.clock ?? systemClock;
    computeTimers(opts.timers, false); // validates before binding
    let stack: SipStack | undefined;
    const transport = await TransportLayer.create({
      listen: opts.listen,
      clock,
      log: opts.log,
      maxMessageBytes: opts.maxMessageBytes ?? 65536,
      tcpLimits: () => ({ ...DEFAULT_TCP_LIMITS, idleTimeoutMs: opts.tcpIdleTimeoutMs ?? DEFAULT_TCP_LIMITS.idleTimeoutMs, ...opts.tcpLimits?.() }),
      wsLimits: () => ({ ...DEFAULT_TCP_LIMITS, ...opts.wsLimits?.() }),
      onMessage: (inbound) => { if (stack) stack.#onInbound(inbound); },
      onFlowClosed: (remote) => {
        try {
          stack?.onFlowClosed?.(remote);
        } catch (err) {
          opts.log?.error({ err, remote }, 'flow-closed listener failed');
        }
      },
    });
    stack = new SipStack(transport, opts, clock);
    return stack;
  }

  /** The actually bound addresses and ports. */
  get listening(): ListenSpec[] {
    return this.#transport.listening;
  }

  /** Counters; `transactions` = live transactions. */
  get stats(): SipStackStats {
    const t = this.#transport.stats;
    return {
      received: t.received, sent: t.sent, parseErrors: t.parseErrors, absorbed: this.#absorbed, reaped: this.#reaped,
      transactions: this.#txns.clientCount + this.#txns.serverCount, tcp: this.#transport.tcpStats, ws: this.#transport.wsStats,
    };
  }

  /**
   * SIP over WebSocket on an HTTP server that is not the stack's (e.g. the API's, on a path): returns the handler for
   * that server's `upgrade` events. The transport is listed in {@link listening} with the server's address.
   */
  attachWebSocket(protocol: 'ws' | 'wss', local: { address: string; port: number }): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
    if (this.#closed) throw new InvalidStateError('SipStack is closed');
    return this.#transport.attachWebSocket(protocol, local);
  }

  /** Open TCP connections (for tests). */
  get tcpConnections(): number {
    return this.#transport.tcpConnections;
  }

  #ctx(reliable: boolean, send: (wire: Buffer) => Promise<void>, branch?: string): TransactionContext {
    // A child logger per transaction (STYLE.md §9) only when its debug lines would be printed: with redaction
    // configured, pino's child() costs ~2.5% of the CPU of a loaded B2BUA. Warnings carry `txn` (the key, which
    // holds the branch) either way.
    const log = this.#log && branch && this.#log.isLevelEnabled('debug') ? this.#log.child({ branch }) : this.#log;
    const ctx: TransactionContext = {
      clock: this.#clock,
      timers: reliable ? this.#timersTcp : this.#timersUdp,
      reliable,
      send,
      onAbsorbed: this.#onAbsorbed,
      onReaped: this.#onReaped,
    };
    if (log) ctx.log = log;
    return ctx;
  }

  readonly #onAbsorbed = (): void => { this.#absorbed++; };
  readonly #onReaped = (): void => { this.#reaped++; };

  #onInbound(inbound: Inbound): void {
    if (this.#closed) return;
    const msg = inbound.message;
    try {
      if (msg.kind === 'response') this.#onResponse(msg, inbound);
      else this.#onRequestIn(msg, inbound);
    } catch (err) {
      // Network input never crashes the stack; a throwing TU callback is a bug worth an error line.
      this.#log?.error({ err, source: inbound.source }, 'error while handling inbound SIP message');
    }
  }

  #onResponse(res: SipResponse, inbound: Inbound): void {
    const txn = this.#txns.matchResponse(res);
    if (txn) {
      txn.handle({ kind: 'response', response: res });
      return;
    }
    if (this.onStrayResponse) this.onStrayResponse(res, { source: inbound.source });
    else this.#absorbed++;
  }

  #onRequestIn(req: SipRequest, inbound: Inbound): void {
    const via = inbound.via ?? readTopVia(req);
    const viaText = topViaText(req);
    if (!via || viaText === undefined) return;
    const key = serverKey(req, via, viaText);
    if (req.method === 'ACK') {
      const ist = this.#txns.getServer(key);
      // §17.2.1: an ACK for a non-2xx final response belongs to the INVITE server transaction.
      if (ist instanceof InviteServerTransaction && (ist.state === 'completed' || ist.state === 'confirmed')) {
        ist.handle({ kind: 'ack', request: req });
        return;
      }
      // §13.3.1.4 / RFC 6026: the ACK for a 2xx is end-to-end; the TU gets it.
      this.onRequest?.(req, { source: inbound.source, local: inbound.local });
      return;
    }
    const existing = this.#txns.getServer(key);
    if (existing) {
      // §17.2.3: a retransmission matches its server transaction, which answers with its last response.
      existing.handle({ kind: 'retransmit', request: req });
      return;
    }
    const route = this.#transport.responseRoute(req, inbound);
    if (!route) return;
    const reliable = isReliable(inbound.source.transport);
    const txn = this.#txns.createServer(req, key, this.#ctx(reliable,
      (wire) => this.#transport.sendWire(wire, route.dest, route.connectionId), via.branch));
    if (req.method === 'CANCEL') {
      this.#onCancelIn(req, txn, via, viaText, inbound);
      return;
    }
    if (req.method === 'INVITE') {
      // §17.2.1: "the server transaction MUST generate a 100 (Trying) response unless it knows that the TU will
      // generate a provisional or final response within 200 ms" — we cannot know, so always.
      txn.respond(createResponse(req, Status.Trying));
    }
    if (this.onRequest) this.onRequest(req, { source: inbound.source, local: inbound.local, transaction: txn });
    else txn.respond(createResponse(req, Status.NotImplemented));
  }

  #onCancelIn(cancel: SipRequest, txn: ServerTransaction, via: NonNullable<ReturnType<typeof readTopVia>>, viaText: string, inbound: Inbound): void {
    const invite = this.#txns.matchCancelTarget(cancel, via, viaText);
    if (!invite) {
      // §9.2: "If the UAS did not find a matching transaction for the CANCEL ..., it SHOULD respond to the
      // CANCEL with a 481 (Call Leg/Transaction Does Not Exist)."
      txn.respond(createResponse(cancel, Status.CallTransactionDoesNotExist));
      return;
    }
    // §9.2: "as long as the CANCEL matched an existing transaction, the UAS answers the CANCEL request itself
    // with a 200 (OK) response." The TU sends the 487 for the INVITE.
    const inviteTo = invite.lastTo;
    const ok = createResponse(cancel, Status.OK);
    if (inviteTo) ok.set('To', inviteTo);
    txn.respond(ok);
    if (invite.state === 'proceeding') this.onCancel?.(cancel, invite, { source: inbound.source });
  }

  /**
   * Sends a request in a new client transaction. Adds a top Via with a fresh branch (unless the top Via is one
   * of ours, as for a CANCEL), Max-Forwards: 70 when missing. Destination: explicit, else the top Route when it
   * is a loose router, else the Request-URI.
   */
  sendRequest(req: SipRequest, opts: { destination?: Endpoint } = {}): ClientTransaction {
    if (this.#closed) throw new InvalidStateError('SipStack is closed');
    const resolved = opts.destination ? { ok: true as const, dest: opts.destination } : this.#resolveTarget(req);
    const dest: Endpoint = resolved.ok ? resolved.dest : { transport: 'udp', address: '0.0.0.0', port: 0 };
    let branch = readTopVia(req)?.branch;
    const keepVia = branch !== undefined && req.method === 'CANCEL' && this.#txns.hasClientBranch(branch, 'INVITE');
    if (!keepVia) {
      branch = generateBranch();
      req.prepend('Via', this.#viaFor(dest, branch));
    }
    if (!req.has('max-forwards')) req.append('Max-Forwards', '70');
    const reliable = isReliable(dest.transport);
    const send = resolved.ok
      ? (wire: Buffer) => this.#transport.sendWire(wire, dest)
      : () => Promise.reject(new Error(resolved.error));
    const txn = this.#txns.createClient(req, branch!, this.#ctx(reliable, send, branch));
    txn.start();
    return txn;
  }

  /** Sends a message outside any transaction (ACK for a 2xx, a stateless response). A request without Via gets one. */
  sendStateless(msg: SipRequest | SipResponse, destination: Endpoint): Promise<void> {
    if (this.#closed) return Promise.reject(new InvalidStateError('SipStack is closed'));
    if (msg.kind === 'request') {
      if (!msg.has('via')) msg.prepend('Via', this.#viaFor(destination, generateBranch()));
      if (!msg.has('max-forwards')) msg.append('Max-Forwards', '70');
    }
    return this.#transport.send(msg, destination);
  }

  #viaFor(dest: Endpoint, branch: string): string {
    const local = this.localEndpointFor(dest);
    return formatViaEntry({
      transport: local.transport, host: local.address, port: local.port,
      params: [['branch', branch], ['rport', null]], branch,
    });
  }

  /** The local endpoint used towards `dest` (same transport and address family; a wildcard bind resolved). */
  localEndpointFor(dest: Endpoint): Endpoint {
    const v6 = dest.address.includes(':');
    const l = this.listening.find((x) => x.transport === dest.transport && x.address.includes(':') === v6)
      ?? this.listening.find((x) => x.transport === dest.transport)
      ?? this.listening[0]!;
    let address = l.address;
    if (address === '0.0.0.0' || address === '::') address = pickInterfaceAddress(dest.address, address === '::');
    return { transport: dest.transport, address, port: l.port };
  }

  /**
   * Where `sendRequest` would send `req` without an explicit destination (top Route if loose router, else the
   * Request-URI; IP literals and `localhost` only). Useful for a stateless ACK.
   */
  resolveDestination(req: SipRequest): Endpoint | undefined {
    const r = this.#resolveTarget(req);
    return r.ok ? r.dest : undefined;
  }

  #resolveTarget(req: SipRequest): { ok: true; dest: Endpoint } | { ok: false; error: string } {
    let uriText = req.uri;
    const route = req.getAll('route')[0];
    if (route !== undefined) {
      const na = parseNameAddr(route);
      const ru = na ? parseUri(na.uri) : undefined;
      // §16.12 / §12.2.1.1: with a loose router at the top of the route set, the request goes there.
      if (na && ru && 'lr' in ru.params) uriText = na.uri;
    }
    const u = parseUri(uriText);
    if (!u || u.scheme === 'tel') return { ok: false, error: `cannot route to ${uriText}` };
    const tp = u.params['transport']?.toLowerCase();
    const transport: TransportProtocol = u.scheme === 'sips' || tp === 'tls' ? 'tcp'
      : transportProtocolOf(tp) ?? (this.listening.some((l) => l.transport === 'udp') ? 'udp' : 'tcp');
    let address = u.host;
    if (address.toLowerCase() === 'localhost') address = this.listening.some((l) => !l.address.includes(':')) ? '127.0.0.1' : '::1';
    if (!isIpLiteral(address)) return { ok: false, error: `no DNS: cannot resolve host ${address}` };
    return { ok: true, dest: { transport, address, port: u.port ?? (u.scheme === 'sips' ? 5061 : 5060) } };
  }

  /** Closes every socket and drops every transaction (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#txns.all()) t.dispose();
    await this.#transport.close();
  }
}

function isIpLiteral(host: string): boolean {
  if (host.includes(':')) return true;
  const parts = host.split('.');
  return parts.length === 4 && parts.every((p) => p !== '' && Number(p) >= 0 && Number(p) <= 255 && /^\d+$/.test(p));
}

function pickInterfaceAddress(remote: string, v6: boolean): string {
  if (remote === '127.0.0.1' || remote.startsWith('127.')) return '127.0.0.1';
  if (remote === '::1') return '::1';
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (!a.internal && (a.family === 'IPv6') === v6) return a.address;
    }
  }
  return v6 ? '::1' : '127.0.0.1';
}
