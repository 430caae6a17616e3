/**
 * drachtio-lite: a drachtio wire-protocol server in TypeScript on our SIP core (DESIGN.md decisions 1 and 2).
 * drachtio-srf apps connect with `srf.connect({ host, port, secret })` exactly as to a real drachtio-server.
 *
 * Behaviour (each choice follows drachtio-server unless noted):
 * - Control: `authenticate` (wrong secret → `NO|incorrect secret`, then close), `route`/`remove_route`, `ping`
 *   (`OK|pong`); any command before authenticating, an unknown command or a bad frame closes that app only.
 *   `proxy` is answered `NO` (not supported; call logic must not use `srf.proxyRequest`).
 * - RFC 3261 §8.2 checks first (request-checks.ts): 405 + Allow for a verb no app routes (503 when no app is
 *   connected), 416, 482, 420 + Unsupported, 415 + Accept; one Allow/Supported list on OPTIONS and INVITE 2xx.
 * - Routing: a new request goes to an app routing its verb, round-robin among them. In-dialog
 *   requests go to the app that owns the dialog; unknown dialog → 481; CSeq lower than the last → 500.
 * - INVITE server side: the stack sends 100 Trying; the app's responses get our To tag, Contact and the
 *   request's Record-Route; a 2xx creates the dialog and is retransmitted (UDP) until the ACK, which goes to the
 *   app; after 64*T1 without ACK the peer gets a BYE and the app an `unsolicited` BYE (srf emits `destroy`).
 *   A CANCEL is answered 200 (stack) and the INVITE 487 before the app hears of it.
 * - Requests from apps: From (with tag), To, Call-ID, CSeq, Contact (INVITE/SUBSCRIBE) and `@localhost` hosts
 *   are filled in; the stack adds Via and Max-Forwards; `routeUrl` (srf's `proxy`) only picks the next hop.
 *   In-dialog requests are built from the dialog. The app's ACK for a 2xx is sent statelessly (its body is
 *   the 3PCC answer); its ACK after a non-2xx is refused (the transaction already sent one). A CANCEL waits
 *   for the first provisional response (RFC 3261 §9.1).
 * - An app that disconnects: its unanswered network requests get 480, its dialogs get a BYE (nobody is left to
 *   control those calls; drachtio-server would leave them), its ringing INVITEs get a CANCEL.
 * - A request the app never answers gets 408 from the SIP stack's safety reaper (non-INVITE after 64*T1), so nothing
 *   waits forever. An INVITE is never reaped while its app is connected (it answers when its call is done: a queue
 *   caller may wait 300 s); one no app holds gets 408 `inviteReaperMs` (3 minutes) after its last provisional.
 * An UPDATE in an early dialog goes to the app whose INVITE it belongs to (srf `req.on('update')`).
 * Reliable provisionals (RFC 3262) and session timers (RFC 4028) are run by the server. Not supported: SUBSCRIBE/NOTIFY
 * dialogs, `proxy`, `cdr:*` events. A second 2xx from a fork is ACKed and BYEd by the server.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../common/index.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { SipStack, type Endpoint, type ListenSpec, type SipStackStats, type TcpLimits, type TimerConfig } from '../sip/index.js';
import { DrachtioLiteServer } from './server.js';

export { DrachtioLiteServer, SERVER_VERSION } from './server.js';
export { encodeFrame, FrameDecoder } from './wire/frame.js';
export { parseCommand } from './wire/commands.js';
export { connectionLimits } from './connection-limits.js';
export { wsListeners } from './ws-listeners.js';

/** Options of {@link createDrachtioLite}. */
export interface DrachtioLiteOptions {
  sip: {
    /** UDP, TCP, WS and WSS (with its certificate and key) listeners. */
    listen: ListenSpec[];
    /** RFC 3261 T1/T2/T4 in ms (defaults 500/4000/5000) and the INVITE reaper (default 3 minutes). */
    timers?: Partial<TimerConfig>;
    /** TCP connection limits (read at every check, so a live configuration applies at once). */
    tcp?: () => Partial<TcpLimits>;
    /** WebSocket connection limits (read at every check). */
    ws?: () => Partial<TcpLimits>;
  };
  /** The control (wire-protocol) listener; port 0 picks a free port. */
  control: { address: string; port: number };
  secret: string;
  log: Logger;
  clock?: Clock;
}

/** A running drachtio-lite. */
export interface DrachtioLite {
  /** The bound control port apps connect to. */
  readonly controlPort: number;
  readonly controlAddress: string;
  /** The bound SIP addresses and ports. */
  readonly sipEndpoints: Endpoint[];
  /** The server (for stats in tests). */
  readonly server: DrachtioLiteServer;
  /** The SIP stack's counters (TCP refusals and drops, reaped transactions, …). */
  sipStats(): SipStackStats;
  /**
   * Calls `fn` with the remote address of every WebSocket connection that closes: a device registered over it can
   * no longer be reached (the registrar drops its bindings). drachtio-server has no such signal; there a request to
   * a closed flow fails instead.
   */
  onFlowClosed(fn: (remote: Endpoint) => void): void;
  /** SIP over WebSocket on another HTTP server (the API's) at its `upgrade` events; see `SipStack.attachWebSocket`. */
  attachWebSocket(protocol: 'ws' | 'wss', local: { address: string; port: number }): (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Closes the control server, every app connection and the SIP stack. */
  close(): Promise<void>;
}

/** Starts a SIP stack and a drachtio control server on it. */
export async function createDrachtioLite(opts: DrachtioLiteOptions): Promise<DrachtioLite> {
  if (!opts.secret) throw new TypeError('drachtio-lite needs a secret');
  const clock = opts.clock ?? systemClock;
  const log = opts.log.child({ module: 'drachtio-lite' });
  const stack = await SipStack.create({
    listen: opts.sip.listen, clock, log: log.child({ layer: 'sip' }), ...(opts.sip.timers ? { timers: opts.sip.timers } : {}),
    ...(opts.sip.tcp ? { tcpLimits: opts.sip.tcp } : {}), ...(opts.sip.ws ? { wsLimits: opts.sip.ws } : {}),
  });
  const flowListeners: Array<(remote: Endpoint) => void> = [];
  stack.onFlowClosed = (remote) => { for (const fn of flowListeners) fn(remote); };
  const t1 = opts.sip.timers?.t1 ?? 500;
  const t2 = opts.sip.timers?.t2 ?? 4000;
  const server = new DrachtioLiteServer({ stack, secret: opts.secret, log, clock, timers: { t1, t2 } });
  let bound: { address: string; port: number };
  try {
    bound = await server.listen(opts.control.address, opts.control.port);
  } catch (err) {
    await stack.close();
    throw err;
  }
  log.info({ control: bound, sip: stack.listening }, 'drachtio-lite listening');
  let closed = false;
  return {
    controlPort: bound.port,
    controlAddress: bound.address,
    get sipEndpoints() {
      return stack.listening.map((l) => ({ transport: l.transport, address: l.address, port: l.port }));
    },
    server,
    sipStats: () => stack.stats,
    onFlowClosed: (fn) => void flowListeners.push(fn),
    attachWebSocket: (protocol, local) => stack.attachWebSocket(protocol, local),
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      await stack.close();
    },
  };
}
