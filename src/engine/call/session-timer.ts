/**
 * RFC 4028 session timers and RFC 3262 100rel, the engine's part: what our INVITEs offer, what the caller's 2xx
 * carries, the 422 a too-small interval gets, and one retry when a callee answers 422. Running the timer (refresh,
 * BYE when the peer stops refreshing) is the SIP server's job, as with drachtio-server: srf apps only put
 * `Session-Expires` in their messages (docs/engine.md, "Session timers").
 */
import type { SessionTimersConfig } from '../../config/index.js';
import { isSipError, type SrfDialog, type SrfLike, type SrfRequest, type SrfUacCallbacks, type SrfUacOptions } from '../srf-types.js';
import { Status } from '../../sip/syntax.js';
import { hasTag, parseMinSe, parseSessionExpires, type SessionExpires } from '../../sip/session-expires.js';

/** `Session-Expires` of a request: delta-seconds and refresher (srf keeps the compact `x` under its own name). */
function sessionExpires(req: SrfRequest): SessionExpires | undefined {
  return parseSessionExpires(req.get('Session-Expires') ?? req.get('x'));
}

/**
 * Headers for our INVITEs to devices and trunks: `Supported: 100rel` when we send an offer (we PRACK reliable
 * 18x ourselves; an offerless 3PCC INVITE would get the offer in a reliable 18x, which srf cannot answer), and
 * `Supported: timer` + `Session-Expires` + `Min-SE` when session timers are on (no refresher: §7.1 leaves it to the UAS).
 */
export function uacOptionHeaders(st: SessionTimersConfig, withOffer: boolean): Record<string, string> {
  const supported = [...(withOffer ? ['100rel'] : []), ...(st.enabled ? ['timer'] : [])];
  const out: Record<string, string> = {};
  if (supported.length > 0) out['Supported'] = supported.join(', ');
  if (st.enabled) {
    out['Session-Expires'] = String(st.interval_s);
    out['Min-SE'] = String(st.min_se_s);
  }
  return out;
}

/**
 * RFC 4028 §8.1: "If the Session-Expires interval is lower than the minimum interval, the UAS MUST reject the
 * request with a 422 response ... containing a Min-SE header field". Returns the 422's headers, or undefined.
 */
export function intervalTooSmall(req: SrfRequest, st: SessionTimersConfig): Record<string, string> | undefined {
  if (!st.enabled) return undefined;
  const se = sessionExpires(req);
  return se && se.deltaS < st.min_se_s ? { 'Min-SE': String(st.min_se_s) } : undefined;
}

/**
 * The Session-Expires of our 2xx to the caller (RFC 4028 §9). The caller's interval (at most ours, at least its
 * Min-SE) or ours; the refresher it names, else the caller when it supports timers (a caller that stops refreshing
 * is then noticed), else us (`uas`: our refreshes failing are what notice a caller that vanished).
 */
export function callerAnswerHeaders(req: SrfRequest, st: SessionTimersConfig): Record<string, string> {
  if (!st.enabled) return {};
  const se = sessionExpires(req);
  const supportsTimer = hasTag(req.get('Supported'), 'timer') || hasTag(req.get('Require'), 'timer');
  const minSe = Math.max(parseMinSe(req.get('Min-SE')) ?? 0, st.min_se_s);
  const interval = Math.max(Math.min(se?.deltaS ?? st.interval_s, st.interval_s), minSe);
  // §9: "If the request did not contain a Supported: timer, the refresher MUST be the UAS."
  const refresher = supportsTimer ? (se?.refresher ?? 'uac') : 'uas';
  return { 'Session-Expires': `${interval};refresher=${refresher}`, ...(supportsTimer ? { Require: 'timer' } : {}) };
}

/**
 * `srf.createUAC` with RFC 4028 §7.4's retry: "If a 422 response is received, the UAC MAY retry the request with a
 * Session-Expires ... equal to the Min-SE from the 422". Once; `callbacks` see the retried request too.
 */
export async function createUacTimed(srf: SrfLike, uri: string, opts: SrfUacOptions, callbacks: SrfUacCallbacks): Promise<SrfDialog> {
  try {
    return await srf.createUAC(uri, opts, callbacks);
  } catch (err) {
    const minSe = isSipError(err) && err.status === Status.SessionIntervalTooSmall ? Number((err as { res?: { get(h: string): string | undefined } }).res?.get('Min-SE')) : NaN;
    if (!Number.isInteger(minSe) || minSe <= 0 || !opts.headers?.['Session-Expires']) throw err;
    const headers = { ...opts.headers, 'Session-Expires': String(minSe), 'Min-SE': String(minSe) };
    return srf.createUAC(uri, { ...opts, headers }, callbacks);
  }
}
