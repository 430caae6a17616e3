/**
 * Where a call goes after a node: the one rule for reading `next` (SPEC §1), shared by the engine and the docs.
 */
import type { FlowConfig, FlowNode, NextRef, NodeOutcome, PbxConfig } from './types.js';

function pick(next: NextRef | undefined, outcome: NodeOutcome): string | null | undefined {
  if (next === null || next === undefined) return undefined;
  if (typeof next === 'string') return next;
  return next[outcome] ?? next.default ?? undefined;
}

/**
 * The id of the node a call moves to when `node` ends with `outcome`, or null to hang up (480 to an unanswered
 * caller). A string `next` applies to every outcome; a map uses the outcome's key, then `default`. A queue or
 * ring-group node that names nothing for the outcome falls back to its queue's / ring group's `next`, read the
 * same way, whose ids name nodes of the same flow (validation checks they exist there).
 */
export function resolveNext(config: PbxConfig, node: FlowNode, outcome: NodeOutcome): string | null {
  const own = pick(node.next, outcome);
  if (own !== undefined) return own;
  if (node.type === 'queue') return pick(config.queues.find((q) => q.name === node.queue)?.next, outcome) ?? null;
  if (node.type === 'ring_group') return pick(config.ring_groups.find((g) => g.name === node.ring_group)?.next, outcome) ?? null;
  return null;
}

/** The node of `flow` with id `id`, if any. */
export function findNode(flow: FlowConfig, id: string): FlowNode | undefined {
  return flow.nodes.find((n) => n.id === id);
}
