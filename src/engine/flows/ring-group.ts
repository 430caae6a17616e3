/**
 * The `ring_group` node (SPEC.md §1–§2, issue #4). `ringall` forks to every member's registered devices at
 * once for `timeout_s`; `hunt` rings members one at a time in configured order, each for `member_timeout_s`
 * (cut short by what is left of `timeout_s`), skipping members with no registered device or already on a call.
 * Outcomes: `answered`; `timeout` when the group's time ran out; otherwise the last ring's outcome (`busy`,
 * `rejected`, `no-answer`; `no-answer` also when no member could be rung). Members' `user_inbound*` events
 * carry `ring_group_name`; one `ring_group_call` event and GroupCallRecord per visit ({@link GroupCallLog}).
 */
import type { RingGroupConfig, RingGroupNode, UserConfig } from '../../config/index.js';
import type { Call } from '../call/call.js';
import { GroupCallLog } from '../queue/group-record.js';
import { dialUsers } from './dial-users.js';
import { targetsOf } from './ring-users.js';
import type { HandlerOutcome, NodeHandler } from './node-handler.js';

/** Builds the ring-group handler; `callerFrom` gives the From shown to members' devices. */
export function createRingGroupHandler(callerFrom: (call: Call) => string): NodeHandler<RingGroupNode> {
  return {
    type: 'ring_group',
    async run(call: Call, node: RingGroupNode, signal: AbortSignal): Promise<HandlerOutcome> {
      const group = call.config.config.ring_groups.find((g) => g.name === node.ring_group);
      if (!group) {
        call.log.warn({ node: node.id, ring_group: node.ring_group }, 'ring_group node names an unknown ring group');
        return 'failed';
      }
      const members = group.members
        .map((m) => call.config.config.users.find((u) => u.number === m))
        .filter((u): u is UserConfig => !!u);
      const log = new GroupCallLog(call, 'ring_group', group.name);
      const outcome = group.strategy === 'hunt'
        ? await hunt(call, group, members, callerFrom(call), signal)
        : await dialUsers(call, members, callerFrom(call), { ringTimeoutMs: group.timeout_s * 1000, context: context(group) }, signal);
      if (outcome === 'answered') {
        const winner = members.find((u) => u.number === call.recorder.record().user_number);
        if (winner) log.answered(winner);
      } else if (!signal.aborted) {
        log.close();
      }
      call.log.info({ ring_group: group.name, strategy: group.strategy, outcome }, 'ring group done');
      // ringall rings for the whole timeout_s: an unanswered ring is the group's timeout (unless nobody could be rung).
      if (outcome === 'no-answer' && group.strategy === 'ringall' && targetsOf(call.ctx.location, members).length > 0) return 'timeout';
      return outcome;
    },
  };
}

function context(group: RingGroupConfig): { queue_name: null; ring_group_name: string } {
  return { queue_name: null, ring_group_name: group.name };
}

/** Rings members one at a time until one answers, the group times out, or the caller leaves. */
async function hunt(call: Call, group: RingGroupConfig, members: readonly UserConfig[], from: string, signal: AbortSignal): Promise<HandlerOutcome> {
  const clock = call.ctx.clock;
  const deadline = clock.now() + group.timeout_s * 1000;
  let last: HandlerOutcome = 'no-answer';
  for (const m of members) {
    if (signal.aborted || call.isEnding) return 'failed';
    const left = deadline - clock.now();
    if (left <= 0) return 'timeout';
    if (targetsOf(call.ctx.location, [m]).length === 0 || call.ctx.presence.isOnCall(m.number)) {
      call.log.debug({ ring_group: group.name, member: m.number }, 'hunt skips a member (unregistered or on a call)');
      continue;
    }
    last = await dialUsers(call, [m], from, { ringTimeoutMs: Math.min(group.member_timeout_s * 1000, left), context: context(group) }, signal);
    if (last === 'answered') return last;
  }
  return deadline - clock.now() <= 0 ? 'timeout' : last;
}
