/**
 * The `play` node (SPEC §1, issue 10): the PBX answers the caller with its own media (if nothing answered it yet),
 * plays `node.file` to it once, then the flow goes on to `next`. A user, queue or ring-group node after it rings its
 * callees with the PBX's media session, which bridges them to the caller's existing media (`Call.calleeOffer`,
 * `Call.connect`). The file was checked when the configuration was applied (config/media-files.ts); one that became
 * unreadable since is logged and skipped. Without a media layer the node is skipped, as before media existed.
 */
import type { PlayNode } from '../../config/index.js';
import { mediaFilePath } from '../../config/index.js';
import type { Call } from '../call/call.js';
import type { HandlerOutcome, NodeHandler } from './node-handler.js';

export const playHandler: NodeHandler<PlayNode> = {
  type: 'play',
  async run(call: Call, node: PlayNode, signal: AbortSignal): Promise<HandlerOutcome> {
    if (!call.ctx.media) {
      call.log.info({ node: node.id, file: node.file }, 'play needs a media layer (media.driver is none): skipped');
      return 'continue';
    }
    const session = await call.answerWithMedia(null);
    if (call.isEnding || signal.aborted) return 'failed';
    if (!session) {
      call.log.warn({ node: node.id }, 'play could not answer the caller with media: skipped');
      return 'continue';
    }
    const file = mediaFilePath(node.file);
    const playback = session.play('caller', { file });
    const stop = (): void => void playback.stop();
    signal.addEventListener('abort', stop, { once: true });
    const done = await playback.done;
    signal.removeEventListener('abort', stop);
    if (done.end === 'failed') call.log.warn({ node: node.id, file, error: done.error }, 'play: the file could not be played; going on');
    if (call.isEnding || signal.aborted) return 'failed';
    return 'continue';
  },
};
