/**
 * Network → app: new requests routed to an app by verb, in-dialog requests to the dialog's owner, CANCEL
 * (already answered 200 by the stack: we send 487 to the INVITE, then tell the app), ACK for a 2xx, and the
 * app's responses to those requests (to-tag, Contact, dialog creation, 2xx retransmission until ACK, and
 * BYE on ACK timeout — RFC 3261 §13.3.1.4).
 */
import {
  createResponse, Dialog, generateTag, getTag, InviteServerTransaction, isReliable, parseCSeq, Status, SuccessRetransmitter,
  SipRequest, type Endpoint, type RequestContext, type ServerTransaction, type SipResponse,
} from '../sip/index.js';
import type { ClientConnection } from './client-connection.js';
import { allows, destinationOf, dialogIdOf, type DialogOwner, type LiteDialog } from './dialogs.js';
import {
  contactFor, hostportOf, metaFor, newTransactionId, wireBytes, type LiteContext, type NetTxn,
} from './context.js';
import { copyAppHeaders, defaultContentType, replaceLocalhost } from './app-message.js';
import { failReply, responseSentReply, sipMessageFrame } from './wire/commands.js';
import { armFromSuccess, completeRefreshAnswer, tooSmall } from './session-timer.js';
import { matchPrack, prackTimeoutResponse, sendReliably, stopReliable, wantsReliable } from './reliable-provisional.js';
import { mergeSupported } from './request-checks.js';

/** Sends a network message to its app: `sip|network|…|txnId|dialogId|` + SIP. */
function forward(ctx: LiteContext, to: DialogOwner, msg: SipRequest | SipResponse, peer: Endpoint, txnId: string, dialogId: string, local?: Endpoint): void {
  const wire = wireBytes(msg);
  ctx.log.debug({ client: to.id, what: msg.kind === 'request' ? msg.method : msg.status, callId: msg.callId, txnId, dialogId, from: `${peer.address}:${peer.port}` }, 'network message to app');
  to.send(sipMessageFrame(metaFor(ctx, 'network', wire, peer), txnId, dialogId, local), wire);
}

function reject(txn: ServerTransaction | undefined, req: SipRequest, status: number, reason?: string, headers: Record<string, string> = {}): void {
  const res = createResponse(req, status, reason, { toTag: getTag(req.get('to') ?? '') ?? generateTag() });
  for (const [k, v] of Object.entries(headers)) res.append(k, v);
  txn?.respond(res);
}

/** The stack's `onRequest`: every new request (and ACKs for 2xx). */
export function onNetworkRequest(ctx: LiteContext, req: SipRequest, rc: RequestContext): void {
  if (req.method === 'ACK') return onAck(ctx, req, rc);
  const txn = rc.transaction;
  if (!txn) return;
  const inDialog = getTag(req.get('to') ?? '') !== undefined;
  if (!inDialog && ctx.checks.noApps()) {
    // drachtio-server answers 503 when no app is connected: the service is down, not the method unknown.
    ctx.log.debug({ method: req.method, callId: req.callId }, 'no app connected: 503');
    return reject(txn, req, Status.ServiceUnavailable);
  }
  const refused = ctx.checks.check(req, txn, inDialog);
  if (refused) {
    ctx.log.debug({ method: req.method, callId: req.callId, status: refused.status, reason: refused.reason }, 'request refused by an RFC 3261 §8.2 check');
    return reject(txn, req, refused.status, refused.reason, refused.headers);
  }
  if (inDialog) return onInDialogRequest(ctx, req, rc, txn);
  const owner = ctx.pickClient(req.method.toLowerCase());
  if (!owner) {
    // The checks passed, so some app routed this verb a moment ago: it is between apps (drachtio-server: 503).
    ctx.log.debug({ method: req.method, callId: req.callId }, 'no app routes this verb: 503');
    return reject(txn, req, Status.ServiceUnavailable);
  }
  const nt: NetTxn = {
    id: newTransactionId(), owner, request: req, txn, source: rc.source, local: usableLocal(ctx, rc),
    toTag: generateTag(), finalSent: false,
  };
  track(ctx, nt);
  forward(ctx, owner, req, rc.source, nt.id, '', rc.local);
}

