/**
 * Fork (STYLE.md §6, SPEC.md §2): parallel INVITEs to every target (every registered contact of every device of
 * one or more users), one srf UAC each. The first 2xx wins and the others get CANCEL; a late 2xx is ACKed (by
 * srf) and then BYEd; the one ring timer cancels everything and resolves `no-answer`; when every leg has failed
 * the fork resolves at once (`busy` when all said busy). Aborting the signal (caller CANCEL) cancels every leg.
 *
 * With no `localSdp` the INVITEs carry no offer and use srf's `noAck` 3PCC mode: the winner's offer comes back
 * in `answered-3pcc` and the caller completes it with `ack(answerSdp)` (click-to-call).
 */
import type { Clock, TimerHandle } from '../common/index.js';
import type { Logger } from '../common/index.js';
import type { Leg } from './call/leg.js';
import { Status } from '../sip/syntax.js';
import { createUacTimed } from './call/session-timer.js';
import { branchNext, type BranchEvent, type BranchState } from './fork-branch.js';
import { isSipError, type SrfDialog, type SrfLike, type SrfNoAckResult, type SrfRequest } from './srf-types.js';

/** One place to send an INVITE. */
export interface ForkTarget {
  userNumber: string;
  device: string;
  /** Request-URI (the registered contact). */
  contact: string;
  /** Next hop (the binding's source address), srf's `proxy` option. */
  proxy: string;
}

/** How a fork ended. */
export type ForkOutcome =
  | { kind: 'answered'; target: ForkTarget; leg: Leg; dialog: SrfDialog }
  | { kind: 'answered-3pcc'; target: ForkTarget; leg: Leg; offer: SrfNoAckResult }
  | { kind: 'no-answer' }
  | { kind: 'busy' }
  | { kind: 'rejected' }
  | { kind: 'failed' }
  | { kind: 'cancelled' };

/** Options of {@link Fork}. */
export interface ForkOptions {
  srf: SrfLike;
  clock: Clock;
  log: Logger;
  targets: readonly ForkTarget[];
  ringTimeoutMs: number;
  /** The offer for every INVITE; omitted → offerless 3PCC INVITEs (`noAck`). */
  localSdp?: string;
  /** Extra headers on every INVITE (From, P-Asserted-Identity, …). */
  headers: Record<string, string>;
  /** Makes the Leg for a target (the call owns it). */
  createLeg(target: ForkTarget): Leg;
  /** First 18x from any target. */
  onRinging?(target: ForkTarget): void;
  /** First 18x with SDP from any target (early media: the first one wins). */
  onEarlyMedia?(target: ForkTarget, sdp: string): void;
}

interface Branch {
  target: ForkTarget;
  leg: Leg;
  state: BranchState;
  req: SrfRequest | null;
  status: number | null;
}

const BUSY = new Set<number>([Status.BusyHere, Status.BusyEverywhere]);

/** A parallel ring of several targets; use once. */
export class Fork {
  readonly #o: ForkOptions;
  readonly #branches: Branch[] = [];
  #timer: TimerHandle | null = null;
  #done = false;
  #ringingSignalled = false;
  #earlyMedia = false;
  #resolve: ((o: ForkOutcome) => void) | null = null;

  constructor(opts: ForkOptions) {
    this.#o = opts;
  }

