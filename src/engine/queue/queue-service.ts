/**
 * Live queue state (SPEC.md §1–§2): the callers waiting in each queue in arrival order, and which agents to
 * ring for them. It knows nothing of SIP: the queue node handler joins a caller with two hooks (`offer` these
 * reserved agents, `timedOut`) and reports back (`ringing`, `offerEnded`, `callEnded`, `leave`). Every path
 * through it returns agents to `idle` or `wrap-up` (see {@link AgentBoard}); `leave()` is the backstop that
 * releases whatever a caller still holds, so a handler that fails half-way cannot strand an agent.
 *
 * A caller's life here:
 * ```
 *   join ──▶ waiting ──(agents picked and reserved)──▶ offered ──(no answer)──▶ paused ──(retryMs)──▶ waiting
 *             │   ▲                                       ▲   │
 *             │   └──(nobody free / turn lost)── picking ─┘   └──(an agent answered)──▶ left (answered)
 *             └──(shared strategy memory: read it)──▶ picking
 *   any state ──(max_wait_s, caller gone, stop)──▶ left
 * ```
 * Callers are served in arrival order across all queues (an agent in two queues takes the caller who has waited
 * longest); a caller paused after an unanswered ring lets the ones behind it be offered meanwhile. With a shared
 * strategy memory (several engines, {@link SharedStrategyMemory}) a round_robin, fewest_calls or longest_idle caller
 * is `picking` while the engine reads that memory; the pick then runs as here on what it read.
 */
import type { Clock, TimerHandle } from '../../common/index.js';
import type { Logger } from '../../common/index.js';
import type { QueueConfig } from '../../config/index.js';
import type { AgentClaims } from './agent-claims.js';
import { AgentBoard, type AgentState } from './agent-state.js';
import { pickAgents, type StrategyPick } from './strategies.js';
import { SHARED_STRATEGIES, sharedPick, type SharedStrategyMemory } from './strategy-memory.js';

/** What the queue asks of the waiting caller's handler. */
export interface QueueCallerHooks {
  /** Ring these agents (already `reserved` for `entry`); answer with `ringing()` then `offerEnded()`. */
  offer(agents: readonly string[], entry: QueueEntry): void;
  /** max_wait_s passed: stop ringing; the caller leaves the queue (its agents are released) right after. */
  timedOut(): void;
}

/** Where a caller stands. */
export type EntryState = 'waiting' | 'picking' | 'offered' | 'paused' | 'left';

/** One caller in a queue. */
export interface QueueEntry {
  readonly callId: string;
  readonly queue: string;
  readonly joinedMs: number;
  readonly state: EntryState;
  /** The agents of the offer in progress (empty otherwise). */
  readonly offered: readonly string[];
}

interface Entry extends QueueEntry {
  state: EntryState;
  offered: string[];
  seq: number;
  callerLast: number;
  hooks: QueueCallerHooks;
  maxWaitTimer: TimerHandle | null;
  retryTimer: TimerHandle | null;
}

interface LiveQueue {
  config: QueueConfig;
  entries: Entry[];
  lastOffered: number;
  answered: Map<string, number>;
}

/** Result of {@link QueueService.join}: `full` at max_callers, `empty` when no agent has a registered device. */
export type JoinResult = { ok: true; entry: QueueEntry } | { ok: false; reason: 'full' | 'empty' };

/** Options of {@link QueueService}. */
export interface QueueServiceOptions {
  clock: Clock;
  log: Logger;
  /** True when the user has at least one registered device. */
  isRegistered(agent: string): boolean;
  /** True when the user is on a call (any call, queue or not): such agents are skipped. */
  isOnCall(agent: string): boolean;
  /** Uniform in [0, 1) for the random strategy; default Math.random. */
  rng?: () => number;
  /** Pause before a caller whose ring went unanswered is offered again; default 1000 ms. */
  retryMs?: number;
  /** Called after waiting callers or agent states change (the console's live view). */
  onChange?: () => void;
  /** Claims shared with other engines; absent = this engine alone decides. */
  claims?: AgentClaims;
  /** Strategy memory shared with other engines; absent = this engine's own. */
  memory?: SharedStrategyMemory;
}

/** Snapshot for tests, status and the bench. */
export interface QueueSnapshot {
  waiting: Record<string, string[]>;
  agents: Record<string, AgentState>;
}

