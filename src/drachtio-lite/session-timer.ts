/**
 * RFC 4028 session timers, owned by the server as drachtio-server owns them: an app asks for one by putting
 * `Session-Expires` in its 2xx to an INVITE (UAS) or receives one in the 2xx to its INVITE (UAC). From then on the
 * server keeps the dialog alive on its own — the refresher sends a session refresh (UPDATE when the peer allows
 * it, else a re-INVITE with the last local SDP) at half the interval, and when the peer is the refresher and no
 * refresh arrives the dialog is ended with a BYE, the app hearing of it as an unsolicited BYE (srf's `destroy`).
 * A failed refresh (timeout, 408, 481, anything but 2xx or 491) ends the dialog the same way.
 */
import { parseCSeq, parseSessionExpires, Status, type SessionExpires, type SipRequest, type SipResponse } from '../sip/index.js';
import type { LiteContext } from './context.js';
import { destinationOf, type LiteDialog, type SessionTimer } from './dialogs.js';

// Declared with the dialog that holds it (dialogs.ts), so dialogs need nothing from this file.
export type { SessionTimer } from './dialogs.js';
import { hasOptionTag } from './reliable-provisional.js';

/** RFC 4028 §4: "the minimum value of Min-SE is 90 seconds". */
export const MIN_SE_S = 90;


/** `Session-Expires` (compact `x`) of a message: delta-seconds and the refresher parameter. */
export function sessionExpiresOf(msg: SipRequest | SipResponse): SessionExpires | undefined {
  // get() expands compact forms: `x` is found as session-expires.
  return parseSessionExpires(msg.get('session-expires'));
}

/**
 * §7.4 / §8.1: an INVITE or UPDATE from the peer asking for an interval below our Min-SE gets 422 with `Min-SE`.
 * Returns the response headers for that, or undefined when the request is acceptable.
 */
export function tooSmall(req: SipRequest): Record<string, string> | undefined {
  const se = sessionExpiresOf(req);
  return se && se.deltaS < MIN_SE_S ? { 'Min-SE': String(MIN_SE_S) } : undefined;
}

/**
 * A 2xx we (UAS) send to a session refresh in a dialog with a timer, from an app that did not say: §9 "the UAS
 * MUST include a Session-Expires header field in the 2xx response" — the request's interval, the refresher
 * unchanged unless the request names one.
 */
export function completeRefreshAnswer(d: LiteDialog | undefined, req: SipRequest, res: SipResponse): void {
  if (!d?.sessionTimer || res.has('session-expires')) return;
  const se = sessionExpiresOf(req);
  if (!se) return;
  const refresher = se.refresher ?? (d.sessionTimer.refresher === 'them' ? 'uac' : 'uas');
  res.set('Session-Expires', `${se.deltaS};refresher=${refresher}`);
  if (hasOptionTag(req, 'supported', 'timer')) res.set('Require', 'timer');
}

/** An app's in-dialog INVITE/UPDATE in a dialog with a timer is a session refresh too (§7.4): say so. */
export function completeRefreshRequest(d: LiteDialog, out: SipRequest): void {
  if (!d.sessionTimer || (out.method !== 'INVITE' && out.method !== 'UPDATE') || out.has('session-expires')) return;
  out.set('Session-Expires', `${d.sessionTimer.intervalS};refresher=${d.sessionTimer.refresher === 'us' ? 'uac' : 'uas'}`);
  out.set('Supported', 'timer');
}

/**
 * A 2xx to an INVITE or UPDATE of dialog `d` went out (`side` uas) or came in (`side` uac): arm, re-arm or stop
 * the timer from its Session-Expires. §7.2: "If the 2xx response did not contain a Session-Expires header field,
 * there is no session expiration."
 */
