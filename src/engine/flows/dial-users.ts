/**
 * Rings several users at once and bridges the first device that answers: the building block of the user node,
 * and of queue and ring-group handlers (they pass their context so events carry queue_name / ring_group_name).
 */
import type { UserConfig } from '../../config/index.js';
import type { Call } from '../call/call.js';
import { Fork, type ForkTarget } from '../fork.js';
import type { LocationService } from '../location/location-service.js';
import type { GroupContext } from '../records/call-recorder.js';
import type { HandlerOutcome } from './node-handler.js';
import { uacOptionHeaders } from '../call/session-timer.js';
import { identityNameAddr } from '../../sip/syntax.js';

/** Options of {@link dialUsers}. */
export interface DialUsersOptions {
  ringTimeoutMs: number;
  context?: GroupContext;
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

/** From for INVITEs to devices: the caller's number and name at the PBX domain. */
export function callerFromHeader(call: Call, number: string | null, name: string | null): string {
  return identityNameAddr(number, name, call.ctx.domain());
}

/**
 * Forks to all registered devices of `users`. `no-answer` when none is registered or nobody answers in time,
 * `busy` when all are busy, `answered` once the caller is bridged to the winner.
 */
export async function dialUsers(call: Call, users: readonly UserConfig[], from: string, opts: DialUsersOptions, signal: AbortSignal): Promise<HandlerOutcome> {
  const targets = targetsOf(call.ctx.location, users);
  if (targets.length === 0) {
    call.log.info({ users: users.map((u) => u.number) }, 'no registered device');
    return 'no-answer';
  }
  const context = opts.context ?? { queue_name: null, ring_group_name: null };
  const rung = users.filter((u) => targets.some((t) => t.userNumber === u.number));
  for (const u of rung) call.recorder.userRinging(u, context);
  call.ringing();
  // Every target a WebSocket device: the offer they get is WebRTC (a mixed fork gets the caller's kind of SDP).
  const browserCallees = targets.every((t) => /;transport=wss?$/i.test(t.proxy));
  const offer = await call.calleeOffer(rung, { browserCallees });
  const fork = new Fork({
    srf: call.ctx.srf, clock: call.ctx.clock, log: call.log, targets, ringTimeoutMs: opts.ringTimeoutMs,
    ...(offer !== undefined ? { localSdp: offer } : {}),
    headers: { From: from, ...uacOptionHeaders(call.config.config.pbx.session_timers, offer !== undefined) },
    onEarlyMedia: (_t, sdp) => call.earlyMedia(sdp),
    createLeg: (t) => call.newLeg({ kind: 'device', userNumber: t.userNumber, device: t.device, remote: t.contact }),
  });
  const outcome = await fork.run(signal);
  fork.dispose();
  if (outcome.kind === 'answered') {
    const winner = rung.find((u) => u.number === outcome.target.userNumber)!;
    for (const u of rung) if (u !== winner) call.recorder.userMissed(u);
    call.recorder.userAnswered(winner);
    const ok = await call.connect(outcome.dialog, outcome.leg, winner);
    return ok ? 'answered' : 'failed';
  }
  if (outcome.kind === 'answered-3pcc') {
    // Only an offerless caller gets here; we never fork offerless on behalf of a UAS caller.
    void outcome.offer.destroy?.();
    for (const u of rung) call.recorder.userMissed(u);
    return 'failed';
  }
  for (const u of rung) call.recorder.userMissed(u);
  call.log.info({ outcome: outcome.kind }, 'fork ended without answer');
  switch (outcome.kind) {
    case 'busy': return 'busy';
    case 'rejected': return 'rejected';
    case 'no-answer': return 'no-answer';
    default: return 'failed';
  }
}
