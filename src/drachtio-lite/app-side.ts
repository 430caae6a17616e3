/**
 * App → network: the `sip` commands that send requests. A new request gets the headers drachtio-srf leaves out
 * (From with tag, To, Call-ID, CSeq, Contact; the stack adds Via and Max-Forwards); an in-dialog request is built
 * from the dialog (§12.2.1.1); an ACK for a 2xx is sent statelessly with the INVITE's CSeq (§13.2.2.4); a CANCEL
 * reuses the INVITE's Via (§9.1). Responses go back to the app tagged with the transaction and dialog ids.
 */
import {
  createResponse, Dialog, generateCallId, generateTag, getTag, parseCSeq, parseNameAddr, requestSkeleton, setTag, SipRequest, Status, type Endpoint, type SipResponse,
} from '../sip/index.js';
import type { ClientConnection } from './client-connection.js';
import { allows, destinationOf, dialogIdOf, endpointOfUri, type LiteDialog } from './dialogs.js';
import {
  contactFor, hostportOf, metaFor, newTransactionId, wireBytes, type AppTxn, type LiteContext,
} from './context.js';
import { copyAppHeaders, defaultContentType, replaceLocalhost } from './app-message.js';
import { failReply, requestSentReply, sipMessageFrame } from './wire/commands.js';
import { endDialog } from './network-side.js';
import { acceptProvisional, buildPrack } from './reliable-provisional.js';
import { armFromSuccess, completeRefreshRequest } from './session-timer.js';

/** Routes one app request (`sip` command whose message is a request). */
export function sendAppRequest(ctx: LiteContext, conn: ClientConnection, msgId: string, txnId: string, dialogId: string, routeUrl: string, req: SipRequest): void {
  if (req.method === 'ACK') return sendAck(ctx, conn, msgId, dialogId, req);
  if (req.method === 'CANCEL' && txnId) return sendCancel(ctx, conn, msgId, txnId, req);
  if (dialogId) return sendInDialog(ctx, conn, msgId, dialogId, req);
  return sendNew(ctx, conn, msgId, routeUrl, req);
}

function sendNew(ctx: LiteContext, conn: ClientConnection, msgId: string, routeUrl: string, appReq: SipRequest): void {
  // An outbound proxy (`routeUrl`, srf's `proxy` option) only changes where the request goes, as with
  // drachtio-server; it may come as `host:port` without a scheme.
  // A pre-loaded Route set from the app (RFC 3261 §8.1.2) is kept and its first entry is the next hop.
  const appRoutes = appReq.getAll('route');
  const firstRoute = appRoutes[0] !== undefined ? parseNameAddr(appRoutes[0])?.uri : undefined;
  const next = routeUrl ? (/^sips?:/i.test(routeUrl) ? routeUrl : `sip:${routeUrl}`) : firstRoute ?? appReq.uri;
  const destination = endpointOfUri(next, 'udp');
  if (!destination) return conn.send(failReply(msgId, `invalid request-uri: ${next}`));
  const local = ctx.stack.localEndpointFor(destination);
  if (ctx.stack.listening.some((l) => l.transport === destination.transport && l.port === destination.port && (l.address === destination.address || destination.address === local.address))) {
    return conn.send(failReply(msgId, 'can not send request to myself'));
  }
  const method = appReq.method;
  const contact = contactFor(local);
  replaceLocalhost(appReq, hostportOf(local));
  let from = appReq.get('from') ?? contact;
  if (!getTag(from)) from = setTag(from, generateTag());
  const to = appReq.get('to') ?? `<${appReq.uri}>`;
  const callId = appReq.get('call-id') ?? generateCallId(local.address);
  const appSeq = parseCSeq(appReq.get('cseq') ?? '');
  const cseq = appSeq && appSeq.method === method ? appSeq.seq : 1;

  const out = new SipRequest(method, appReq.uri);
  out.append('From', from);
  out.append('To', to);
  out.append('Call-ID', callId);
  out.append('CSeq', `${cseq} ${method}`);
  if (appReq.has('contact')) out.append('Contact', appReq.get('contact')!);
  else if (method === 'INVITE' || method === 'SUBSCRIBE') out.append('Contact', contact);
  for (const r of appRoutes) out.append('Route', r);
  copyAppHeaders(appReq, out, ['contact']);
  out.body = appReq.body;
  defaultContentType(out);

  const isInvite = method === 'INVITE';
  const dialogId = isInvite ? dialogIdOf(callId, getTag(from)!) : '';
  launch(ctx, conn, msgId, out, destination, dialogId, undefined);
}

