/**
 * Dials an external number through a trunk (SPEC.md §2 "Outbound from a user"): one srf UAC to the trunk with
 * the presented caller id in From and P-Asserted-Identity, digest credentials when the trunk has them, and a
 * CANCEL when the signal aborts.
 *
 * Challenges are answered here, not by srf's `auth` option: srf's digest client hashes MD5 only and reads joined
 * challenges as one. A carrier may challenge with SHA-256, MD5 or both (RFC 8760); we answer the strongest we
 * know, on the same Call-ID and From tag with the CSeq one higher (RFC 3261 §22.2, §8.1.3.5).
 */
import type { TrunkConfig } from '../../config/index.js';
import type { Call } from '../call/call.js';
import type { Leg } from '../call/leg.js';
import { computeAuthorization, splitChallenges } from '../../sip/digest.js';
import { identityNameAddr, Status } from '../../sip/syntax.js';
import { isSipError, type SrfDialog, type SrfRequest, type SrfResponseMsg } from '../srf-types.js';
import { createUacTimed, uacOptionHeaders } from '../call/session-timer.js';

/** Challenges answered per dial (a 401 then a 407 from a proxy chain is the most a carrier needs). */
const MAX_AUTH_ROUNDS = 2;
/** Algorithms we can answer, strongest first. */
const ANSWERABLE = ['SHA-256', 'MD5'] as const;

/**
 * The Authorization header answering the 401/407 `res` for `method uri`, or undefined when it has no challenge we
 * can answer. Several challenges (several header lines, joined by srf): the strongest algorithm wins.
 */
