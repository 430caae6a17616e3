/**
 * Per-user call forwarding and do-not-disturb (`users[].forward`, `users[].dnd`), honoured by the user node:
 *
 * - `dnd`: the devices are not rung; the call is treated as busy (so `forward.busy` applies, else outcome `busy`).
 * - `forward.always`: the devices are not rung; the call goes to the target at once.
 * - `forward.busy`: every device answered busy (486/600), or dnd.
 * - `forward.no_answer`: nobody answered in the ring time, or no device is registered.
 *
 * A target is an extension (that user's devices ring for their ring_timeout_s; one hop: its own forwarding is not
 * followed, its dnd makes the outcome `busy`) or any other number, dialled through the first trunk with the
 * caller's number as caller id. Events: the forwarding user gets `user_inbound` and `user_inbound_completed` (a
 * missed call) — immediately for always/dnd, after the ringing for busy/no answer; an extension target then gets
 * its own `user_inbound`, `_answered`, `_completed` in the same call (same unique_call_id).
 */
import type { UserConfig } from '../../config/index.js';
import type { Call } from '../call/call.js';
import { dialTrunk } from '../outbound/trunk-dial.js';
import type { HandlerOutcome } from './node-handler.js';
import { dialUsers } from './dial-users.js';
import { trunkFor } from '../outbound/trunk-select.js';

/** Why a call is forwarded. */
export type ForwardReason = 'always' | 'busy' | 'no_answer';

/** The target of `user`'s forwarding for `reason`, or null. */
export function forwardTarget(user: UserConfig, reason: ForwardReason): string | null {
  const t = user.forward[reason];
  return t && t !== user.number ? t : null;
}

/** Records `user` as rung and missed at once (a call dnd or forward-always kept from the devices). */
export function recordNotRung(call: Call, user: UserConfig): void {
  call.recorder.userRinging(user, { queue_name: null, ring_group_name: null });
  call.recorder.userMissed(user);
}

/** Sends the call to `target` (an extension or an external number); the outcome is the target's. */
export async function forwardTo(call: Call, user: UserConfig, target: string, from: string, signal: AbortSignal): Promise<HandlerOutcome> {
  if (call.isEnding) return 'failed';
  const config = call.config.config;
  call.log.info({ user: user.number, target }, 'call forwarded');
  const ext = config.users.find((u) => u.number === target);
  if (ext) {
    if (ext.dnd) return 'busy';
    return dialUsers(call, [ext], from, { ringTimeoutMs: ext.ring_timeout_s * 1000 }, signal);
  }
  const trunk = trunkFor(config, target);
  if (!trunk) {
    call.log.warn({ user: user.number, target }, 'forward to an external number but no trunk is configured');
    return 'failed';
  }
  const localSdp = await call.calleeOffer([]);
  const o = await dialTrunk(call, {
    trunk, number: target, callerId: call.recorder.callerId, callerName: call.recorder.callerName, localSdp,
    ringTimeoutMs: user.ring_timeout_s * 1000, onRinging: () => call.ringing(), onEarlyMedia: (sdp) => call.earlyMedia(sdp),
  }, signal);
  if (o.kind === 'answered') return (await call.connect(o.dialog, o.leg, null)) ? 'answered' : 'failed';
  if (o.kind === 'failed' && (o.status === 486 || o.status === 600)) return 'busy';
  return o.kind === 'failed' && o.status === 408 ? 'no-answer' : 'failed';
}
