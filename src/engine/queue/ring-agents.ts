/**
 * Rings a queue caller's offered agents (every registered device of each, one Fork) and reports who answered
 * without bridging yet: the queue must first check the caller is still waiting, then move the agent on-call.
 * Events: `user_inbound` per rung agent with `queue_name`, and `user_inbound_completed` for those who missed.
 */
import type { UserConfig } from '../../config/index.js';
import type { Call } from '../call/call.js';
import type { Leg } from '../call/leg.js';
import { targetsOf } from '../flows/dial-users.js';
import { Fork } from '../fork.js';
import type { GroupContext } from '../records/call-recorder.js';
import type { SrfDialog } from '../srf-types.js';

/** Who answered, or why nobody did. */
export type RingAgentsResult =
  | { kind: 'answered'; user: UserConfig; dialog: SrfDialog; leg: Leg }
  | { kind: 'none'; reason: string };

/** Options of {@link ringAgents}. */
export interface RingAgentsOptions {
  from: string;
  ringTimeoutMs: number;
  context: GroupContext;
  /** Called once the INVITEs are out. */
  onRinging(): void;
}

/** Forks to every registered device of `users`; resolves when one answers, all fail, the timer fires or `signal` aborts. */
export async function ringAgents(call: Call, users: readonly UserConfig[], opts: RingAgentsOptions, signal: AbortSignal): Promise<RingAgentsResult> {
  const targets = targetsOf(call.ctx.location, users);
  if (targets.length === 0) return { kind: 'none', reason: 'no-device' };
  if (signal.aborted) return { kind: 'none', reason: 'cancelled' };
  const rung = users.filter((u) => targets.some((t) => t.userNumber === u.number));
  for (const u of rung) call.recorder.userRinging(u, opts.context);
  call.ringing();
  const offer = await call.calleeOffer(rung);
  if (signal.aborted) {
    for (const u of rung) call.recorder.userMissed(u);
    return { kind: 'none', reason: 'cancelled' };
  }
  const fork = new Fork({
    srf: call.ctx.srf, clock: call.ctx.clock, log: call.log, targets, ringTimeoutMs: opts.ringTimeoutMs,
    ...(offer !== undefined ? { localSdp: offer } : {}),
    headers: { From: opts.from },
    createLeg: (t) => call.newLeg({ kind: 'device', userNumber: t.userNumber, device: t.device, remote: t.contact }),
  });
  const running = fork.run(signal);
  opts.onRinging();
  const outcome = await running;
  fork.dispose();
  if (outcome.kind === 'answered') {
    const winner = rung.find((u) => u.number === outcome.target.userNumber)!;
    for (const u of rung) if (u !== winner) call.recorder.userMissed(u);
    return { kind: 'answered', user: winner, dialog: outcome.dialog, leg: outcome.leg };
  }
  if (outcome.kind === 'answered-3pcc') void outcome.offer.destroy?.().catch(() => undefined);
  for (const u of rung) call.recorder.userMissed(u);
  return { kind: 'none', reason: outcome.kind };
}