export function answerChallenge(res: SrfResponseMsg, creds: { username: string; password: string }, method: string, uri: string): { name: string; value: string } | undefined {
  const proxy = res.status === Status.ProxyAuthenticationRequired;
  const raw = res.get(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate');
  if (!raw) return undefined;
  const digests = splitChallenges(raw).filter((c) => /^\s*digest\s/i.test(c));
  const algOf = (c: string): string => (/[\s,]algorithm\s*=\s*"?([A-Za-z0-9-]+)/i.exec(c)?.[1] ?? 'MD5').toUpperCase();
  for (const alg of ANSWERABLE) {
    const challenge = digests.find((c) => algOf(c) === alg);
    if (challenge) return { name: proxy ? 'Proxy-Authorization' : 'Authorization', value: computeAuthorization(challenge, { ...creds, method, uri }) };
  }
  return undefined;
}

/** The result of a trunk dial. */
export type TrunkDialOutcome =
  | { kind: 'answered'; dialog: SrfDialog; leg: Leg }
  | { kind: 'failed'; status: number }
  | { kind: 'cancelled' };

/** What to dial. */
export interface TrunkDialRequest {
  trunk: TrunkConfig;
  /** The dialled number as the user dialled it (E.164 with '+' or national digits). */
  number: string;
  /** Presented caller id (E.164). */
  callerId: string | null;
  callerName: string | null;
  /** The offer to send (the caller's SDP). */
  localSdp: string | undefined;
  /** Give up (CANCEL) after this long; default none (the caller decides). */
  ringTimeoutMs?: number;
  /** Called on the trunk's first 18x. */
  onRinging?: () => void;
  /** Called on the trunk's first 18x with SDP (carrier ringback, announcements). */
  onEarlyMedia?: (sdp: string) => void;
}

/** The Request-URI for a number at a trunk. */
export function trunkUri(trunk: TrunkConfig, number: string): string {
  const user = number.replace(/[^0-9+*#]/g, '');
  return `sip:${user}@${trunk.host}:${trunk.port};transport=${trunk.transport}`;
}

/** Dials; resolves when the trunk answers, fails, or the dial is cancelled. */
export function dialTrunk(call: Call, d: TrunkDialRequest, signal: AbortSignal): Promise<TrunkDialOutcome> {
  // An abort listener added to an aborted signal never fires: a call that already ended dials nothing.
  if (signal.aborted) return Promise.resolve({ kind: 'cancelled' });
  const { clock } = call.ctx;
  const leg = call.newLeg({ kind: 'trunk', remote: `${d.trunk.host}:${d.trunk.port}` });
  const identity = identityNameAddr(d.callerId, d.callerName, call.ctx.domain());
  const headers: Record<string, string> = { From: identity, 'P-Asserted-Identity': identity };
  let req: SrfRequest | null = null;
  let cancelled = false;
  let timer: unknown = null;
  let early = false;
  const cancel = () => {
    if (cancelled) return;
    cancelled = true;
    try {
      req?.cancel();
    } catch (err) {
      call.log.debug({ err }, 'CANCEL to trunk not sent');
    }
  };
  return new Promise<TrunkDialOutcome>((resolve) => {
    const onAbort = () => cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    if (d.ringTimeoutMs !== undefined) timer = clock.setTimeout(cancel, d.ringTimeoutMs);
    const done = (o: TrunkDialOutcome) => {
      signal.removeEventListener('abort', onAbort);
      if (timer !== null) clock.clearTimeout(timer);
      resolve(o);
    };
    const uri = trunkUri(d.trunk, d.number);
    const creds = d.trunk.username && d.trunk.password ? { username: d.trunk.username, password: d.trunk.password } : null;
    const attempt = (round: number, extra: Record<string, string>): void => {
      createUacTimed(call.ctx.srf, uri, { headers: { ...headers, ...uacOptionHeaders(call.config.config.pbx.session_timers, d.localSdp !== undefined), ...extra }, ...(d.localSdp !== undefined ? { localSdp: d.localSdp } : {}) }, {
          cbRequest: (err, r) => {
            if (err || !r) return;
            req = r;
            if (cancelled) {
              cancelled = false;
              cancel();
            }
          },
          cbProvisional: (res) => {
            if (res.status >= Status.Ringing) d.onRinging?.();
            if (res.status > Status.Trying && res.body && !early && !signal.aborted) {
              early = true;
              d.onEarlyMedia?.(res.body);
            }
          },
        })
        .then((dialog) => {
          const now = clock.now();
          leg.answered(now);
          if (signal.aborted) {
            // RFC 3261 §15: our CANCEL lost the race with the 2xx: hang up the dialog.
            leg.end(now, 'pbx');
            void dialog.destroy().catch(() => undefined);
            return done({ kind: 'cancelled' });
          }
          done({ kind: 'answered', dialog, leg });
        })
        .catch((err: unknown) => {
          const retry = !cancelled && !signal.aborted && creds && round < MAX_AUTH_ROUNDS ? authRetry(err, req, creds, uri) : undefined;
          if (retry) return attempt(round + 1, { ...extra, ...retry });
          const status = isSipError(err) ? err.status : Status.ServerInternalError;
          if (!isSipError(err)) call.log.warn({ err }, 'trunk dial failed');
          leg.end(clock.now(), cancelled ? 'pbx' : 'callee', status);
          done(cancelled || signal.aborted ? (signal.aborted ? { kind: 'cancelled' } : { kind: 'failed', status: Status.RequestTimeout }) : { kind: 'failed', status });
        });
    };
    attempt(0, {});
  });
}

/**
 * The headers of the retry after a 401/407 `err` to the INVITE `sent`: credentials, and the same Call-ID and From
 * (with its tag) with CSeq + 1, so the carrier sees one call being authenticated. Undefined = no retry.
 */
function authRetry(err: unknown, sent: SrfRequest | null, creds: { username: string; password: string }, uri: string): Record<string, string> | undefined {
  if (!isSipError(err) || (err.status !== Status.Unauthorized && err.status !== Status.ProxyAuthenticationRequired)) return undefined;
  const res = (err as { res?: SrfResponseMsg }).res;
  if (!res || !sent) return undefined;
  const auth = answerChallenge(res, creds, 'INVITE', uri);
  const seq = parseInt(sent.get('CSeq') ?? '', 10);
  const callId = sent.get('Call-ID');
  const from = sent.get('From');
  if (!auth || !Number.isSafeInteger(seq) || !callId || !from) return undefined;
  return { [auth.name]: auth.value, 'Call-ID': callId, From: from, CSeq: `${seq + 1} INVITE` };
}
