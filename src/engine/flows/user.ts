/** The `user` node: ring every registered device of one user (SPEC.md §2 "Inbound to a user"). */
import type { UserNode } from '../../config/index.js';
import type { Call } from '../call/call.js';
import { dialUsers } from './dial-users.js';
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
      return dialUsers(call, [user], callerFrom(call), { ringTimeoutMs: ringTimeoutS * 1000 }, signal);
    },
  };
}