  /** Sends the INVITEs and resolves with the outcome. */
  run(signal: AbortSignal): Promise<ForkOutcome> {
    return new Promise<ForkOutcome>((resolve) => {
      this.#resolve = resolve;
      if (this.#o.targets.length === 0) return this.#finish({ kind: 'failed' });
      if (signal.aborted) return this.#finish({ kind: 'cancelled' });
      signal.addEventListener('abort', () => this.#finish({ kind: 'cancelled' }), { once: true });
      this.#timer = this.#o.clock.setTimeout(() => {
        this.#timer = null;
        this.#finish({ kind: 'no-answer' });
      }, this.#o.ringTimeoutMs);
      for (const t of this.#o.targets) this.#launch(t);
    });
  }

  /** Clears the ring timer; pending legs are cancelled. Idempotent. */
  dispose(): void {
    this.#finish({ kind: 'cancelled' });
  }

  #launch(target: ForkTarget): void {
    const b: Branch = { target, leg: this.#o.createLeg(target), state: 'calling', req: null, status: null };
    this.#branches.push(b);
    const offerless = this.#o.localSdp === undefined;
    const opts = {
      headers: { ...this.#o.headers },
      proxy: target.proxy,
      ...(offerless ? { noAck: true } : { localSdp: this.#o.localSdp! }),
    };
    createUacTimed(this.#o.srf, target.contact, opts, {
        cbRequest: (err: unknown, req: SrfRequest) => {
          if (err || !req) return;
          b.req = req;
          // The fork ended before srf told us the INVITE went out: cancel it now.
          if (b.state === 'cancelled') this.#sendCancel(b);
          else if (this.#done && b.state === 'calling') this.#cancel(b);
        },
        cbProvisional: (res) => {
          if (res.status >= Status.Ringing && !this.#ringingSignalled && !this.#done) {
            this.#ringingSignalled = true;
            this.#o.onRinging?.(target);
          }
          if (res.status > Status.Trying && res.body && !this.#earlyMedia && !this.#done && b.state === 'calling') {
            this.#earlyMedia = true;
            this.#o.onEarlyMedia?.(target, res.body);
          }
        },
      })
      .then((result) => this.#answered(b, result as SrfDialog | SrfNoAckResult))
      .catch((err: unknown) => this.#failed(b, err));
  }

  #answered(b: Branch, result: SrfDialog | SrfNoAckResult): void {
    const now = this.#o.clock.now();
    const is3pcc = typeof (result as SrfNoAckResult).ack === 'function' && !(result as SrfDialog).sip;
    const from = b.state;
    if (this.#step(b, '2xx') !== 'answered') {
      // RFC 3261 §13.2.2.4 / SPEC §2: a late 2xx (the branch was cancelled) is ACKed and then BYEd.
      if (from === 'cancelled') {
        b.leg.answered(now);
        b.leg.end(now, 'pbx');
        this.#o.log.debug({ device: b.target.device }, 'late 2xx on a finished fork: BYE');
      }
      if (is3pcc) void (result as SrfNoAckResult).destroy?.().catch(() => undefined);
      else void (result as SrfDialog).destroy().catch(() => undefined);
      return;
    }
    b.leg.answered(now);
    this.#finish(is3pcc
      ? { kind: 'answered-3pcc', target: b.target, leg: b.leg, offer: result as SrfNoAckResult }
      : { kind: 'answered', target: b.target, leg: b.leg, dialog: result as SrfDialog });
  }

  #failed(b: Branch, err: unknown): void {
    const status = isSipError(err) ? err.status : Status.ServerInternalError;
    if (!isSipError(err)) this.#o.log.warn({ err, device: b.target.device }, 'fork leg failed');
    if (this.#step(b, 'failure') === null) return;
    b.status = status;
    b.leg.end(this.#o.clock.now(), b.state === 'cancelled' ? 'pbx' : 'callee', status);
    if (this.#done) return;
    if (this.#branches.length < this.#o.targets.length) return;
    if (this.#branches.some((x) => x.state === 'calling' || x.state === 'answered')) return;
    const statuses = this.#branches.map((x) => x.status ?? 0);
    if (statuses.every((s) => BUSY.has(s))) this.#finish({ kind: 'busy' });
    else if (statuses.every((s) => BUSY.has(s) || s === Status.Decline)) this.#finish({ kind: 'rejected' });
    else this.#finish({ kind: 'failed' });
  }

  #finish(outcome: ForkOutcome): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
    for (const b of this.#branches) if (b.state === 'calling') this.#cancel(b);
    this.#resolve?.(outcome);
  }

  #cancel(b: Branch): void {
    if (this.#step(b, 'cancel') === null) return;
    b.leg.end(this.#o.clock.now(), 'pbx', Status.RequestTerminated);
    if (b.req) this.#sendCancel(b); // else cbRequest sends it when srf reports the request
  }

  /** Moves `b` along the edge table (fork-branch.ts); an event its state has no edge for is a bug: logged, not taken. */
  #step(b: Branch, event: BranchEvent): BranchState | null {
    const next = branchNext(b.state, event);
    if (next === null) this.#o.log.warn({ device: b.target.device, state: b.state, event }, 'fork branch: no such transition');
    else b.state = next;
    return next;
  }

  #sendCancel(b: Branch): void {
    try {
      b.req!.cancel();
    } catch (err) {
      this.#o.log.debug({ err, device: b.target.device }, 'CANCEL could not be sent');
    }
  }
}
