/**
 * Placeholders for node types whose handlers are not built yet (queues and ring groups, issue #4): the caller
 * gets 480 and the log says why. Registering the real handler replaces these.
 */
import type { QueueNode, RingGroupNode } from '../../config/index.js';
import type { Call } from '../call/call.js';
import { Status } from '../sip-status.js';
import type { HandlerOutcome, NodeHandler } from './node-handler.js';

function unavailable<N extends QueueNode | RingGroupNode>(type: N['type'], what: string): NodeHandler<N> {
  return {
    type,
    async run(call: Call, node: N): Promise<HandlerOutcome> {
      call.log.warn({ node: node.id, type }, `${what} are not built yet (issue #4): answering 480`);
      await call.end(`${type}-unavailable`, { status: Status.TemporarilyUnavailable });
      return 'failed';
    },
  };
}

export const queuePlaceholder = unavailable<QueueNode>('queue', 'queues');
export const ringGroupPlaceholder = unavailable<RingGroupNode>('ring_group', 'ring groups');
