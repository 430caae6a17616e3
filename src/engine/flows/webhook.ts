/**
 * The `webhook` node (a webhook object, SPEC.md §1/§3): commits a `webhook_component_event` addressed to the
 * object's own URL, token and headers, and continues at once; delivery is the dispatcher's job.
 */
import type { WebhookNode } from '../../config/index.js';
import type { Call } from '../call/call.js';
import type { HandlerOutcome, NodeHandler } from './node-handler.js';

export const webhookHandler: NodeHandler<WebhookNode> = {
  type: 'webhook',
  async run(call: Call, node: WebhookNode): Promise<HandlerOutcome> {
    call.recorder.componentEvent(node.component_name, {
      kind: 'component', url: node.url, secret_token: node.secret_token, headers: { ...node.headers },
    });
    return 'continue';
  },
};
