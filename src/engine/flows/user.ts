/** The `user` node: ring every registered device of one user (SPEC.md §2 "Inbound to a user"). */
import type { UserNode } from '../../config/index.js';
import type { Call } from '../call/call.js';
import { dialUsers } from './dial-users.js';
import { forwardTarget, forwardTo, recordNotRung } from './forward.js';
import type { HandlerOutcome, NodeHandler } from './node-handler.js';


/** Builds the user-node handler; `callerOf` gives the identity shown to the devices. */
export function createUserHandler(callerFrom: (call: Call) => string): NodeHandler<UserNode> {
  return {
    type: 'user',
    async run(call: Call, node: UserNode, signal: AbortSignal): Promise<HandlerOutcome> {
      const user = call.config.config.users.find((u) => u.number === node.user);
      if (!user) {
        call.log.warn({ node: node.id, user: node.user }, 'user node names an unknown user');
        return 'failed';
      }
      const ringTimeoutS = node.ring_timeout_s ?? user.ring_timeout_s;
      const from = callerFrom(call);
      const always = forwardTarget(user, 'always');
      if (always || user.dnd) {
        recordNotRung(call, user);
        const target = always ?? forwardTarget(user, 'busy');
        return target ? forwardTo(call, user, target, from, signal) : 'busy';
      }
      const outcome = await dialUsers(call, [user], from, { ringTimeoutMs: ringTimeoutS * 1000 }, signal);
      const reason = outcome === 'busy' ? 'busy' : outcome === 'no-answer' ? 'no_answer' : null;
      const target = reason && !call.isEnding ? forwardTarget(user, reason) : null;
      return target ? forwardTo(call, user, target, from, signal) : outcome;
    },
  };
}
