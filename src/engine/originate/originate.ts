/**
 * Click-to-call (SPEC.md §2): ring all the user's devices showing the destination as caller id; when one
 * answers, dial the destination through the trunk and bridge by 3PCC (RFC 3725 flow I): the devices get an
 * offerless INVITE, the winner's offer (in its 200) goes to the trunk, and the trunk's answer goes back in the
 * ACK. If no device answers in time nothing is dialled. For events and history this is a user outbound call.
 */
import type { ConfigControl } from '../../config/index.js';
import type { OriginateRequest, OriginateResult } from '../facade.js';
import { OriginateError } from '../facade.js';
import type { Call } from '../call/call.js';
import type { CallTable } from '../call/call-factory.js';
import { DialogCallerSide } from '../call/caller-side.js';
import type { TrunkConfig, UserConfig } from '../../config/index.js';
import type { EngineContext } from '../engine-context.js';
import { callerFromHeader } from '../flows/dial-users.js';
import { targetsOf } from '../flows/ring-users.js';
import { Fork } from '../fork.js';
import { dialTrunk } from '../outbound/trunk-dial.js';
import { trunkFor } from '../outbound/trunk-select.js';
import { Status } from '../../sip/syntax.js';
import { uacOptionHeaders } from '../call/session-timer.js';

/**
 * The device's 200 waits unacknowledged while the trunk rings; RFC 3261 §13.3.1.4 has the device give up after
 * 64*T1 (32 s), so the trunk gets less than that.
 */
export const ORIGINATE_TRUNK_RING_MS = 28_000;

/** What originate needs. */
export interface OriginateDeps {
  ctx: EngineContext;
  config: ConfigControl;
  calls: CallTable;
}

/** Starts a click-to-call; resolves once the user's devices are ringing (or the ring ended first). */
export async function originate(deps: OriginateDeps, req: OriginateRequest): Promise<OriginateResult> {
  const version = deps.config.live();
  const user = version.config.users.find((u) => u.number === req.user_number);
  if (!user) throw new OriginateError('user_not_found', `no user with number ${req.user_number}`);
  const trunk = trunkFor(version.config, req.number_to_call);
  if (!trunk) throw new OriginateError('no_trunk', 'no trunk is configured');
  const targets = targetsOf(deps.ctx.location, [user]);
  if (targets.length === 0) throw new OriginateError('no_registered_device', `user ${user.number} has no registered device`);
  const callerId = req.caller_id ?? user.caller_id ?? trunk.caller_id ?? null;
  const call = deps.calls.create(version, { direction: 'outbound', callerId, callerName: user.name, destNumber: req.number_to_call });
  call.log.info({ user: user.number, to: req.number_to_call }, 'click-to-call started');
  call.recorder.outboundStarted(user);
  call.holdPresence(user);
  const result: OriginateResult = { unique_call_id: call.uniqueCallId, user_name: user.name, user_number: user.number, caller_id: callerId, dest_number: req.number_to_call };
  await new Promise<void>((ringing) => {
    void run(deps, call, user, trunk, req.number_to_call, callerId, ringing).catch(async (err: unknown) => {
      call.log.error({ err }, 'click-to-call failed');
      ringing();
      await call.end('failed', { status: Status.ServerInternalError });
    });
  });
  return result;
}

async function run(deps: OriginateDeps, call: Call, user: UserConfig, trunk: TrunkConfig, number: string, callerId: string | null, ringing: () => void): Promise<void> {
  const fork = new Fork({
    srf: deps.ctx.srf, clock: deps.ctx.clock, log: call.log, targets: targetsOf(deps.ctx.location, [user]),
    ringTimeoutMs: user.ring_timeout_s * 1000,
    headers: { From: callerFromHeader(call, number, null), ...uacOptionHeaders(call.config.config.pbx.session_timers, false) },
    createLeg: (t) => call.newLeg({ kind: 'device', userNumber: t.userNumber, device: t.device, remote: t.contact }),
    onRinging: () => {
      if (call.state === 'routing') call.transition('ringing');
      ringing();
    },
  });
  const outcome = await fork.run(call.signal);
  fork.dispose();
  ringing();
  if (outcome.kind === 'answered') {
    // The device answered without an offer in its 200: srf already ACKed; we have nothing to send the trunk.
    call.log.warn('device answered the offerless INVITE without SDP; click-to-call needs its offer');
    void outcome.dialog.destroy().catch(() => undefined);
    return void call.end('failed', { status: Status.ServerInternalError });
  }
  if (outcome.kind !== 'answered-3pcc') {
    call.log.info({ outcome: outcome.kind }, 'click-to-call: no device answered; nothing dialled');
    return void call.end(outcome.kind === 'cancelled' ? 'cancelled' : 'no-answer');
  }
  const dial = await dialTrunk(call, {
    trunk, number, callerId, callerName: user.name, localSdp: outcome.offer.sdp, ringTimeoutMs: ORIGINATE_TRUNK_RING_MS,
  }, call.signal);
  if (dial.kind !== 'answered') {
    void outcome.offer.destroy?.().catch(() => undefined);
    outcome.leg.end(deps.ctx.clock.now(), 'pbx');
    return void call.end('trunk-failed');
  }
  const device = await outcome.offer.ack(dial.dialog.remote.sdp);
  call.attachCaller(new DialogCallerSide(outcome.leg, device));
  call.recorder.outboundAnswered(user);
  await call.connect(dial.dialog, dial.leg, null);
}
