/** The `play` node. Playing a file needs the media layer; until it exists the node is skipped. */
import type { PlayNode } from '../../config/index.js';
import type { Call } from '../call/call.js';
import type { HandlerOutcome, NodeHandler } from './node-handler.js';

/** TODO(#5): answer and play `node.file` through the MediaLayer. */
export const playHandler: NodeHandler<PlayNode> = {
  type: 'play',
  async run(call: Call, node: PlayNode): Promise<HandlerOutcome> {
    call.log.info({ node: node.id, file: node.file }, 'play needs the media layer (not built yet): skipped');
    return 'continue';
  },
};