export function armFromSuccess(ctx: LiteContext, d: LiteDialog, res: SipResponse, side: 'uac' | 'uas'): void {
  const prev = d.sessionTimer;
  prev?.cancel();
  delete d.sessionTimer;
  if (d.terminated) return;
  const se = sessionExpiresOf(res);
  if (!se || se.deltaS <= 0) {
    // A peer without session timers answered; when we are the refresher we go on refreshing (its failure is
    // what ends a dialog whose peer has vanished).
    if (prev?.refresher === 'us') arm(ctx, d, prev.intervalS, 'us');
    return;
  }
  // The refresher parameter names a role in this transaction; absent in a 2xx we received, the UAC (us) refreshes.
  const ours = side === 'uac' ? (se.refresher ?? 'uac') === 'uac' : se.refresher === 'uas';
  arm(ctx, d, se.deltaS, ours ? 'us' : 'them');
}

function arm(ctx: LiteContext, d: LiteDialog, intervalS: number, refresher: 'us' | 'them'): void {
  // §10: the refresher refreshes at half the interval; otherwise "if the side not performing refreshes does not
  // receive a session refresh request before the session expiration, it SHOULD send a BYE ... the BYE SHOULD be
  // sent before the session expiration ... minus the minimum of 32 seconds and one third of the session interval".
  const ms = refresher === 'us' ? (intervalS * 1000) / 2 : (intervalS - Math.min(32, intervalS / 3)) * 1000;
  const handle = ctx.clock.setTimeout(() => (refresher === 'us' ? refresh(ctx, d) : expire(ctx, d)), ms);
  d.sessionTimer = { intervalS, refresher, cancel: () => ctx.clock.clearTimeout(handle) };
  ctx.log.debug({ dialogId: d.id, intervalS, refresher }, 'session timer armed');
}

function expire(ctx: LiteContext, d: LiteDialog): void {
  delete d.sessionTimer;
  if (d.terminated) return;
  ctx.log.info({ dialogId: d.id }, 'session timer expired: no refresh from the peer, ending the dialog');
  ctx.endStale(d, 'SIP ;cause=200 ;text="Session timer expired"');
}

/** Sends our session refresh: UPDATE without a body when the peer allows UPDATE (§7.4 prefers it), else re-INVITE. */
function refresh(ctx: LiteContext, d: LiteDialog): void {
  const timer = d.sessionTimer;
  delete d.sessionTimer;
  if (d.terminated || !timer) return;
  const method = d.peerAllowsUpdate || d.localSdp === undefined ? 'UPDATE' : 'INVITE';
  const req = d.sip.createRequest(method, {
    headers: { 'Session-Expires': `${timer.intervalS};refresher=uac`, 'Min-SE': String(MIN_SE_S), Supported: 'timer' },
    ...(method === 'INVITE' ? { body: d.localSdp! } : {}),
  });
  if (method === 'INVITE') {
    req.set('Content-Type', 'application/sdp');
    d.lastInviteSeq = d.sip.localCSeq;
  }
  const destination = destinationOf(d, req);
  const fail = (why: string): void => {
    if (d.terminated) return;
    ctx.log.info({ dialogId: d.id, why }, 'session refresh failed: ending the dialog');
    ctx.endStale(d, `SIP ;cause=408 ;text="Session refresh failed: ${why}"`);
  };
  let txn;
  try {
    txn = ctx.stack.sendRequest(req, { destination });
  } catch (err) {
    return fail(String(err));
  }
  txn.on('response', (res: SipResponse) => {
    if (res.status < 200 || d.terminated) return;
    if (res.status < 300) {
      if (method === 'INVITE') {
        const ack = d.sip.createAck(parseCSeq(req.get('cseq') ?? '')?.seq ?? d.sip.localCSeq);
        ctx.stack.sendStateless(ack, destinationOf(d, ack)).catch((err: unknown) => ctx.log.debug({ err }, 'refresh ACK failed'));
      }
      d.sip.updateRemoteTarget(res);
      d.sessionTimer = timer;
      armFromSuccess(ctx, d, res, 'uac');
    } else if (res.status === Status.RequestPending) {
      arm(ctx, d, timer.intervalS, 'us'); // glare: try again next interval, as drachtio-server does
    } else {
      fail(`${res.status}`);
    }
  });
  txn.on('timeout', () => fail('timeout'));
  txn.on('transport-error', () => fail('transport error'));
}
