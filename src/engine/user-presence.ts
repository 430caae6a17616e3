/**
 * Which users are on a call right now: queues skip busy agents, a hunt ring group skips busy members. Alone, an
 * engine counts its own calls. With several engines (Redis, docs/scale-out.md) each also tells the others which of
 * its users are busy, with a lease it renews while they stay busy: `isOnCall` stays a synchronous, local read (a
 * cache of the other engines' busy users), a crashed engine's users are free again once their lease lapses, and a
 * lease lost to a Redis flush or restart is re-asserted at the next renewal.
 */
import type { Clock, Logger, TimerHandle } from '../common/index.js';

/** Busy users shared between engines (src/redis). Each engine speaks for its own calls only. */
export interface SharedPresence {
  /** How long a busy mark lasts unless renewed. */
  readonly leaseMs: number;
  /** This engine's `users` are busy until `untilMs` (a new mark, or a renewal); `untilMs` 0 = free again. */
  mark(users: readonly string[], untilMs: number): Promise<void>;
  /** Every other engine's busy marks live at `nowMs`: user → engine → until when (ms). */
  load(nowMs: number): Promise<Map<string, Map<string, number>>>;
  /**
   * `fn(users, untilMs, engine)` for another engine's marks (0 = free); `fn(null, 0, '')` when all must be re-read
   * (after a Redis outage).
   */
  watch(fn: (users: readonly string[] | null, untilMs: number, engine: string) => void): void;
}

/** Options of {@link UserPresence} when shared. */
export interface UserPresenceOptions {
  shared: SharedPresence;
  clock: Clock;
  log: Logger;
}

/** Which users are on a call (here, and with {@link SharedPresence} at the other engines). */
export class UserPresence {
  readonly #active = new Map<string, number>();
  readonly #listeners: Array<(userNumber: string) => void> = [];
  readonly #o: UserPresenceOptions | undefined;
  /** Other engines' busy users → engine → until when (ms). */
  #remote = new Map<string, Map<string, number>>();
  #renewTimer: TimerHandle | null = null;
  #expiryTimer: TimerHandle | null = null;
  #stopped = false;

  constructor(opts?: UserPresenceOptions) {
    this.#o = opts;
    opts?.shared.watch((users, untilMs, engine) => {
      if (users === null) {
        this.#reload();
        this.#renew();
        return;
      }
      for (const u of users) {
        const marks = this.#remote.get(u) ?? new Map<string, number>();
        if (untilMs > 0) marks.set(engine, untilMs);
        else marks.delete(engine);
        if (marks.size > 0) this.#remote.set(u, marks);
        else this.#remote.delete(u);
        this.#changed(u);
      }
      this.#armExpiry();
    });
  }

  /** Shared: reads the other engines' busy users and starts renewing this engine's marks. */
  async start(): Promise<void> {
    if (!this.#o) return;
    this.#stopped = false;
    this.#remote = await this.#o.shared.load(this.#o.clock.now());
    this.#armExpiry();
    this.#armRenew();
  }

  /** Stops renewing (the marks lapse on their own) and clears timers. */
  stop(): void {
    this.#stopped = true;
    for (const t of [this.#renewTimer, this.#expiryTimer]) if (t !== null) this.#o?.clock.clearTimeout(t);
    this.#renewTimer = this.#expiryTimer = null;
  }

  /** Calls `fn` after a user's count changes (queues re-check waiting callers). */
  onChange(fn: (userNumber: string) => void): void {
    this.#listeners.push(fn);
  }

  /** True when the user has at least one connected call, here or (shared) at another engine. */
  isOnCall(userNumber: string): boolean {
    if ((this.#active.get(userNumber) ?? 0) > 0) return true;
    const marks = this.#remote.get(userNumber);
    if (!marks || !this.#o) return false;
    const now = this.#o.clock.now();
    for (const until of marks.values()) if (until > now) return true;
    return false;
  }

  /** Counts a connected call for the user; returns the function that releases it (idempotent). */
  hold(userNumber: string): () => void {
    const n0 = this.#active.get(userNumber) ?? 0;
    this.#active.set(userNumber, n0 + 1);
    if (n0 === 0) this.#mark([userNumber], true);
    this.#changed(userNumber);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.#active.get(userNumber) ?? 1) - 1;
      if (n <= 0) {
        this.#active.delete(userNumber);
        this.#mark([userNumber], false);
      } else this.#active.set(userNumber, n);
      this.#changed(userNumber);
    };
  }

  #changed(userNumber: string): void {
    for (const fn of this.#listeners) fn(userNumber);
  }

  #mark(users: readonly string[], busy: boolean): void {
    const o = this.#o;
    if (!o || users.length === 0) return;
    o.shared.mark(users, busy ? o.clock.now() + o.shared.leaseMs : 0)
      .catch((err: unknown) => o.log.warn({ err, users: users.length }, 'sharing which users are on a call failed (Redis unreachable?): renewed later'));
  }

  /** Re-marks every busy user (a lease lost to a Redis flush or restart is set again). */
  #renew(): void {
    this.#mark([...this.#active.keys()], true);
  }

  #armRenew(): void {
    const o = this.#o;
    if (!o || this.#stopped) return;
    this.#renewTimer = o.clock.setTimeout(() => {
      this.#renewTimer = null;
      this.#renew();
      this.#armRenew();
    }, Math.max(100, Math.floor(o.shared.leaseMs / 3)));
  }

  #reload(): void {
    const o = this.#o!;
    o.shared.load(o.clock.now()).then((remote) => {
      const before = this.#remote;
      this.#remote = remote;
      for (const u of new Set([...before.keys(), ...remote.keys()])) this.#changed(u);
      this.#armExpiry();
    }, (err: unknown) => o.log.warn({ err }, 're-reading the other engines\' busy users failed'));
  }

  /** A lapsed mark (its engine stopped renewing: crashed) frees the user: listeners hear of it then. */
  #armExpiry(): void {
    const o = this.#o;
    if (!o) return;
    if (this.#expiryTimer !== null) o.clock.clearTimeout(this.#expiryTimer);
    this.#expiryTimer = null;
    if (this.#remote.size === 0 || this.#stopped) return;
    let next = Infinity;
    for (const marks of this.#remote.values()) for (const t of marks.values()) next = Math.min(next, t);
    this.#expiryTimer = o.clock.setTimeout(() => {
      this.#expiryTimer = null;
      const now = o.clock.now();
      for (const [u, marks] of [...this.#remote]) {
        for (const [engine, t] of [...marks]) if (t <= now) marks.delete(engine);
        if (marks.size > 0) continue;
        this.#remote.delete(u);
        this.#changed(u);
      }
      this.#armExpiry();
    }, Math.max(0, next - o.clock.now()) + 1);
  }
}