/** The local endpoint a request arrived on, with a wildcard bind (0.0.0.0, ::) resolved to an interface address for Contact. */
function usableLocal(ctx: LiteContext, rc: RequestContext): Endpoint {
  const a = rc.local.address;
  if (a !== '0.0.0.0' && a !== '::') return rc.local;
  return { ...ctx.stack.localEndpointFor(rc.source), port: rc.local.port };
}

function track(ctx: LiteContext, nt: NetTxn): void {
  ctx.netTxns.set(nt.id, nt);
  ctx.netByServerTxn.set(nt.txn, nt);
  // A request the app never answers gets a 408 from the stack's safety reaper (64*T1 for a non-INVITE, when the
  // client's Timer F has long fired; an INVITE only once no app holds it): forget it then.
  // The listeners hold only the id, so a finished transaction waiting out its timers keeps none of our state.
  // `on`, not `once` (three more objects per listener), and `settle` removes both: a transaction waiting out
  // Timer J after its final response holds none of them.
  const id = nt.id;
  const forget = (): void => {
    const cur = ctx.netTxns.get(id);
    if (cur) settle(ctx, cur);
  };
  nt.forget = forget;
  nt.txn.on('reaped', forget);
  nt.txn.on('terminated', forget);
  // An INVITE the app still holds (connected, no final response yet) is never reaped: the app answers it when its
  // call is done, however long that takes (a queue caller may wait 300 s); an app that disconnects answers 480 for
  // it (server.ts). A non-INVITE keeps its 64*T1 reaper: its client gave up at Timer F long before.
  if (nt.txn instanceof InviteServerTransaction) nt.txn.heldByTu = () => ctx.netTxns.get(id)?.owner.open === true;
}

/** `nt` got its final response: drop every reference to it (its transaction may live on for 64*T1). */
export function settle(ctx: LiteContext, nt: NetTxn): void {
  nt.finalSent = true;
  if (nt.forget) {
    nt.txn.off('reaped', nt.forget);
    nt.txn.off('terminated', nt.forget);
    delete nt.forget;
  }
  stopReliable(nt);
  ctx.netTxns.delete(nt.id);
  ctx.netByServerTxn.delete(nt.txn);
}

/**
 * RFC 3311: an UPDATE inside an early dialog (before the INVITE's final response) goes to the app whose INVITE it
 * belongs to; drachtio-srf matches it to the pending INVITE by Call-ID (`req.on('update')`).
 */
function earlyDialogOwner(ctx: LiteContext, req: SipRequest): { owner: DialogOwner; toTag: string } | undefined {
  if (req.method !== 'UPDATE') return undefined;
  const fromTag = getTag(req.get('from') ?? '');
  const toTag = getTag(req.get('to') ?? '');
  for (const nt of ctx.netTxns.values()) {
    if (nt.request.method === 'INVITE' && !nt.finalSent && !nt.dialog && nt.request.callId === req.callId
      && getTag(nt.request.get('from') ?? '') === fromTag && nt.toTag === toTag) return { owner: nt.owner, toTag: nt.toTag };
  }
  for (const at of ctx.appTxns.values()) {
    if (at.request.method === 'INVITE' && !at.final && !at.dialog && at.request.callId === req.callId
      && getTag(at.request.get('from') ?? '') === toTag) return { owner: at.owner, toTag: toTag! };
  }
  return undefined;
}

