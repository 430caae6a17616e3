/**
 * RFC 3262 reliable provisional responses (100rel / PRACK), the way drachtio-server does them for apps:
 *
 * - **UAS** (an INVITE from the network): an app's 18x carrying `Require: 100rel` is sent reliably: it gets an
 *   `RSeq` and is retransmitted (UDP) until the matching PRACK arrives; the PRACK goes to the app under the
 *   INVITE's dialog id (drachtio-srf's `res.send(18x, opts, cb, fnPrack)` waits for it) and the app answers it.
 * - **UAC** (an app's INVITE): a reliable 1xx forms an early dialog; the app's PRACK (srf sends it on its own for
 *   every 1xx with `RSeq`) is built in that dialog, and the confirmed dialog's CSeq continues after it.
 */
import {
  createResponse, Dialog, getTag, hasTag, isReliable, parseCSeq, SipRequest, Status, SuccessRetransmitter, type SipResponse,
} from '../sip/index.js';
import type { AppTxn, LiteContext, NetTxn } from './context.js';

// Declared with the transactions that hold them (context.ts), so the context needs nothing from this file.
export type { ReliableUac, ReliableUas } from './context.js';



/** True when option tag `tag` is listed in `header` (Supported, Require; comma lists over one or more lines). */
export function hasOptionTag(msg: SipRequest | SipResponse, header: 'supported' | 'require', tag: string): boolean {
  return hasTag(msg.getAll(header), tag);
}

/** Whether the app asked for this provisional to be sent reliably (its `Require` lists 100rel). */
export function wantsReliable(res: SipResponse): boolean {
  return res.status > 100 && res.status < 200 && hasOptionTag(res, 'require', '100rel');
}

/**
 * Prepares `res` (an app's 18x to INVITE `nt`) to go out reliably: adds RSeq and arms the retransmission. Returns
 * the reason it cannot, as drachtio-server words it, when the UAC did not offer 100rel or a PRACK is pending.
 */
export function sendReliably(ctx: LiteContext, nt: NetTxn, res: SipResponse, onTimeout: () => void): string | null {
  // RFC 3262 §3: "the UAS MUST NOT attempt to send a 100 (Trying) response reliably. Only provisional responses
  // numbered 101 to 199 may be sent reliably. If the request did not include either a Supported or Require
  // header field indicating this feature, the UAS MUST NOT send the provisional response reliably."
  if (!hasOptionTag(nt.request, 'supported', '100rel') && !hasOptionTag(nt.request, 'require', '100rel')) {
    return 'Remote endpoint does not support 100rel';
  }
  const rel = (nt.rel ??= { rseq: Math.floor(Math.random() * 2 ** 30) + 1, pending: null });
  // §3: "the UAS MUST NOT send a second reliable provisional response until the first is acknowledged."
  if (rel.pending) return 'a reliable provisional response is still awaiting its PRACK';
  rel.rseq += 1;
  res.set('RSeq', String(rel.rseq));
  const reliable = isReliable(nt.source.transport);
  // §3: "The reliable provisional response is passed to the transaction layer periodically with an interval that
  // starts at T1 seconds and doubles for each retransmission" — no T2 cap; it stops after 64*T1.
  const retransmitter = new SuccessRetransmitter({
    clock: ctx.clock, t1: ctx.timers.t1, t2: 64 * ctx.timers.t1,
    resend: () => { if (!reliable && !nt.finalSent) nt.txn.respond(res); },
    onTimeout,
  });
  rel.pending = { rseq: rel.rseq, retransmitter };
  return null;
}

/** Stops a pending reliable provisional's retransmission (final response sent, or the INVITE is gone). */
export function stopReliable(nt: NetTxn): void {
  nt.rel?.pending?.retransmitter.stop();
  if (nt.rel) nt.rel.pending = null;
}

/**
 * A PRACK from the network: the INVITE it acknowledges (same Call-ID and From tag, our To tag) with the provisional
 * its RAck names (`rseq cseq-number INVITE`). §3: "If the PRACK does not match any unacknowledged reliable
 * provisional response, the UAS MUST respond to the PRACK with a 481 response."
 */
export function matchPrack(ctx: LiteContext, prack: SipRequest): NetTxn | undefined {
  const fromTag = getTag(prack.get('from') ?? '');
  const toTag = getTag(prack.get('to') ?? '');
  const rack = /^\s*(\d+)\s+(\d+)\s+(\S+)\s*$/.exec(prack.get('rack') ?? '');
  if (!rack) return undefined;
  for (const nt of ctx.netTxns.values()) {
    if (nt.request.method !== 'INVITE' || nt.finalSent || nt.request.callId !== prack.callId || nt.toTag !== toTag) continue;
    if (getTag(nt.request.get('from') ?? '') !== fromTag) continue;
    const pending = nt.rel?.pending;
    const inviteSeq = parseCSeq(nt.request.get('cseq') ?? '')?.seq;
    if (!pending || pending.rseq !== Number(rack[1]) || inviteSeq !== Number(rack[2]) || rack[3]!.toUpperCase() !== 'INVITE') return undefined;
    pending.retransmitter.ackReceived();
    nt.rel!.pending = null;
    return nt;
  }
  return undefined;
}

/** §3: "the UAS SHOULD reject the original request with a 5xx response" when no PRACK came in 64*T1. */
export function prackTimeoutResponse(nt: NetTxn): SipResponse {
  return createResponse(nt.request, Status.ServerTimeout, 'No PRACK', { toTag: nt.toTag });
}

/**
 * A 1xx to an app's INVITE. §4: a reliable one (RSeq and a To tag) forms or continues the early dialog; "If the
 * UAC receives another reliable provisional response to the same request, and its RSeq value is not one higher
 * than the value of the sequence number, that response MUST NOT be acknowledged with a PRACK, and MUST NOT be
 * processed further by the UAC." Returns false for such a response (do not pass it to the app).
 */
export function acceptProvisional(at: AppTxn, res: SipResponse): boolean {
  const rseq = Number(res.get('rseq'));
  const toTag = getTag(res.get('to') ?? '');
  if (!res.has('rseq') || !Number.isInteger(rseq) || !toTag || at.request.method !== 'INVITE') return true;
  if (at.rel && at.rel.dialog.remoteTag === toTag) {
    if (rseq !== at.rel.lastRSeq + 1) return false;
    at.rel.lastRSeq = rseq;
    at.rel.dialog.updateRemoteTarget(res);
    return true;
  }
  try {
    at.rel = { dialog: Dialog.fromUac(at.request, res), lastRSeq: rseq };
  } catch {
    return true;
  }
  return true;
}

/** The app's PRACK for INVITE `at`, built in the early dialog (§12.2.1.1 rules; RAck from the app). */
export function buildPrack(at: AppTxn): SipRequest | undefined {
  return at.rel?.dialog.createRequest('PRACK');
}