function sendInDialog(ctx: LiteContext, conn: ClientConnection, msgId: string, dialogId: string, appReq: SipRequest): void {
  const d = ctx.dialogs.get(dialogId);
  if (!d && appReq.method === 'PRACK') return sendEarlyPrack(ctx, conn, msgId, dialogId, appReq);
  if (!d || d.owner !== conn) return conn.send(failReply(msgId, `unable to find dialog for dialog id ${dialogId}`));
  const method = appReq.method;
  // The dialog builds Request-URI, Route, From, To, Call-ID, CSeq and (for target refreshes) our Contact.
  const out = d.sip.createRequest(method);
  replaceLocalhost(appReq, hostportOf(ctx.stack.localEndpointFor(d.peer)));
  if (appReq.has('contact')) out.set('Contact', appReq.get('contact')!);
  copyAppHeaders(appReq, out, ['contact']);
  out.body = appReq.body;
  defaultContentType(out);
  completeRefreshRequest(d, out);
  if (method === 'INVITE') d.lastInviteSeq = d.sip.localCSeq;
  launch(ctx, conn, msgId, out, destinationOf(d, out), d.id, d);
}

/** RFC 3262 §4: the app's PRACK for a reliable 1xx to its INVITE, in that response's early dialog. */
function sendEarlyPrack(ctx: LiteContext, conn: ClientConnection, msgId: string, dialogId: string, appReq: SipRequest): void {
  let at: AppTxn | undefined;
  for (const t of ctx.appTxns.values()) if (t.dialogId === dialogId && t.owner === conn && t.request.method === 'INVITE' && !t.final && t.rel) at = t;
  const out = at ? buildPrack(at) : undefined;
  if (!at || !out) return conn.send(failReply(msgId, 'unable to find IIP when sending PRACK'));
  copyAppHeaders(appReq, out, ['contact']);
  out.body = appReq.body;
  defaultContentType(out);
  launch(ctx, conn, msgId, out, destinationOf({ transport: at.destination.transport, peer: at.destination }, out), dialogId, undefined);
}

/** Sends in a client transaction, echoes it to the app, then relays every response. */
function launch(ctx: LiteContext, conn: ClientConnection, msgId: string, out: SipRequest, destination: Endpoint, dialogId: string, dialog: LiteDialog | undefined): void {
  let txn;
  try {
    txn = ctx.stack.sendRequest(out, { destination });
  } catch (err) {
    ctx.log.warn({ err }, 'could not send app request');
    return conn.send(failReply(msgId, 'Error creating sip transaction for request'));
  }
  const at: AppTxn = { id: newTransactionId(), owner: conn, request: out, txn, destination, dialogId, final: false, canceled: false, provisional: false, ...(dialog ? { dialog } : {}) };
  ctx.appTxns.set(at.id, at);
  // The bytes the transaction sent (undefined only if they could not be serialized): one serialization per request.
  const wire = wireBytes(out, txn.requestWire);
  ctx.log.debug({ client: conn.id, method: out.method, callId: out.callId, txnId: at.id, dialogId, to: `${destination.address}:${destination.port}` }, 'app request sent');
  // The echo is written synchronously here, before any response can be read from the network.
  conn.send(requestSentReply(msgId, metaFor(ctx, 'application', wire, destination), at.id), wire);
  txn.on('response', (res: SipResponse) => onResponse(ctx, at, res));
  txn.on('timeout', () => synthesize(ctx, at, Status.RequestTimeout, 'Request Timeout'));
  txn.on('transport-error', () => synthesize(ctx, at, Status.ServiceUnavailable, 'Service Unavailable'));
  txn.once('terminated', () => {
    if (ctx.appTxns.get(at.id) === at) ctx.appTxns.delete(at.id);
  });
}

