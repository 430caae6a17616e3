/**
 * Dials an external number through a trunk (SPEC.md §2 "Outbound from a user"): one srf UAC to the trunk with
 * the presented caller id in From and P-Asserted-Identity, digest credentials when the trunk has them, and a
 * CANCEL when the signal aborts.
 */
import type { TrunkConfig } from '../../config/index.js';
import type { Call } from '../call/call.js';
import type { Leg } from '../call/leg.js';
import { Status } from '../sip-status.js';
import { isSipError, type SrfDialog, type SrfRequest } from '../srf-types.js';

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
  const idUser = (d.callerId ?? 'anonymous').replace(/[^0-9A-Za-z+*#._-]/g, '');
  const display = d.callerName ? `"${d.callerName.replace(/["\\\r\n]/g, '')}" ` : '';
  const identity = `<sip:${idUser}@${call.ctx.domain()}>`;
  const headers: Record<string, string> = { From: `${display}${identity}`, 'P-Asserted-Identity': `${display}${identity}` };
  let req: SrfRequest | null = null;
  let cancelled = false;
  let timer: unknown = null;
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
    call.ctx.srf
      .createUAC(trunkUri(d.trunk, d.number), {
        headers,
        ...(d.localSdp !== undefined ? { localSdp: d.localSdp } : {}),
        ...(d.trunk.username && d.trunk.password ? { auth: { username: d.trunk.username, password: d.trunk.password } } : {}),
      }, {
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
        const status = isSipError(err) ? err.status : Status.ServerInternalError;
        if (!isSipError(err)) call.log.warn({ err }, 'trunk dial failed');
        leg.end(clock.now(), cancelled ? 'pbx' : 'callee', status);
        done(cancelled || signal.aborted ? (signal.aborted ? { kind: 'cancelled' } : { kind: 'failed', status: Status.RequestTimeout }) : { kind: 'failed', status });
      });
  });
}
