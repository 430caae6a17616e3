/**
 * What the four RFC 3261 §17 transaction machines share: the edge-table `transition()`, timer bookkeeping on
 * the injected clock, safe event emission to the TU, and the context a transaction needs from the layer below.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/index.js';
import { InvalidStateError } from '../../common/index.js';
import { isSkeleton, requestSkeleton, type SipMessage, type SipRequest, type SipResponse } from '../message.js';
import { serializeMessage } from '../serializer.js';
import type { TimerName, TimerValues } from './timers.js';

export { InvalidStateError };

/** What a transaction needs from the transport layer and the stack. */
export interface TransactionContext {
  clock: Clock;
  /** Timers already derived for this transaction's transport (see `computeTimers`). */
  timers: TimerValues;
  reliable: boolean;
  /**
   * Sends a serialized message to the transaction's peer; rejects on a transport error. A transaction serializes
   * each message once and hands retransmissions the same bytes.
   */
  send: (wire: Buffer) => Promise<void>;
  log?: Logger;
  /** Called once per absorbed input (a late retransmission, a stray ACK), for the stack's counter. */
  onAbsorbed?: () => void;
  /** Called when the safety reaper answered for a TU that never did (see `TimerValues.reaperInvite`). */
  onReaped?: () => void;
}

function isRetransmitTimer(name: TimerName): boolean {
  return name === 'A' || name === 'E' || name === 'G';
}

/** What a finished transaction keeps of its request besides method and URI (see `Transaction.compact`). */
const KEPT_HEADERS: ReadonlySet<string> = new Set(['call-id', 'cseq']);

/** A timer input: the named timer fired. */
export interface TimerInput {
  kind: 'timer';
  timer: TimerName;
}
/** A transport error while sending. */
export interface TransportErrorInput {
  kind: 'transport-error';
  error: Error;
}

/**
 * Base of every transaction. Subclasses declare `EDGES` (legal transitions) and `STATE_TIMERS` (which timers
 * live in which state) and implement `enter(state)` (entry actions) and `handle(input)`.
 */
export abstract class Transaction<S extends string> extends EventEmitter {
  /** The transaction key (branch-based, see `transaction/layer.ts`). */
  readonly id: string;
  protected readonly ctx: TransactionContext;
  #request: SipRequest;
  #state: S;
  readonly #timers = new Map<TimerName, TimerHandle>();
  /** Last interval of the retransmit timer (A, E or G: a machine has one), for its doubling. */
  #retransmitMs: number | undefined;
  /** The request's bytes as first sent (a client transaction retransmits them; dropped by `compact`). */
  #requestWire: Buffer | undefined;

  protected abstract readonly edges: Readonly<Record<S, readonly S[]>>;
  protected abstract readonly stateTimers: Readonly<Record<S, readonly TimerName[]>>;

  protected constructor(request: SipRequest, id: string, initial: S, ctx: TransactionContext) {
    super();
    this.#request = request;
    this.id = id;
    this.#state = initial;
    this.ctx = ctx;
  }

  /**
   * The request that created the transaction. Once the transaction only waits out its timers (completed,
   * confirmed, accepted) this is a skeleton of it: method, Request-URI, Call-ID and CSeq; no body.
   */
  get request(): SipRequest {
    return this.#request;
  }

