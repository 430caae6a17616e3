/**
 * The life of one {@link Fork} branch (one INVITE to one target), as an edge table (STYLE.md §1: every state machine
 * reads as a table). `Fork` changes a branch's state only through {@link branchNext}:
 *
 * ```
 *   calling ──2xx──────▶ answered            (the first 2xx wins the fork)
 *      │ ──failure────▶ failed               (a non-2xx final response, or srf's error)
 *      └──cancel─────▶ cancelled ──2xx──▶ cancelled      (a late 2xx: srf ACKs it, we BYE it)
 *                                 ──failure──▶ cancelled  (the 487 that answers our CANCEL)
 * ```
 * `answered` and `failed` are final: any event there is a bug, rejected (and logged by the fork).
 */

/** States of a fork branch. */
export type BranchState = 'calling' | 'answered' | 'failed' | 'cancelled';

/** What happens to a branch: its INVITE got a 2xx, it failed, or the fork (decided, timed out, aborted) cancels it. */
export type BranchEvent = '2xx' | 'failure' | 'cancel';

/** (state, event) → next state; a missing entry is an invalid transition. */
export const BRANCH_EDGES: Readonly<Record<BranchState, Readonly<Partial<Record<BranchEvent, BranchState>>>>> = Object.freeze({
  calling: { '2xx': 'answered', failure: 'failed', cancel: 'cancelled' },
  cancelled: { '2xx': 'cancelled', failure: 'cancelled' },
  answered: {},
  failed: {},
});

/** The state `event` moves a branch in `state` to, or null when the table has no such edge. */
export function branchNext(state: BranchState, event: BranchEvent): BranchState | null {
  return BRANCH_EDGES[state][event] ?? null;
}
