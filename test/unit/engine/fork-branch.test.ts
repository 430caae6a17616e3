/**
 * The fork branch's edge table (STYLE.md §8: each state machine has a table test): every (state, event) pair, the
 * legal ones with their next state, every other one rejected.
 */
import { describe, expect, it } from 'vitest';
import { BRANCH_EDGES, branchNext, type BranchEvent, type BranchState } from '../../../src/engine/fork-branch.js';

const STATES: BranchState[] = ['calling', 'answered', 'failed', 'cancelled'];
const EVENTS: BranchEvent[] = ['2xx', 'failure', 'cancel'];

/** The whole table, written out: null = no such transition. */
const EXPECTED: Record<BranchState, Record<BranchEvent, BranchState | null>> = {
  calling: { '2xx': 'answered', failure: 'failed', cancel: 'cancelled' },
  // A late 2xx (ACKed, then BYEd) and the 487 answering our CANCEL leave a cancelled branch cancelled.
  cancelled: { '2xx': 'cancelled', failure: 'cancelled', cancel: null },
  answered: { '2xx': null, failure: null, cancel: null },
  failed: { '2xx': null, failure: null, cancel: null },
};

describe('fork branch edges', () => {
  for (const state of STATES) {
    for (const event of EVENTS) {
      const next = EXPECTED[state][event];
      it(next === null ? `MUST reject ${event} in ${state}` : `MUST move ${state} → ${next} on ${event}`, () => {
        expect(branchNext(state, event)).toBe(next);
      });
    }
  }

  it('has no state or event beyond the ones listed, and answered and failed are final', () => {
    expect(Object.keys(BRANCH_EDGES).sort()).toEqual([...STATES].sort());
    for (const state of STATES) for (const e of Object.keys(BRANCH_EDGES[state])) expect(EVENTS).toContain(e);
    expect(BRANCH_EDGES.answered).toEqual({});
    expect(BRANCH_EDGES.failed).toEqual({});
  });
});
