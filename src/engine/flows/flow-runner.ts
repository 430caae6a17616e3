/**
 * Walks a call's flow (STYLE.md §6): from the first node, the node type's handler runs with an AbortSignal that aborts
 * when the call ends; its outcome picks the node's `next`, until a node answers, the flow runs out, or the call ends.
 * Handlers come from the engine's registry, so `Call` never knows them (it has no import of `flows/`).
 */
import type { FlowConfig, FlowNode, NodeOutcome } from '../../config/index.js';
import { resolveNext } from '../../config/index.js';
import { Status } from '../../sip/syntax.js';
import type { Call } from '../call/call.js';
import type { NodeHandlerRegistry } from './node-handler.js';

/** A flow that loops (a `next` back to an earlier node) stops after this many nodes. */
const MAX_NODE_HOPS = 32;

/** Runs flows on calls with the handlers of one registry. */
export class FlowRunner {
  readonly #handlers: NodeHandlerRegistry;

  constructor(handlers: NodeHandlerRegistry) {
    this.#handlers = handlers;
  }

  /** Walks `flow` on `call`; a flow that runs out ends the call with 480 (flow-end). */
  async run(call: Call, flow: FlowConfig): Promise<void> {
    let node: FlowNode | undefined = flow.nodes[0];
    for (let hops = 0; node && !call.isEnding; hops++) {
      if (hops >= MAX_NODE_HOPS) {
        call.log.warn({ flow: flow.id }, 'flow exceeded the node hop limit');
        break;
      }
      const outcome = await this.#runNode(call, node);
      if (call.isEnding || outcome === 'answered') return;
      if (call.state === 'ringing') call.transition('routing');
      // The one rule for `next` (config/next.ts): a queue/ring-group node falls back to its group's own `next`;
      // 'continue' (webhook objects) has no key of its own, so it takes a string `next` or `default`.
      const nextId = resolveNext(call.config.config, node, outcome as NodeOutcome);
      if (call.logs('debug')) call.log.debug({ node: node.id, outcome, next: nextId }, 'node done');
      node = nextId === null ? undefined : flow.nodes.find((n) => n.id === nextId);
      if (nextId !== null && !node) call.log.warn({ flow: flow.id, next: nextId }, 'next names an unknown node');
    }
    if (!call.isEnding) await call.end('flow-end', { status: Status.TemporarilyUnavailable });
  }

  /** One node: its handler's outcome, or `failed` when there is no handler or it throws. */
  async #runNode(call: Call, node: FlowNode): Promise<string> {
    const handler = this.#handlers.get(node.type);
    const signal = call.enterNode();
    if (!handler) {
      call.log.warn({ node: node.id, type: node.type }, 'no handler for node type');
      return 'failed';
    }
    try {
      return await handler.run(call, node, signal);
    } catch (err) {
      call.log.error({ err, node: node.id }, 'node handler failed');
      return 'failed';
    }
  }
}
