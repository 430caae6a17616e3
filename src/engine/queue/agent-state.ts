/**
 * Agents' live states, shared by every queue an agent is in (an agent in wrap-up after a Sales call is not rung
 * by Support either). Each agent is a small state machine:
 *
 * ```
 *            reserve                 ringing               answered
 *   idle ─────────────▶ reserved ─────────────▶ ringing ─────────────▶ on-call
 *    ▲  ▲                  │                       │                     │
 *    │  └──(released)──────┘                       │                     │ call ended
 *    │  └──(no answer / reject / caller gone)──────┘                     ▼
 *    │  └──(call ended, wrap_up_s = 0)──────────────────────────── on-call / wrap-up
 *    └──────────────(wrap_up_s elapsed)──────────────────────────────── wrap-up
 * ```
 * Only {@link AgentBoard.transition} changes a state; it rejects edges not in {@link AGENT_EDGES} and runs the
 * entry/exit actions (the wrap-up timer). Whether an agent is registered or on a call outside the queue is not
 * a state: {@link QueueService} asks the location service and presence when it picks agents.
 */
import type { Clock, TimerHandle } from '../../common/index.js';
import { InvalidStateError } from '../../common/index.js';

/** States of a queue agent. */
export type AgentState = 'idle' | 'reserved' | 'ringing' | 'on-call' | 'wrap-up';

/** Legal edges; anything else is a bug. */
export const AGENT_EDGES: Readonly<Record<AgentState, readonly AgentState[]>> = Object.freeze({
  idle: ['reserved'],
  reserved: ['ringing', 'idle'],
  ringing: ['on-call', 'idle'],
  'on-call': ['wrap-up', 'idle'],
  'wrap-up': ['idle'],
});

/** What the board knows of one agent. */
export interface AgentView {
  readonly number: string;
  readonly state: AgentState;
  /** When the agent last became idle after a call (0 = never had one): longest_idle uses it. */
  readonly idleSinceMs: number;
  /** unique_call_id of the caller the agent is reserved for, ringing for or talking to. */
  readonly callId: string | null;
}

interface Agent {
  number: string;
  state: AgentState;
  idleSinceMs: number;
  callId: string | null;
  wrapUpTimer: TimerHandle | null;
}

/** Options of {@link AgentBoard}. */
export interface AgentBoardOptions {
  clock: Clock;
  /** Called after an agent becomes idle (the queues offer waiting callers again). */
  onIdle(agent: string): void;
  /** Called after any state change (the console's live view). */
  onChange?: (agent: string) => void;
  /** Called when an agent becomes idle after a call, with the time (longest_idle's memory, when shared). */
  onIdleAfterCall?: (agent: string, atMs: number) => void;
}

/** Every agent's state. */
export class AgentBoard {
  readonly #clock: Clock;
  readonly #onIdle: (agent: string) => void;
  readonly #onChange: ((agent: string) => void) | undefined;
  readonly #onIdleAfterCall: ((agent: string, atMs: number) => void) | undefined;
  readonly #agents = new Map<string, Agent>();

  constructor(opts: AgentBoardOptions) {
    this.#clock = opts.clock;
    this.#onIdle = opts.onIdle;
    this.#onChange = opts.onChange;
    this.#onIdleAfterCall = opts.onIdleAfterCall;
  }

  /** The agent's view (an unknown agent is idle). */
  get(number: string): AgentView {
    const a = this.#agents.get(number);
    if (!a) return { number, state: 'idle', idleSinceMs: 0, callId: null };
    return { number, state: a.state, idleSinceMs: a.idleSinceMs, callId: a.callId };
  }

  /** Every known agent's state, for tests and status. */
  states(): Record<string, AgentState> {
    const out: Record<string, AgentState> = {};
    for (const a of this.#agents.values()) out[a.number] = a.state;
    return out;
  }

  /**
   * Moves an agent along an edge of {@link AGENT_EDGES}. `callId` is the caller it is now tied to (kept while
   * reserved/ringing/on-call). Entering `wrap-up` arms a timer of `wrapUpMs` that ends in `idle`.
   */
  transition(number: string, to: AgentState, opts: { callId?: string; wrapUpMs?: number } = {}): void {
    const a = this.#agent(number);
    if (!AGENT_EDGES[a.state].includes(to)) throw new InvalidStateError(`agent ${number}: illegal transition ${a.state} → ${to}`);
    const from = a.state;
    // exit actions
    if (from === 'wrap-up' && a.wrapUpTimer !== null) {
      this.#clock.clearTimeout(a.wrapUpTimer);
      a.wrapUpTimer = null;
    }
    a.state = to;
    this.#onChange?.(number);
    // entry actions
    if (to === 'reserved') a.callId = opts.callId ?? null;
    if (to === 'idle') {
      if (from === 'on-call' || from === 'wrap-up') {
        a.idleSinceMs = this.#clock.now();
        this.#onIdleAfterCall?.(number, a.idleSinceMs);
      }
      a.callId = null;
      this.#onIdle(number);
    }
    if (to === 'wrap-up') {
      a.callId = null;
      a.wrapUpTimer = this.#clock.setTimeout(() => {
        a.wrapUpTimer = null;
        if (a.state === 'wrap-up') this.transition(number, 'idle');
      }, opts.wrapUpMs ?? 0);
    }
  }

  /** Clears every wrap-up timer (engine stop). */
  dispose(): void {
    for (const a of this.#agents.values()) {
      if (a.wrapUpTimer !== null) this.#clock.clearTimeout(a.wrapUpTimer);
      a.wrapUpTimer = null;
    }
  }

  #agent(number: string): Agent {
    let a = this.#agents.get(number);
    if (!a) this.#agents.set(number, (a = { number, state: 'idle', idleSinceMs: 0, callId: null, wrapUpTimer: null }));
    return a;
  }
}
