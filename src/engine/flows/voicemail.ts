/** The `voicemail` node. Recording a message needs the media layer; until it exists the caller gets 480. */
import type { VoicemailNode } from '../../config/index.js';
import type { Call } from '../call/call.js';
import { Status } from '../sip-status.js';
import type { HandlerOutcome, NodeHandler } from './node-handler.js';

/** TODO(#5): play the greeting and record through the MediaLayer. */
export const voicemailHandler: NodeHandler<VoicemailNode> = {
  type: 'voicemail',
  async run(call: Call, node: VoicemailNode): Promise<HandlerOutcome> {
    call.log.info({ node: node.id, user: node.user }, 'voicemail needs the media layer (not built yet): answering 480');
    await call.end('voicemail-unavailable', { status: Status.TemporarilyUnavailable });
    return 'failed';
  },
};