  /**
   * Entry action of the waiting states: keep only what they need. At 1,000 calls/s a UDP B2BUA holds ~130,000
   * transactions in these states (64*T1 = 32 s each); the full request (every header, the body and the datagram
   * it was parsed from) made up most of their memory.
   */
  protected compact(): void {
    this.#requestWire = undefined;
    if (!isSkeleton(this.#request)) this.#request = requestSkeleton(this.#request, KEPT_HEADERS);
  }

  /** Current state, verbatim from RFC 3261 §17 (plus RFC 6026 `accepted`). */
  get state(): S {
    return this.#state;
  }

  /** Whether the transaction has reached `terminated`. */
  get terminated(): boolean {
    return this.#state === 'terminated';
  }

  /**
   * The only place state changes. Rejects edges not in the table, clears the timers the new state does not
   * keep (exit actions), then runs the new state's entry actions.
   */
  protected transition(to: S): void {
    const from = this.#state;
    if (!this.edges[from].includes(to)) {
      throw new InvalidStateError(`${this.constructor.name} ${this.id}: illegal transition ${from} -> ${to}`);
    }
    const keep = this.stateTimers[to];
    for (const [name, handle] of this.#timers) {
      if (!keep.includes(name)) {
        this.ctx.clock.clearTimeout(handle);
        this.#timers.delete(name);
        if (isRetransmitTimer(name)) this.#retransmitMs = undefined;
      }
    }
    this.#state = to;
    this.ctx.log?.debug({ txn: this.id, from, to }, 'transaction state');
    this.enter(to);
    if (to === 'terminated') {
      this.safeEmit('terminated');
      this.removeAllListeners();
    }
  }

  /**
   * Drops the transaction without a transition (stack shutdown): clears its timers and listeners.
   */
  dispose(): void {
    for (const handle of this.#timers.values()) this.ctx.clock.clearTimeout(handle);
    this.#timers.clear();
    this.removeAllListeners();
  }

  /** Entry actions of `state` (arm timers, tell the TU). */
  protected abstract enter(state: S): void;

  /**
   * Arms timer `name` for `ms`; only entry actions and a retransmit timer's own firing call this.
   * A zero duration fires synchronously (reliable transports: D/I/J/K are zero).
   */
  protected arm(name: TimerName, ms: number): void {
    const old = this.#timers.get(name);
    if (old !== undefined) this.ctx.clock.clearTimeout(old);
    if (isRetransmitTimer(name)) this.#retransmitMs = ms;
    const handle = this.ctx.clock.setTimeout(() => {
      this.#timers.delete(name);
      this.onTimer(name);
    }, ms);
    this.#timers.set(name, handle);
  }

  /** Last interval a timer was armed with (for the doubling of A, E, G). */
  protected interval(name: TimerName): number {
    return (isRetransmitTimer(name) ? this.#retransmitMs : undefined) ?? this.ctx.timers.t1;
  }

  /** Whether a timer is currently armed (for tests and debugging). */
  isArmed(name: TimerName): boolean {
    return this.#timers.has(name);
  }

  protected abstract onTimer(name: TimerName): void;

  /**
   * The request's bytes as this transaction sent them (client transactions, until they only wait out their
   * timers): what drachtio-lite echoes to its app, so the request is serialized once.
   */
  get requestWire(): Buffer | undefined {
    return this.#requestWire;
  }

  /** Serializes `msg` (or takes its bytes as `wire`), sends them and returns them for retransmissions. */
  protected transmit(msg: SipMessage, wire?: Buffer): Buffer | undefined {
    let bytes: Buffer;
    try {
      bytes = wire ?? serializeMessage(msg);
    } catch (error) {
      // A field with CR/LF (a bug in the TU): reported like a failed send, after the caller's state change.
      void Promise.resolve().then(() => this.onTransportError(asError(error)));
      return undefined;
    }
    this.retransmit(bytes);
    return bytes;
  }

  /** Sends (or resends) the transaction's own request, serialized on its first transmission only. */
  protected transmitRequest(): void {
    if (this.#requestWire) this.retransmit(this.#requestWire);
    else this.#requestWire = this.transmit(this.#request);
  }

  /**
   * Bytes to keep for a waiting state (a final response resent during Timer J/H, an ACK during Timer D), as a one-byte
   * string in the JS heap. A Buffer would be a slice of an 8 KiB pool slab allocated with malloc: tens of thousands of
   * them held for 32 s fragment the C heap, which is not given back to the OS afterwards (the RSS after a REGISTER
   * burst stayed up); heap strings are compacted and released by the GC, and save the Buffer objects besides.
   */
  protected hold(wire: Buffer | undefined): string | undefined {
    return wire?.toString('latin1');
  }

  /** Resends bytes kept by {@link hold} (no serialization: the same bytes as the first transmission). */
  protected resend(held: string): void {
    this.retransmit(Buffer.from(held, 'latin1'));
  }

  /** Sends bytes already serialized and turns a rejected send into a `transport-error` input. */
  protected retransmit(wire: Buffer): void {
    this.ctx.send(wire).catch((error: unknown) => this.onTransportError(asError(error)));
  }

  protected abstract onTransportError(error: Error): void;

  /** Counts and logs a reaped transaction (the TU never answered; we answer 408 ourselves). */
  protected reaped(afterMs: number): void {
    this.ctx.onReaped?.();
    this.ctx.log?.warn({ txn: this.id, method: this.#request.method, callId: this.#request.callId, afterMs }, 'TU never answered the request: sending 408');
  }

  /** Records an input the current state does not expect (RFC: absorbed). Never throws. */
  protected absorb(what: string): void {
    this.ctx.onAbsorbed?.();
    this.ctx.log?.debug({ txn: this.id, state: this.#state, what }, 'absorbed');
  }

  /** Emits to the TU; a throwing listener is logged, never breaks the machine. */
  protected safeEmit(event: string, ...args: unknown[]): void {
    try {
      this.emit(event, ...args);
    } catch (err) {
      this.ctx.log?.error({ err, txn: this.id, event }, 'transaction listener threw');
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Status class helpers used by all machines. */
export function isProvisional(res: SipResponse): boolean {
  return res.status >= 100 && res.status < 200;
}
/** 2xx. */
export function isSuccess(res: SipResponse): boolean {
  return res.status >= 200 && res.status < 300;
}
