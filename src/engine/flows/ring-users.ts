/**
 * Rings users (every registered device of each, one {@link Fork}) and reports who answered, without bridging: what
 * the user, ring-group and forward nodes ({@link dialUsers}) and the queue (its agents, bridged only once the caller
 * is known to be still waiting) do alike. Events: `user_inbound` per rung user (with the group context), and
 * `user_inbound_completed` for those who missed; the winner's answer is the caller's to record.
 */
import type { UserConfig } from '../../config/index.js';
import type { Call } from '../call/call.js';
import type { Leg } from '../call/leg.js';
import { Fork, type ForkOutcome, type ForkTarget } from '../fork.js';
import type { LocationService } from '../location/location-service.js';
import type { GroupContext } from '../records/call-recorder.js';
import type { SrfDialog } from '../srf-types.js';

/** Who answered, or why nobody did (`no-device`, `cancelled`, or how the fork ended). */
export type RingUsersResult =
  | { kind: 'answered'; user: UserConfig; dialog: SrfDialog; leg: Leg }
  | { kind: 'none'; reason: 'no-device' | Exclude<ForkOutcome['kind'], 'answered'> };

/** Options of {@link ringUsers}. */
export interface RingUsersOptions {
  ringTimeoutMs: number;
  context: GroupContext;
  /** The INVITEs' headers (From, …), given whether they carry an offer. */
  headers(withOffer: boolean): Record<string, string>;
  /** A callee's early media goes to the caller (not to a queue caller, who hears the hold music). */
  earlyMedia?: boolean;
  /** When every rung device is on a WebSocket, the offer is made for browsers (WebRTC, docs/webrtc.md). */
  browserOffer?: boolean;
  /** Called once the INVITEs are out. */
  onRinging?(): void;
}

/** Every registered contact of every device of the users. */
export function targetsOf(location: LocationService, users: readonly UserConfig[]): ForkTarget[] {
  const out: ForkTarget[] = [];
  for (const u of users) {
    for (const d of u.devices) {
      for (const t of location.targets(d.username)) out.push({ userNumber: u.number, device: d.username, contact: t.contact, proxy: t.proxy });
    }
  }
  return out;
}

/** Forks to every registered device of `users`; resolves when one answers, all fail, the timer fires or `signal` aborts. */
export async function ringUsers(call: Call, users: readonly UserConfig[], opts: RingUsersOptions, signal: AbortSignal): Promise<RingUsersResult> {
  const targets = targetsOf(call.ctx.location, users);
  if (targets.length === 0) return { kind: 'none', reason: 'no-device' };
  if (signal.aborted) return { kind: 'none', reason: 'cancelled' };
  const rung = users.filter((u) => targets.some((t) => t.userNumber === u.number));
  for (const u of rung) call.recorder.userRinging(u, opts.context);
  call.ringing();
  // Every target a WebSocket device: the offer they get is WebRTC (a mixed fork gets the caller's kind of SDP).
  const browserCallees = opts.browserOffer === true && targets.every((t) => /;transport=wss?$/i.test(t.proxy));
  const offer = await call.calleeOffer(rung, opts.browserOffer ? { browserCallees } : {});
  if (signal.aborted) {
    for (const u of rung) call.recorder.userMissed(u);
    return { kind: 'none', reason: 'cancelled' };
  }
  const fork = new Fork({
    srf: call.ctx.srf, clock: call.ctx.clock, log: call.log, targets, ringTimeoutMs: opts.ringTimeoutMs,
    ...(offer !== undefined ? { localSdp: offer } : {}),
    headers: opts.headers(offer !== undefined),
    ...(opts.earlyMedia ? { onEarlyMedia: (_t: ForkTarget, sdp: string) => call.earlyMedia(sdp) } : {}),
    createLeg: (t) => call.newLeg({ kind: 'device', userNumber: t.userNumber, device: t.device, remote: t.contact }),
  });
  const running = fork.run(signal);
  opts.onRinging?.();
  const outcome = await running;
  fork.dispose();
  if (outcome.kind === 'answered') {
    const winner = rung.find((u) => u.number === outcome.target.userNumber)!;
    for (const u of rung) if (u !== winner) call.recorder.userMissed(u);
    return { kind: 'answered', user: winner, dialog: outcome.dialog, leg: outcome.leg };
  }
  // Only an offerless caller gets here; we never fork offerless on behalf of a UAS caller.
  if (outcome.kind === 'answered-3pcc') void outcome.offer.destroy?.().catch(() => undefined);
  for (const u of rung) call.recorder.userMissed(u);
  return { kind: 'none', reason: outcome.kind };
}