/** A final response the network never sent (timeout, transport error), so the app's request completes. */
function synthesize(ctx: LiteContext, at: AppTxn, status: number, reason: string): void {
  if (at.final) return;
  at.final = true;
  delete at.deferredCancel;
  ctx.appTxns.delete(at.id);
  if (at.dialog && at.request.method === 'BYE') ctx.dialogs.remove(at.dialog);
  const res = createResponse(at.request, status, reason);
  settle(at);
  const wire = wireBytes(res);
  at.owner.send(sipMessageFrame(metaFor(ctx, 'network', wire, at.destination), at.id, at.dialogId), wire);
}

function onResponse(ctx: LiteContext, at: AppTxn, res: SipResponse): void {
  const wasFinal = at.final;
  try {
    relayResponse(ctx, at, res);
  } finally {
    if (!wasFinal && at.final) settle(at);
  }
}

/** Headers a forked 2xx's dialog is built from after the final response (`Dialog.fromUac`), besides the URI. */
const KEPT_AFTER_FINAL: ReadonlySet<string> = new Set(['from', 'call-id', 'cseq', 'contact']);

/**
 * What an app transaction keeps of its request once it has its final response: method, URI and the headers of
 * {@link KEPT_AFTER_FINAL}, as own strings, no body. An INVITE's client transaction waits 64*T1 (32 s over UDP)
 * in Accepted for 2xx retransmissions and its listeners keep `at`; the full request (every header a slice of
 * srf's message text, and the SDP) was the largest thing a finished call left on the heap for that time.
 */
function settle(at: AppTxn): void {
  at.request = requestSkeleton(at.request, KEPT_AFTER_FINAL);
}

function relayResponse(ctx: LiteContext, at: AppTxn, res: SipResponse): void {
  const method = at.request.method;
  const success = res.status >= 200 && res.status < 300;
  if (at.final) {
    if (method !== 'INVITE' || !success) return;
    // A 2xx retransmission (RFC 6026 Accepted state): re-ACK if the app already acknowledged, never re-forward.
    const d = at.dialog ?? ctx.dialogs.get(at.dialogId);
    if (d && getTag(res.get('to') ?? '') === d.sip.remoteTag) reAck(ctx, d);
    else dropForked2xx(ctx, at, res);
    return;
  }
  if (res.status >= 200) {
    // Only a CANCEL looks an app transaction up by id, and none may follow a final response; later 2xx
    // retransmissions reach `at` through this listener's closure.
    at.final = true;
    delete at.deferredCancel;
    ctx.appTxns.delete(at.id);
  } else {
    at.provisional = true;
    if (at.deferredCancel) transmitCancel(ctx, at, at.deferredCancel);
    if (!acceptProvisional(at, res)) return;
  }
  let dialog = at.dialog;
  if (method === 'INVITE' && success && !dialog) dialog = createUacDialog(ctx, at, res);
  if (dialog && method === 'INVITE' && success) {
    dialog.lastInviteSeq = parseCSeq(at.request.get('cseq') ?? '')?.seq ?? dialog.lastInviteSeq;
    delete dialog.lastAck;
    dialog.ackPending = true;
    // §12.2: a 2xx to a re-INVITE is a target refresh.
    dialog.sip.confirm(res);
    if (at.request.body.length > 0) dialog.localSdp = at.request.body.toString('utf8');
  }
  if (dialog && success && (method === 'INVITE' || method === 'UPDATE')) armFromSuccess(ctx, dialog, res, 'uac');
  if (dialog && method === 'BYE' && res.status >= 200) ctx.dialogs.remove(dialog);
  if (!at.owner.open) {
    // The app left while its INVITE was pending: acknowledge and hang up a late answer (§15).
    if (dialog && method === 'INVITE' && success && !at.dialog) abandonDialog(ctx, dialog);
    return;
  }
  const wire = wireBytes(res);
  at.owner.send(sipMessageFrame(metaFor(ctx, 'network', wire, at.destination), at.id, at.dialogId), wire);
}

