/**
 * Node handlers (STYLE.md §6): one per flow node type. The flow runner (flow-runner.ts) walks the flow and asks
 * the handler for each node; the outcome picks the node's `next`. A feature (queues, ring groups, IVR) adds a
 * handler to the registry and never touches `call.ts`.
 */
import type { FlowNode, NodeOutcome } from '../../config/index.js';
import type { Call } from '../call/call.js';

/**
 * What a node ended with: a {@link NodeOutcome}, or `continue` for nodes that never answer and always go on
 * to their `next` (webhook objects). `answered` means the call is connected and the flow is done.
 */
export type HandlerOutcome = NodeOutcome | 'continue';

/** Runs one node type. `signal` aborts when the call ends (caller CANCEL/BYE, hangup, stop). */
export interface NodeHandler<N extends FlowNode = FlowNode> {
  readonly type: N['type'];
  run(call: Call, node: N, signal: AbortSignal): Promise<HandlerOutcome>;
}

/** Handlers keyed by node type. */
export class NodeHandlerRegistry {
  readonly #handlers = new Map<string, NodeHandler>();

  /** Adds or replaces the handler for its type. */
  register<N extends FlowNode>(handler: NodeHandler<N>): this {
    this.#handlers.set(handler.type, handler as unknown as NodeHandler);
    return this;
  }

  get(type: string): NodeHandler | undefined {
    return this.#handlers.get(type);
  }
}
