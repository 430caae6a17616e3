/** The `hangup` node: ends the call with the node's status (default 480 Temporarily Unavailable). */
import type { HangupNode } from '../../config/index.js';
import type { Call } from '../call/call.js';
import { Status } from '../../sip/syntax.js';
import type { HandlerOutcome, NodeHandler } from './node-handler.js';

export const hangupHandler: NodeHandler<HangupNode> = {
  type: 'hangup',
  async run(call: Call, node: HangupNode): Promise<HandlerOutcome> {
    await call.end('hangup-node', { status: node.status ?? Status.TemporarilyUnavailable });
    return 'failed';
  },
};
