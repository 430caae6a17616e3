/**
 * The life of a {@link Call} (STYLE.md §6), enforced by `Call.transition()`:
 *
 * ```
 *   routing ──(a node starts ringing someone)──▶ ringing ──(a leg answers)──▶ connected
 *      │  ▲                                       │  │                           │
 *      │  └────(no answer: next node)─────────────┘  │                           │
 *      │                                             │                           │
 *      └──────────────┬──────────────────────────────┴───────────────────────────┘
 *                     ▼  (hangup, CANCEL, BYE, timeout, flow end, stop)
 *                  ending ──(legs ended, records committed)──▶ ended
 * ```
 * `routing` also goes straight to `connected` (a node that answers without ringing, e.g. an outbound call whose
 * trunk answers before any 18x).
 */

/** States of a call. */
export type CallState = 'routing' | 'ringing' | 'connected' | 'ending' | 'ended';

/** Legal edges; anything else is a bug and throws `InvalidStateError`. */
export const CALL_EDGES: Readonly<Record<CallState, readonly CallState[]>> = Object.freeze({
  routing: ['ringing', 'connected', 'ending'],
  ringing: ['routing', 'connected', 'ending'],
  connected: ['ending'],
  ending: ['ended'],
  ended: [],
});

/** True when `from → to` is an edge of the table. */
export function isCallEdge(from: CallState, to: CallState): boolean {
  return CALL_EDGES[from].includes(to);
}