/**
 * §13.2.2.4: a 2xx from another fork after the first: "the UAC core MUST generate an ACK ... If the UAC does not
 * want to continue with that dialog, then it MUST terminate the dialog by sending a BYE request." Apps see only
 * the first answer, as with drachtio-server.
 */
function dropForked2xx(ctx: LiteContext, at: AppTxn, res: SipResponse): void {
  let sip: Dialog;
  try {
    sip = Dialog.fromUac(at.request, res);
  } catch {
    return;
  }
  const seq = parseCSeq(at.request.get('cseq') ?? '')?.seq ?? 1;
  const d: LiteDialog = { id: sip.id, sip, owner: at.owner, transport: at.destination.transport, peer: at.destination, lastInviteSeq: seq, terminated: false };
  const ack = sip.createAck(seq);
  ctx.stack.sendStateless(ack, destinationOf(d, ack)).catch((err: unknown) => ctx.log.debug({ err }, 'ACK for forked 2xx failed'));
  ctx.log.info({ callId: res.callId }, 'second 2xx from a fork: ACK and BYE');
  endDialog(ctx, d, 'SIP ;cause=200 ;text="Call completed elsewhere"');
}

function createUacDialog(ctx: LiteContext, at: AppTxn, res: SipResponse): LiteDialog | undefined {
  if (!res.has('contact')) return undefined;
  let sip: Dialog;
  try {
    sip = Dialog.fromUac(at.request, res);
  } catch (err) {
    ctx.log.warn({ err, callId: res.callId }, 'cannot form a dialog from this 2xx');
    return undefined;
  }
  // RFC 3262 §4: requests sent in the early dialog (PRACK) used CSeq numbers after the INVITE's.
  if (at.rel?.dialog.remoteTag === sip.remoteTag) sip.localCSeq = Math.max(sip.localCSeq, at.rel.dialog.localCSeq);
  const d: LiteDialog = {
    id: sip.id, sip, owner: at.owner, transport: at.destination.transport, peer: at.destination, lastInviteSeq: 0, terminated: false, peerAllowsUpdate: allows(res, 'UPDATE'),
  };
  ctx.dialogs.add(d);
  ctx.log.debug({ dialogId: d.id }, 'uac dialog created');
  return d;
}

/**
 * §13.2.2.4: the ACK for a 2xx, built from the dialog with the INVITE's CSeq number, sent outside any transaction.
 * An app's ACK carries the 3PCC answer in its body. An ACK for a dialog we do not have is the one drachtio-srf
 * sends after a non-2xx: the INVITE client transaction already acknowledged that (§17.1.1.3).
 */
function sendAck(ctx: LiteContext, conn: ClientConnection, msgId: string, dialogId: string, appReq: SipRequest): void {
  const d = dialogId ? ctx.dialogs.get(dialogId) : undefined;
  if (!d || d.owner !== conn || !d.ackPending) {
    return conn.send(failReply(msgId, 'ACK for non-success responses is automatically generated by the stack'));
  }
  const ack = sendAckFor(ctx, d, appReq);
  const wire = wireBytes(ack);
  conn.send(requestSentReply(msgId, metaFor(ctx, 'application', wire, d.lastAck!.destination), ''), wire);
}

/** Builds and sends the ACK for the last INVITE of dialog `d`; remembers it for 2xx retransmissions. */
function sendAckFor(ctx: LiteContext, d: LiteDialog, appReq: SipRequest | undefined): SipRequest {
  const ack = d.sip.createAck(d.lastInviteSeq);
  if (appReq) {
    copyAppHeaders(appReq, ack, ['contact']);
    ack.body = appReq.body;
    defaultContentType(ack);
    if (ack.body.length > 0) d.localSdp = ack.body.toString('utf8');
  }
  const destination = destinationOf(d, ack);
  d.ackPending = false;
  d.lastAck = { ack, destination };
  ctx.stack.sendStateless(ack, destination).catch((err: unknown) => ctx.log.debug({ err, dialogId: d.id }, 'ACK send failed'));
  return ack;
}