function onInDialogRequest(ctx: LiteContext, req: SipRequest, rc: RequestContext, txn: ServerTransaction): void {
  if (req.method === 'PRACK' && !ctx.dialogs.findForRequest(req)) return onPrack(ctx, req, rc, txn);
  const d = ctx.dialogs.findForRequest(req);
  const early = d ? undefined : earlyDialogOwner(ctx, req);
  if (early && early.owner.open) {
    const nt: NetTxn = {
      id: newTransactionId(), owner: early.owner, request: req, txn, source: rc.source, local: usableLocal(ctx, rc), toTag: early.toTag, finalSent: false,
    };
    track(ctx, nt);
    return forward(ctx, nt.owner, req, rc.source, nt.id, '', rc.local);
  }
  if (!d || !d.owner.open) {
    ctx.log.debug({ method: req.method, callId: req.callId }, 'request in an unknown dialog: 481');
    // §12.2.2: "If the UAS wishes to reject the request because it does not wish to recreate the dialog, it MUST
    // respond to the request with a 481 (Call/Transaction Does Not Exist) status code".
    return reject(txn, req, Status.CallTransactionDoesNotExist);
  }
  // §12.2.2: CSeq order (500 when lower) and target refresh are the dialog's business.
  const check = d.sip.receiveRequest(req);
  if (!check.ok) return reject(txn, req, check.status, check.reason);
  const small = req.method === 'INVITE' || req.method === 'UPDATE' ? tooSmall(req) : undefined;
  if (small) {
    // RFC 4028 §8.1 / §9: an interval below our Min-SE gets 422 (Session Interval Too Small) with Min-SE.
    const r = createResponse(req, Status.SessionIntervalTooSmall, undefined, { toTag: d.sip.localTag });
    for (const [k, v] of Object.entries(small)) r.append(k, v);
    return void txn.respond(r);
  }
  if (req.method === 'BYE') stop2xx(d);
  const nt: NetTxn = {
    id: newTransactionId(), owner: d.owner, request: req, txn, source: rc.source, local: usableLocal(ctx, rc),
    toTag: d.sip.localTag, dialog: d, finalSent: false,
  };
  track(ctx, nt);
  forward(ctx, nt.owner, req, rc.source, nt.id, d.id, rc.local);
}

/**
 * RFC 3262 §3: a PRACK for a reliable provisional we sent stops its retransmission and goes to the app under the
 * INVITE's dialog id (drachtio-srf resolves the provisional's `fnPrack` with it), which answers it.
 */
function onPrack(ctx: LiteContext, req: SipRequest, rc: RequestContext, txn: ServerTransaction): void {
  const invite = matchPrack(ctx, req);
  if (!invite || !invite.owner.open) {
    ctx.log.debug({ callId: req.callId, rack: req.get('rack') }, 'PRACK matches no unacknowledged reliable provisional: 481');
    return reject(txn, req, Status.CallTransactionDoesNotExist);
  }
  const nt: NetTxn = {
    id: newTransactionId(), owner: invite.owner, request: req, txn, source: rc.source, local: usableLocal(ctx, rc), toTag: invite.toTag, finalSent: false,
  };
  track(ctx, nt);
  forward(ctx, nt.owner, req, rc.source, nt.id, dialogIdOf(req.callId ?? '', getTag(req.get('from') ?? '') ?? ''), rc.local);
}

/**
 * RFC 3262 §3: no PRACK within 64*T1: "the UAS SHOULD reject the original request with a 5xx response". The app
 * hears of it as a CANCEL of the INVITE (drachtio-srf's `req.on('cancel')`): the call it was building is over.
 */
function prackTimeout(ctx: LiteContext, nt: NetTxn): void {
  if (nt.finalSent) return;
  settle(ctx, nt);
  nt.txn.respond(prackTimeoutResponse(nt));
  const cancel = new SipRequest('CANCEL', nt.request.uri);
  for (const name of ['Via', 'From', 'To', 'Call-ID']) for (const v of nt.request.getAll(name)) cancel.append(name, v);
  cancel.append('CSeq', `${parseCSeq(nt.request.get('cseq') ?? '')?.seq ?? 1} CANCEL`);
  ctx.log.info({ callId: nt.request.callId }, 'no PRACK for a reliable provisional: 504, app told by CANCEL');
  forward(ctx, nt.owner, cancel, nt.source, nt.id, '', nt.local);
}

