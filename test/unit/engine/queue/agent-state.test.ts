import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/common/clock.js';
import { InvalidStateError } from '../../../../src/common/errors.js';
import { AGENT_EDGES, AgentBoard, type AgentState } from '../../../../src/engine/queue/agent-state.js';

const STATES: AgentState[] = ['idle', 'reserved', 'ringing', 'on-call', 'wrap-up'];

function boardAt(state: AgentState, clock = new ManualClock()): { board: AgentBoard; idles: string[]; clock: ManualClock } {
  const idles: string[] = [];
  const board = new AgentBoard({ clock, onIdle: (a) => idles.push(a) });
  const path: Record<AgentState, AgentState[]> = {
    idle: [], reserved: ['reserved'], ringing: ['reserved', 'ringing'], 'on-call': ['reserved', 'ringing', 'on-call'],
    'wrap-up': ['reserved', 'ringing', 'on-call', 'wrap-up'],
  };
  for (const s of path[state]) board.transition('1001', s, { callId: 'c1', wrapUpMs: 5000 });
  idles.length = 0;
  return { board, idles, clock };
}

describe('agent state machine', () => {
  it('the edge table: every (state, target) pair is accepted exactly when listed in AGENT_EDGES', () => {
    for (const from of STATES) {
      for (const to of STATES) {
        const { board } = boardAt(from);
        const legal = AGENT_EDGES[from].includes(to);
        if (legal) {
          board.transition('1001', to, { callId: 'c2', wrapUpMs: 1000 });
          expect(board.get('1001').state).toBe(to);
        } else {
          expect(() => board.transition('1001', to)).toThrow(InvalidStateError);
          expect(board.get('1001').state).toBe(from);
        }
      }
    }
  });

  it('an unknown agent is idle, never called (idleSince 0) and tied to no caller', () => {
    const { board } = boardAt('idle');
    expect(board.get('9999')).toEqual({ number: '9999', state: 'idle', idleSinceMs: 0, callId: null });
  });

  it('reserved remembers the caller; idle forgets it and reports the agent idle', () => {
    const { board, idles } = boardAt('idle');
    board.transition('1001', 'reserved', { callId: 'abc' });
    expect(board.get('1001').callId).toBe('abc');
    board.transition('1001', 'idle');
    expect(board.get('1001').callId).toBeNull();
    expect(idles).toEqual(['1001']);
  });

  it('wrap-up arms one timer of wrapUpMs that ends in idle and sets idleSince', () => {
    const { board, idles, clock } = boardAt('on-call');
    board.transition('1001', 'wrap-up', { wrapUpMs: 3000 });
    clock.advance(2999);
    expect(board.get('1001').state).toBe('wrap-up');
    clock.advance(1);
    expect(board.get('1001').state).toBe('idle');
    expect(board.get('1001').idleSinceMs).toBe(clock.now());
    expect(idles).toEqual(['1001']);
    expect(clock.pending).toBe(0);
  });

  it('leaving wrap-up early clears its timer; dispose clears every timer', () => {
    const { board, clock } = boardAt('wrap-up');
    expect(clock.pending).toBe(1);
    board.transition('1001', 'idle');
    expect(clock.pending).toBe(0);
    const b2 = boardAt('wrap-up');
    b2.board.dispose();
    expect(b2.clock.pending).toBe(0);
  });

  it('a missed ring does not count as a call for longest_idle', () => {
    const { board, clock } = boardAt('ringing');
    clock.advance(1000);
    board.transition('1001', 'idle');
    expect(board.get('1001').idleSinceMs).toBe(0);
  });
});
