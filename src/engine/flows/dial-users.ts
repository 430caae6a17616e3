/**
 * Rings several users at once and bridges the first device that answers: the building block of the user node,
 * and of ring-group and forward handlers (they pass their context so events carry ring_group_name).
 */
import type { UserConfig } from '../../config/index.js';
import type { Call } from '../call/call.js';
import type { GroupContext } from '../records/call-recorder.js';
import type { HandlerOutcome } from './node-handler.js';
import { uacOptionHeaders } from '../call/session-timer.js';
import { identityNameAddr } from '../../sip/syntax.js';
import { ringUsers } from './ring-users.js';

/** Options of {@link dialUsers}. */
export interface DialUsersOptions {
  ringTimeoutMs: number;
  context?: GroupContext;
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
  const result = await ringUsers(call, users, {
    ringTimeoutMs: opts.ringTimeoutMs, context: opts.context ?? { queue_name: null, ring_group_name: null }, earlyMedia: true, browserOffer: true,
    headers: (withOffer) => ({ From: from, ...uacOptionHeaders(call.config.config.pbx.session_timers, withOffer) }),
  }, signal);
  if (result.kind === 'answered') {
    call.recorder.userAnswered(result.user);
    const ok = await call.connect(result.dialog, result.leg, result.user);
    return ok ? 'answered' : 'failed';
  }
  if (result.reason === 'no-device') {
    call.log.info({ users: users.map((u) => u.number) }, 'no registered device');
    return 'no-answer';
  }
  if (result.reason !== 'answered-3pcc') call.log.info({ outcome: result.reason }, 'fork ended without answer');
  switch (result.reason) {
    case 'busy': return 'busy';
    case 'rejected': return 'rejected';
    case 'no-answer': return 'no-answer';
    default: return 'failed';
  }
}