function onAck(ctx: LiteContext, ack: SipRequest, rc: RequestContext): void {
  const d = ctx.dialogs.findForRequest(ack);
  const seq = parseCSeq(ack.get('cseq') ?? '')?.seq;
  if (!d || !d.pending2xx || d.pending2xx.seq !== seq) {
    ctx.log.debug({ callId: ack.callId }, 'ACK matches no 2xx awaiting one: absorbed');
    return;
  }
  stop2xx(d);
  forward(ctx, d.owner, ack, rc.source, newTransactionId(), d.id, rc.local);
}

/** The stack's `onCancel`: the CANCEL got its 200; answer the INVITE 487 and tell the app. */
export function onNetworkCancel(ctx: LiteContext, cancel: SipRequest, invite: ServerTransaction, source: Endpoint): void {
  const nt = ctx.netByServerTxn.get(invite);
  if (!nt || nt.finalSent) return;
  settle(ctx, nt);
  // §9.2: "the UAS SHOULD then respond to the INVITE with a 487 (Request Terminated)."
  invite.respond(createResponse(nt.request, Status.RequestTerminated, undefined, { toTag: nt.toTag }));
  forward(ctx, nt.owner, cancel, source, nt.id, '', nt.local);
}

/** An app's `sip` command carrying a response to network request `txnId`. */
export function respondToNetworkRequest(ctx: LiteContext, conn: ClientConnection, msgId: string, txnId: string, appRes: SipResponse): void {
  const nt = ctx.netTxns.get(txnId);
  if (!nt || nt.owner !== conn) return conn.send(failReply(msgId, 'Response not sent due to unknown transaction'));
  if (nt.finalSent) return conn.send(failReply(msgId, 'final response already sent'));
  const req = nt.request;
  const isInvite = req.method === 'INVITE';
  const appTag = getTag(appRes.get('to') ?? '');
  const res = createResponse(req, appRes.status, appRes.reason || undefined, { toTag: appTag ?? nt.toTag });
  if (appRes.status > 100 && !nt.dialog && (isInvite || req.method === 'SUBSCRIBE')) {
    // §12.1.1: a response that creates a dialog copies the Record-Route header fields of the request.
    for (const rr of req.getAll('record-route')) res.append('Record-Route', rr);
  }
  replaceLocalhost(appRes, hostportOf(nt.local));
  copyAppHeaders(appRes, res);
  if (appRes.body.length > 0) res.body = appRes.body;
  defaultContentType(res);
  if ((isInvite || req.method === 'SUBSCRIBE') && appRes.status > 100 && !res.has('contact')) res.append('Contact', contactFor(nt.local));
  const success = appRes.status >= 200 && appRes.status < 300;
  if (success && (isInvite || req.method === 'UPDATE')) completeRefreshAnswer(nt.dialog, req, res);
  if (success && (isInvite || req.method === 'OPTIONS')) {
    // One Allow/Supported list, from what the server and its apps really handle (request-checks.ts), whatever the app wrote.
    res.set('Allow', ctx.checks.allow());
    mergeSupported(res);
  }
  if (isInvite && wantsReliable(res)) {
    const why = sendReliably(ctx, nt, res, () => prackTimeout(ctx, nt));
    if (why) return conn.send(failReply(msgId, why));
  }

  const dialog = nt.dialog ?? (isInvite && appRes.status >= 200 && appRes.status < 300 ? createUasDialog(ctx, nt, res) : undefined);
  const dialogId = dialog?.id ?? (isInvite ? dialogIdOf(req.callId ?? '', getTag(req.get('from') ?? '') ?? '') : '');
  const wire = wireBytes(res);
  // The echo goes first: drachtio-srf builds its Dialog from it before any later network message (the ACK).
  conn.send(responseSentReply(msgId, metaFor(ctx, 'application', wire, nt.source), nt.id, dialogId), wire);
  // The same bytes go to the network: serialized once.
  nt.txn.respond(res, wire);
  if (res.status < 200) return;
  settle(ctx, nt);
  if (dialog && isInvite && res.status < 300) start2xx(ctx, dialog, nt, res, wire);
  if (dialog && success && (isInvite || req.method === 'UPDATE')) {
    if (isInvite && res.body.length > 0) dialog.localSdp = res.body.toString('utf8');
    armFromSuccess(ctx, dialog, res, 'uas');
  }
  if (nt.dialog && req.method === 'BYE') ctx.dialogs.remove(nt.dialog);
}