/** Every queue's waiting callers and every agent's state. */
export class QueueService {
  readonly #o: QueueServiceOptions;
  readonly #queues = new Map<string, LiveQueue>();
  readonly #agents: AgentBoard;
  readonly #retryMs: number;
  #seq = 0;
  #dispatching = false;
  #again = false;
  /** >0 while several agents change state at once: one dispatch after, so ringall offers see all of them. */
  #batchDepth = 0;
  #pending = false;
  #stopped = false;
  /** Claims this engine holds (agent → owner unique_call_id), from the claim until the agent is idle again. */
  readonly #held = new Map<string, string>();
  /** Agents another engine holds, until when (ms): not offered here meanwhile. */
  readonly #elsewhere = new Map<string, number>();
  #elsewhereTimer: TimerHandle | null = null;
  #renewTimer: TimerHandle | null = null;

  constructor(opts: QueueServiceOptions) {
    this.#o = opts;
    this.#retryMs = opts.retryMs ?? 1000;
    this.#agents = new AgentBoard({
      clock: opts.clock, onIdle: (a) => { this.#releaseClaim(a); this.#dispatch(); }, ...(opts.onChange ? { onChange: opts.onChange } : {}),
      ...(opts.memory ? { onIdleAfterCall: (a: string, atMs: number) => this.#remember(opts.memory!.idle(a, atMs), a) } : {}),
    });
    opts.claims?.onReleased((a) => {
      if (this.#elsewhere.delete(a)) this.#dispatch();
    });
    opts.claims?.onResync?.(() => this.#renewNow());
  }

  /** The agents' board (read-only use outside this module). */
  get agents(): Pick<AgentBoard, 'get' | 'states'> {
    return this.#agents;
  }

  /** Adds a caller at the back of the queue, or says why not. Arms the max_wait_s timer. */
  join(config: QueueConfig, callId: string, hooks: QueueCallerHooks): JoinResult {
    const q = this.#queue(config);
    if (config.max_callers > 0 && q.entries.length >= config.max_callers) return { ok: false, reason: 'full' };
    if (!config.agents.some((a) => this.#o.isRegistered(a))) return { ok: false, reason: 'empty' };
    const e: Entry = {
      callId, queue: config.name, joinedMs: this.#o.clock.now(), state: 'waiting', offered: [], seq: ++this.#seq,
      callerLast: -1, hooks, maxWaitTimer: null, retryTimer: null,
    };
    e.maxWaitTimer = this.#o.clock.setTimeout(() => {
      e.maxWaitTimer = null;
      if (e.state === 'left') return;
      try {
        e.hooks.timedOut();
      } finally {
        this.leave(e);
      }
    }, config.max_wait_s * 1000);
    q.entries.push(e);
    this.#o.onChange?.();
    this.#dispatch();
    return { ok: true, entry: e };
  }

  /** The INVITEs of the caller's offer are out: its agents go `reserved → ringing`. */
  ringing(entry: QueueEntry): void {
    const e = entry as Entry;
    if (e.state !== 'offered') return;
    for (const a of e.offered) if (this.#agents.get(a).state === 'reserved') this.#agents.transition(a, 'ringing');
  }

  /**
   * The caller's offer ended. `answeredBy` (one of the offered agents) goes on-call and the caller leaves the
   * queue; everyone else offered goes back to idle and the caller waits `retryMs` before its next offer.
   * Returns false when the caller had already left (timeout, hang-up): the handler must drop an answered agent.
   */
  offerEnded(entry: QueueEntry, answeredBy: string | null): boolean {
    return this.#batch(() => this.#offerEnded(entry as Entry, answeredBy));
  }

  #offerEnded(e: Entry, answeredBy: string | null): boolean {
    if (e.state !== 'offered') return false;
    const offered = e.offered;
    e.offered = [];
    const q = this.#queues.get(e.queue)!;
    if (answeredBy !== null && offered.includes(answeredBy)) {
      const a = this.#agents.get(answeredBy);
      if (a.state === 'reserved') this.#agents.transition(answeredBy, 'ringing');
      this.#agents.transition(answeredBy, 'on-call');
      q.answered.set(answeredBy, (q.answered.get(answeredBy) ?? 0) + 1);
      if (this.#o.memory) this.#remember(this.#o.memory.answered(q.config.name, answeredBy), answeredBy);
      this.#remove(e);
      for (const x of offered) if (x !== answeredBy) this.#release(x, e.callId);
      return true;
    }
    this.#pause(e);
    for (const x of offered) this.#release(x, e.callId);
    return true;
  }

  /** A call an agent answered from a queue has ended: wrap-up for `wrapUpMs` (shared by all queues), then idle. */
  callEnded(agent: string, wrapUpMs: number): void {
    if (this.#agents.get(agent).state !== 'on-call') return;
    if (wrapUpMs > 0) this.#agents.transition(agent, 'wrap-up', { wrapUpMs });
    else this.#agents.transition(agent, 'idle');
  }

  /** The caller leaves (hang-up, timeout, moving on); idempotent. Agents it still holds are released. */
  leave(entry: QueueEntry): void {
    const e = entry as Entry;
    if (e.state === 'left') return;
    this.#batch(() => {
      const offered = e.offered;
      e.offered = [];
      this.#remove(e);
      for (const a of offered) this.#release(a, e.callId);
      this.#dispatch();
    });
  }

  /** Something outside changed (a device registered, an agent's call ended): offer waiting callers again. */
  wake(): void {
    this.#dispatch();
  }

  /** Callers in each queue (in order) and every agent's state. */
  snapshot(): QueueSnapshot {
    const waiting: Record<string, string[]> = {};
    for (const [name, q] of this.#queues) waiting[name] = q.entries.map((e) => e.callId);
    return { waiting, agents: this.#agents.states() };
  }

  /** Clears timers and releases held claims; callers still waiting are left to their calls' own endings. */
  stop(): void {
    this.#stopped = true;
    for (const q of this.#queues.values()) for (const e of [...q.entries]) this.#remove(e);
    this.#agents.dispose();
    for (const a of [...this.#held.keys()]) this.#releaseClaim(a);
    for (const t of [this.#elsewhereTimer, this.#renewTimer]) if (t !== null) this.#o.clock.clearTimeout(t);
    this.#elsewhereTimer = this.#renewTimer = null;
  }

  /** The claim this engine holds on an agent goes (the agent is idle here again). */
  #releaseClaim(agent: string): void {
    const owner = this.#held.get(agent);
    if (owner === undefined || !this.#o.claims) return;
    this.#held.delete(agent);
    this.#o.claims.release(agent, owner).catch((err: unknown) => this.#o.log.warn({ err, agent }, 'releasing an agent claim failed: it lapses on its own'));
  }

  /** Another engine holds `agent` for `heldMs`: skip them here until its release notice, or the claim's end. */
  #heldElsewhere(agent: string, heldMs: number): void {
    this.#elsewhere.set(agent, this.#o.clock.now() + Math.max(100, Math.min(heldMs, this.#o.claims?.ttlMs ?? heldMs)));
    this.#armElsewhere();
  }

  #armElsewhere(): void {
    if (this.#elsewhereTimer !== null) this.#o.clock.clearTimeout(this.#elsewhereTimer);
    this.#elsewhereTimer = null;
    if (this.#elsewhere.size === 0 || this.#stopped) return;
    const next = Math.min(...this.#elsewhere.values());
    this.#elsewhereTimer = this.#o.clock.setTimeout(() => {
      this.#elsewhereTimer = null;
      const now = this.#o.clock.now();
      for (const [a, t] of [...this.#elsewhere]) if (t <= now) this.#elsewhere.delete(a);
      this.#armElsewhere();
      this.#dispatch();
    }, Math.max(0, next - this.#o.clock.now()));
  }

  /** Renews this engine's claims at a third of their lifetime while it holds any. */
  #armRenew(): void {
    const claims = this.#o.claims;
    if (!claims || this.#renewTimer !== null || this.#stopped) return;
    this.#renewTimer = this.#o.clock.setTimeout(() => {
      this.#renewTimer = null;
      if (this.#held.size === 0) return;
      this.#renewNow();
      this.#armRenew();
    }, Math.max(100, Math.floor(claims.ttlMs / 3)));
  }

  /** Renews (or, when the key is gone, re-takes) every claim this engine holds. */
  #renewNow(): void {
    const held = [...this.#held].map(([agent, owner]) => ({ agent, owner }));
    if (held.length === 0 || !this.#o.claims) return;
    this.#o.claims.renew(held).then((lost) => {
      if (lost.length > 0) this.#o.log.warn({ agents: lost }, 'agent claims lapsed while held (Redis outage) and another engine took them');
    }, (err: unknown) => this.#o.log.warn({ err }, 'renewing agent claims failed'));
  }

  /**
   * With shared claims: claims the reserved agents of an offer, then rings those it got. An agent another engine
   * holds goes back to idle here and is skipped until released; with nobody left the caller waits again.
   */
  async #claimThenOffer(e: Entry, agents: string[]): Promise<void> {
    const claims = this.#o.claims!;
    const results = await Promise.all(agents.map((a) => claims.claim(a, e.callId).catch((err: unknown) => {
      this.#o.log.warn({ err, agent: a, unique_call_id: e.callId }, 'claiming an agent failed (Redis unreachable?): not offered');
      return { ok: false as const, heldMs: 1000 };
    })));
    const got: string[] = [];
    this.#batch(() => {
      agents.forEach((a, i) => {
        const r = results[i]!;
        const mine = this.#agents.get(a).state === 'reserved' && this.#agents.get(a).callId === e.callId && e.state === 'offered';
        if (r.ok && mine) {
          this.#held.set(a, e.callId);
          got.push(a);
        } else if (r.ok) {
          // The caller left (or moved on) while we claimed: give the agent back at once.
          claims.release(a, e.callId).catch(() => undefined);
        } else {
          this.#heldElsewhere(a, r.heldMs);
          if (mine) this.#agents.transition(a, 'idle');
        }
      });
      if (got.length > 0) this.#armRenew();
      if (e.state !== 'offered' || e.offered !== agents) return;
      if (got.length === 0) {
        e.offered = [];
        e.state = 'waiting';
        this.#dispatch();
        return;
      }
      e.offered = got;
    });
    if (got.length === 0 || e.state !== 'offered' || e.offered !== got) return;
    try {
      e.hooks.offer([...got], e);
    } catch (err) {
      this.#o.log.error({ err, unique_call_id: e.callId }, 'queue offer hook failed');
      this.offerEnded(e, null);
    }
  }

  #batch<T>(fn: () => T): T {
    this.#batchDepth++;
    try {
      return fn();
    } finally {
      this.#batchDepth--;
      if (this.#batchDepth === 0 && this.#pending) {
        this.#pending = false;
        this.#dispatch();
      }
    }
  }

  #queue(config: QueueConfig): LiveQueue {
    let q = this.#queues.get(config.name);
    if (!q) this.#queues.set(config.name, (q = { config, entries: [], lastOffered: -1, answered: new Map() }));
    q.config = config; // the newest configuration version seen wins for the shared state
    return q;
  }

  #remove(e: Entry): void {
    e.state = 'left';
    if (e.maxWaitTimer !== null) this.#o.clock.clearTimeout(e.maxWaitTimer);
    if (e.retryTimer !== null) this.#o.clock.clearTimeout(e.retryTimer);
    e.maxWaitTimer = e.retryTimer = null;
    const q = this.#queues.get(e.queue);
    if (q) q.entries = q.entries.filter((x) => x !== e);
    this.#o.onChange?.();
  }

  /** An agent reserved or ringing for `callId` goes back to idle. */
  #release(agent: string, callId: string): void {
    const a = this.#agents.get(agent);
    if ((a.state === 'reserved' || a.state === 'ringing') && a.callId === callId) this.#agents.transition(agent, 'idle');
  }

  #available(agent: string): boolean {
    return this.#agents.get(agent).state === 'idle' && !this.#elsewhere.has(agent) && this.#o.isRegistered(agent) && !this.#o.isOnCall(agent);
  }

  /** Offers waiting callers, oldest first across queues, to available agents. Re-entrant calls loop once more. */
  #dispatch(): void {
    if (this.#stopped) return;
    if (this.#batchDepth > 0) {
      this.#pending = true;
      return;
    }
    if (this.#dispatching) {
      this.#again = true;
      return;
    }
    this.#dispatching = true;
    const offers: Array<{ e: Entry; agents: string[] }> = [];
    const picks: Entry[] = [];
    try {
      do {
        this.#again = false;
        const waiting = [...this.#queues.values()].flatMap((q) => q.entries.filter((e) => e.state === 'waiting'))
          .sort((a, b) => a.joinedMs - b.joinedMs || a.seq - b.seq);
        for (const e of waiting) {
          const q = this.#queues.get(e.queue)!;
          const available = new Set(q.config.agents.filter((a) => this.#available(a)));
          if (available.size === 0) continue;
          if (this.#o.memory && SHARED_STRATEGIES.has(q.config.strategy)) {
            e.state = 'picking';
            picks.push(e);
            continue;
          }
          const pick = pickAgents(q.config.strategy, {
            agents: q.config.agents, available, lastOffered: q.lastOffered, callerLast: e.callerLast,
            idleSinceMs: (a) => this.#agents.get(a).idleSinceMs, callsAnswered: (a) => q.answered.get(a) ?? 0,
            rng: this.#o.rng ?? Math.random,
          });
          if (pick.agents.length === 0) continue;
          q.lastOffered = pick.lastOffered;
          e.callerLast = pick.callerLast;
          for (const a of pick.agents) this.#agents.transition(a, 'reserved', { callId: e.callId });
          e.state = 'offered';
          e.offered = pick.agents;
          offers.push({ e, agents: pick.agents });
        }
      } while (this.#again);
    } finally {
      this.#dispatching = false;
    }
    for (const { e, agents } of offers) this.#deliver(e, agents);
    for (const e of picks) void this.#pickShared(e);
  }

  /** Rings an offer's reserved agents (claiming them first when claims are shared). */
  #deliver(e: Entry, agents: string[]): void {
    if (e.state !== 'offered' || e.offered !== agents) return;
    if (this.#o.claims) {
      void this.#claimThenOffer(e, agents);
      return;
    }
    try {
      e.hooks.offer([...agents], e);
    } catch (err) {
      this.#o.log.error({ err, unique_call_id: e.callId }, 'queue offer hook failed');
      this.offerEnded(e, null);
    }
  }

  /** Picks for a `picking` caller from the shared strategy memory, then offers as a local pick would. */
  async #pickShared(e: Entry): Promise<void> {
    const q = this.#queues.get(e.queue)!;
    const available = (): Set<string> => new Set(q.config.agents.filter((a) => this.#available(a)));
    let pick: StrategyPick | null;
    try {
      pick = await sharedPick({
        memory: this.#o.memory!, strategy: q.config.strategy, queue: q.config.name, agents: q.config.agents, callerLast: e.callerLast,
        available, stillPicking: () => e.state === 'picking' && !this.#stopped, rng: this.#o.rng ?? Math.random,
      });
    } catch (err) {
      this.#o.log.warn({ err, unique_call_id: e.callId, queue: e.queue }, 'reading the shared queue memory failed (Redis unreachable?): the caller waits');
      if (e.state === 'picking') this.#pause(e);
      return;
    }
    if (e.state !== 'picking' || this.#stopped) return;
    if (pick === null || !pick.agents.every((a) => this.#available(a))) {
      // Nobody is free (a change dispatches again), or the turn went to a caller here meanwhile: pick again.
      e.state = 'waiting';
      if (available().size > 0) this.#dispatch();
      return;
    }
    const agents = pick.agents;
    q.lastOffered = pick.lastOffered;
    e.callerLast = pick.callerLast;
    this.#batch(() => {
      for (const a of agents) this.#agents.transition(a, 'reserved', { callId: e.callId });
      e.state = 'offered';
      e.offered = agents;
    });
    this.#deliver(e, agents);
  }

  /** A caller waits `retryMs` before it is offered again. */
  #pause(e: Entry): void {
    e.state = 'paused';
    e.retryTimer = this.#o.clock.setTimeout(() => {
      e.retryTimer = null;
      if (e.state !== 'paused') return;
      e.state = 'waiting';
      this.#dispatch();
    }, this.#retryMs);
  }

  /** A write to the shared strategy memory failed: logged; the queue goes on with what the others remember. */
  #remember(write: Promise<void>, agent: string): void {
    write.catch((err: unknown) => this.#o.log.warn({ err, agent }, 'writing the shared queue memory failed (Redis unreachable?)'));
  }
}
