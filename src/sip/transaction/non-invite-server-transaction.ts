/**
 * Non-INVITE server transaction, RFC 3261 §17.2.2.
 *
 * ```
 *  trying ──TU 1xx──▶ proceeding ──TU 200-699──▶ completed ──Timer J──▶ terminated
 *    └──────────TU 200-699───────────────────────────▲
 * ```
 * Not in the RFC: a TU that sends no final response within 64*T1 (the client's Timer F fired long ago) gets a
 * 408 sent on its behalf (`reaped` event), so no transaction waits forever.
 */
import { ownString } from '../../common/index.js';
import type { SipRequest, SipResponse } from '../message.js';
import { generateTag, getTag } from '../headers.js';
import { createResponse, Status } from '../status.js';
import {
  Transaction, isProvisional,
  type TimerInput, type TransactionContext, type TransportErrorInput,
} from './transaction.js';
import type { TimerName } from './timers.js';

/** States of the non-INVITE server transaction. */
export type NistState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** Every input the machine accepts. */
export type NistInput =
  | { kind: 'tu-response'; response: SipResponse; wire?: Buffer }
  | { kind: 'retransmit'; request: SipRequest }
  | TimerInput
  | TransportErrorInput;

const EDGES: Readonly<Record<NistState, readonly NistState[]>> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

const STATE_TIMERS: Readonly<Record<NistState, readonly TimerName[]>> = {
  trying: ['reaper'],
  proceeding: ['reaper'],
  completed: ['J'],
  terminated: [],
};

/** The non-INVITE server transaction. Events: `transport-error`, `reaped` (408 sent for a silent TU), `terminated`. */
export class NonInviteServerTransaction extends Transaction<NistState> {
  protected readonly edges = EDGES;
  protected readonly stateTimers = STATE_TIMERS;
  /**
   * The bytes of the most recent provisional response and of the final one (held, see `hold`): what §17.2.2 retransmits. Only the
   * bytes are kept, never the response object, whose header values are slices of the request's text (on UDP the
   * completed state lasts 64*T1 = 32 s; a burst of 10,000 REGISTERs leaves 20,000 such transactions).
   */
  #provisionalWire: Buffer | undefined;
  #finalWire: string | undefined;
  /** The To tag of the provisional responses, for a 408 the reaper sends on the TU's behalf. */
  #provisionalToTag: string | undefined;

  constructor(request: SipRequest, id: string, ctx: TransactionContext) {
    super(request, id, 'trying', ctx);
    this.arm('reaper', ctx.timers.reaperNonInvite);
  }

  /**
   * Sends a response from the TU (§17.2.2). A response after the final one is logged and dropped. `wire`, when
   * given, is `res` already serialized (drachtio-lite echoes those bytes to its app), so it is not serialized twice.
   */
  respond(res: SipResponse, wire?: Buffer): void {
    this.handle(wire ? { kind: 'tu-response', response: res, wire } : { kind: 'tu-response', response: res });
  }

  protected enter(state: NistState): void {
    if (state === 'completed') {
      // §17.2.2: "When the server transaction enters the "Completed" state, it MUST set Timer J to fire in 64*T1
      // seconds for unreliable transports, and zero seconds for reliable transports."
      const j = this.ctx.timers.J;
      this.compact();
      if (j === 0) this.transition('terminated');
      else this.arm('J', j);
    }
  }

  /** Feeds one input to the machine. Never throws on network input. */
  handle(input: NistInput): void {
    switch (input.kind) {
      case 'tu-response':
        return this.#onTuResponse(input.response, input.wire);
      case 'retransmit':
        return this.#onRetransmit();
      case 'timer':
        return this.onTimer(input.timer);
      case 'transport-error':
        return this.onTransportError(input.error);
    }
  }

  #onTuResponse(res: SipResponse, wire?: Buffer): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') {
      // §17.2.2: "Any other final responses passed by the TU to the server transaction MUST be discarded while
      // in the "Completed" state."
      this.ctx.log?.warn({ txn: this.id, state: this.state, status: res.status }, 'TU response dropped');
      return;
    }
    const bytes = this.transmit(res, wire);
    if (isProvisional(res)) {
      // §17.2.2: "While in the "Trying" state, if the TU passes a provisional response to the server
      // transaction, the server transaction MUST enter the "Proceeding" state."
      this.#provisionalWire = bytes;
      const tag = getTag(res.get('to') ?? '');
      this.#provisionalToTag = tag === undefined ? undefined : ownString(tag);
      if (this.state === 'trying') this.transition('proceeding');
    } else {
      // §17.2.2: "If the TU passes a final response (status codes 200-699) to the server while in the
      // "Proceeding" [or "Trying"] state, the transaction MUST enter the "Completed" state".
      this.#finalWire = this.hold(bytes);
      this.#provisionalWire = undefined;
      this.transition('completed');
    }
  }

  #onRetransmit(): void {
    // §17.2.2: "Once in the "Trying" state, any further request retransmissions are discarded." In
    // "Proceeding" the most recent provisional response, in "Completed" the final response, is retransmitted.
    if (this.state === 'proceeding' && this.#provisionalWire) this.retransmit(this.#provisionalWire);
    else if (this.state === 'completed' && this.#finalWire) this.resend(this.#finalWire);
    this.absorb(`request retransmission in ${this.state}`);
  }

  protected onTimer(name: TimerName): void {
    if (name === 'J' && this.state === 'completed') this.transition('terminated');
    else if (name === 'reaper' && (this.state === 'trying' || this.state === 'proceeding')) this.#reap();
    else this.absorb(`timer ${name} in ${this.state}`);
  }

  /** The TU never answered: send 408 on its behalf. */
  #reap(): void {
    this.reaped(this.ctx.timers.reaperNonInvite);
    const toTag = this.#provisionalToTag ?? generateTag();
    this.safeEmit('reaped');
    if (this.state === 'trying' || this.state === 'proceeding') {
      this.#onTuResponse(createResponse(this.request, Status.RequestTimeout, undefined, { toTag }));
    }
  }

  protected onTransportError(error: Error): void {
    if (this.terminated) return;
    // §17.2.4: inform the TU of the transport failure and terminate.
    this.safeEmit('transport-error', error);
    this.transition('terminated');
  }
}