function createUasDialog(ctx: LiteContext, nt: NetTxn, res: SipResponse): LiteDialog | undefined {
  let sip: Dialog;
  try {
    sip = Dialog.fromUas(nt.request, res);
  } catch (err) {
    ctx.log.warn({ err, callId: nt.request.callId }, 'cannot form a dialog from this INVITE');
    return undefined;
  }
  const d: LiteDialog = {
    id: sip.id, sip, owner: nt.owner, transport: nt.source.transport, peer: nt.source, lastInviteSeq: 0, terminated: false, peerAllowsUpdate: allows(nt.request, 'UPDATE'),
  };
  ctx.dialogs.add(d);
  ctx.log.debug({ dialogId: d.id }, 'uas dialog created');
  return d;
}

/** §13.3.1.4: retransmit the 2xx (UDP: T1 doubling to T2) until the ACK arrives; after 64*T1 end the dialog. */
function start2xx(ctx: LiteContext, d: LiteDialog, nt: NetTxn, res: SipResponse, wire: Buffer): void {
  stop2xx(d);
  const reliable = isReliable(nt.source.transport);
  const resend = (): void => {
    if (reliable) return;
    if (nt.txn.state !== 'terminated') nt.txn.respond(res, wire);
    else ctx.stack.sendStateless(res, nt.source).catch((err: unknown) => ctx.log.debug({ err }, '2xx retransmission failed'));
  };
  const seq = parseCSeq(nt.request.get('cseq') ?? '')?.seq ?? 0;
  const retransmitter = new SuccessRetransmitter({ clock: ctx.clock, t1: ctx.timers.t1, t2: ctx.timers.t2, resend, onTimeout: () => ackTimeout(ctx, d) });
  d.pending2xx = { retransmitter, seq };
}

function stop2xx(d: LiteDialog): void {
  d.pending2xx?.retransmitter.ackReceived();
  delete d.pending2xx;
}

/**
 * §13.3.1.4: "If the server retransmits the 2xx response for 64*T1 seconds without receiving an ACK, the dialog
 * is confirmed, but the session SHOULD be terminated. This is accomplished with a BYE." The app is told with an
 * `unsolicited` BYE from `application`, which drachtio-srf turns into the dialog's `destroy` event.
 */
function ackTimeout(ctx: LiteContext, d: LiteDialog): void {
  delete d.pending2xx;
  if (d.terminated) return;
  ctx.log.info({ dialogId: d.id }, 'no ACK for 2xx: sending BYE');
  endStaleDialog(ctx, d, 'SIP ;cause=408 ;text="ACK timeout"');
}

/** BYE on the server's own account, and an `unsolicited` BYE to the app (drachtio-srf emits the dialog's `destroy`). */
export function endStaleDialog(ctx: LiteContext, d: LiteDialog, reason: string): void {
  if (d.terminated) return;
  const { bye, destination } = endDialog(ctx, d, reason);
  const wire = wireBytes(bye);
  d.owner.send(sipMessageFrame(metaFor(ctx, 'application', wire, destination), 'unsolicited', d.id), wire);
}

/** Ends dialog `d` on the server's own account: sends a BYE (no app transaction) and forgets the dialog. */
export function endDialog(ctx: LiteContext, d: LiteDialog, reason: string): { bye: SipRequest; destination: Endpoint } {
  const bye = d.sip.createRequest('BYE', { headers: { Reason: reason } });
  const destination = destinationOf(d, bye);
  ctx.dialogs.remove(d);
  try {
    const txn = ctx.stack.sendRequest(bye, { destination });
    txn.on('timeout', () => ctx.log.debug({ dialogId: d.id }, 'BYE timed out'));
    txn.on('transport-error', (err: Error) => ctx.log.debug({ err, dialogId: d.id }, 'BYE transport error'));
  } catch (err) {
    ctx.log.warn({ err, dialogId: d.id }, 'could not send BYE');
  }
  return { bye, destination };
}