function reAck(ctx: LiteContext, d: LiteDialog | undefined): void {
  if (!d?.lastAck) return;
  ctx.stack.sendStateless(d.lastAck.ack, d.lastAck.destination).catch((err: unknown) => ctx.log.debug({ err, dialogId: d.id }, 'ACK resend failed'));
}

/** The stack's `onStrayResponse`: a 2xx retransmission after the INVITE transaction ended gets our ACK again. */
export function onStrayResponse(ctx: LiteContext, res: SipResponse): void {
  if (res.status < 200 || res.status >= 300 || parseCSeq(res.get('cseq') ?? '')?.method !== 'INVITE') return;
  const fromTag = getTag(res.get('from') ?? '');
  if (!res.callId || !fromTag) return;
  reAck(ctx, ctx.dialogs.get(dialogIdOf(res.callId, fromTag)));
}

/**
 * §9.1: a CANCEL for the app's pending INVITE `txnId`: same Request-URI, Call-ID, From, To, CSeq number and top
 * Via (the stack keeps our INVITE's branch), method CANCEL.
 */
function sendCancel(ctx: LiteContext, conn: ClientConnection, msgId: string, txnId: string, appReq: SipRequest): void {
  const at = ctx.appTxns.get(txnId);
  if (!at || at.owner !== conn || at.final || at.request.method !== 'INVITE') {
    return conn.send(failReply(msgId, 'unknown transaction or final response already received'));
  }
  const cancel = cancelFor(at);
  copyAppHeaders(appReq, cancel, ['contact']);
  at.canceled = true;
  launchCancel(ctx, conn, msgId, at, cancel);
}

function cancelFor(at: AppTxn): SipRequest {
  const inv = at.request;
  const cancel = new SipRequest('CANCEL', inv.uri);
  const via = inv.getAll('via')[0];
  if (via) cancel.append('Via', via);
  for (const r of inv.getAll('route')) cancel.append('Route', r);
  for (const name of ['From', 'To', 'Call-ID']) cancel.append(name, inv.get(name) ?? '');
  cancel.append('CSeq', `${parseCSeq(inv.get('cseq') ?? '')?.seq ?? 1} CANCEL`);
  cancel.append('Max-Forwards', '70');
  return cancel;
}

/**
 * §9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent; rather, the client
 * MUST wait for the arrival of a provisional response before sending the request." The app's OK comes at once.
 */
function launchCancel(ctx: LiteContext, conn: ClientConnection | undefined, msgId: string, at: AppTxn, cancel: SipRequest): void {
  if (at.provisional) transmitCancel(ctx, at, cancel);
  else at.deferredCancel = cancel;
  if (!conn) return;
  const wire = wireBytes(cancel);
  conn.send(requestSentReply(msgId, metaFor(ctx, 'application', wire, at.destination), newTransactionId()), wire);
}

function transmitCancel(ctx: LiteContext, at: AppTxn, cancel: SipRequest): void {
  delete at.deferredCancel;
  try {
    const txn = ctx.stack.sendRequest(cancel, { destination: at.destination });
    txn.on('timeout', () => ctx.log.debug({ txnId: at.id }, 'CANCEL timed out'));
    txn.on('transport-error', (err: Error) => ctx.log.debug({ err, txnId: at.id }, 'CANCEL transport error'));
  } catch (err) {
    ctx.log.warn({ err, txnId: at.id }, 'could not send CANCEL');
  }
}

/** Ends a dialog whose app is gone: ACK a 2xx the app never acknowledged (§13.2.2.4), then BYE. */
export function abandonDialog(ctx: LiteContext, d: LiteDialog): void {
  if (d.ackPending) sendAckFor(ctx, d, undefined);
  endDialog(ctx, d, 'SIP ;cause=480 ;text="application gone"');
}

/** An app left: CANCEL its INVITEs still waiting for a final response (a late 2xx is ACKed and BYEd). */
export function cancelPendingOf(ctx: LiteContext, conn: ClientConnection): void {
  for (const at of [...ctx.appTxns.values()]) {
    if (at.owner !== conn || at.final || at.canceled || at.request.method !== 'INVITE' || at.dialog) continue;
    at.canceled = true;
    launchCancel(ctx, undefined, '', at, cancelFor(at));
  }
}
