/**
 * Non-INVITE client transaction, RFC 3261 §17.1.2.
 *
 * ```
 *            start: send request, Timer E (UDP), Timer F
 *  trying ──1xx──▶ proceeding ──200-699──▶ completed ──Timer K──▶ terminated
 *    └──────200-699───────────────────────────▲
 *  Timer F or transport error (trying/proceeding) ──▶ terminated
 * ```
 */
import type { SipRequest, SipResponse } from '../message.js';
import {
  Transaction, isProvisional,
  type TimerInput, type TransactionContext, type TransportErrorInput,
} from './transaction.js';
import type { TimerName } from './timers.js';

/** States of the non-INVITE client transaction. */
export type NictState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** Every input the machine accepts. */
export type NictInput = { kind: 'response'; response: SipResponse } | TimerInput | TransportErrorInput;

const EDGES: Readonly<Record<NictState, readonly NictState[]>> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

const STATE_TIMERS: Readonly<Record<NictState, readonly TimerName[]>> = {
  trying: ['E', 'F'],
  proceeding: ['E', 'F'],
  completed: ['K'],
  terminated: [],
};

/**
 * The non-INVITE client transaction. Events: `response`, `timeout` (Timer F), `transport-error`, `terminated`.
 */
export class NonInviteClientTransaction extends Transaction<NictState> {
  protected readonly edges = EDGES;
  protected readonly stateTimers = STATE_TIMERS;

  constructor(request: SipRequest, id: string, ctx: TransactionContext) {
    super(request, id, 'trying', ctx);
  }

  /** Sends the request and runs the entry actions of `trying`. Call once, after wiring listeners. */
  start(): void {
    this.enter('trying');
  }

  protected enter(state: NictState): void {
    const t = this.ctx.timers;
    switch (state) {
      case 'trying':
        // §17.1.2.2: "the request MUST be passed to the transport layer for transmission ... Timer F MUST be set
        // to fire in 64*T1 seconds ... If an unreliable transport is in use, the client transaction MUST set
        // timer E to fire in T1 seconds."
        this.transmitRequest();
        if (t.E !== undefined) this.arm('E', t.E);
        this.arm('F', t.F);
        break;
      case 'completed':
        // §17.1.2.2: "Once the client transaction enters the "Completed" state, it MUST set Timer K to fire in
        // T4 seconds for unreliable transports, and zero seconds for reliable transports."
        this.compact();
        if (t.K === 0) this.transition('terminated');
        else this.arm('K', t.K);
        break;
      default:
        break;
    }
  }

  /** Feeds one input to the machine. Never throws on network input. */
  handle(input: NictInput): void {
    switch (input.kind) {
      case 'response':
        return this.#onResponse(input.response);
      case 'timer':
        return this.onTimer(input.timer);
      case 'transport-error':
        return this.onTransportError(input.error);
    }
  }

  #onResponse(res: SipResponse): void {
    switch (this.state) {
      case 'trying':
      case 'proceeding':
        if (isProvisional(res)) {
          // §17.1.2.2: "If a provisional response is received while in the "Trying" state, the response MUST be
          // passed to the TU, and then the client transaction SHOULD move to the "Proceeding" state."
          this.safeEmit('response', res);
          if (this.state === 'trying') this.transition('proceeding');
        } else {
          // §17.1.2.2: "If a final response (status codes 200-699) is received while in the "Trying" [or
          // "Proceeding"] state, the response MUST be passed to the TU, and the client transaction MUST
          // transition to the "Completed" state."
          this.safeEmit('response', res);
          this.transition('completed');
        }
        return;
      default:
        // §17.1.2.2: "any retransmissions of the final response that are received while in the "Completed"
        // state" are absorbed (not passed to the TU).
        this.absorb(`response ${res.status} in ${this.state}`);
    }
  }

  protected onTimer(name: TimerName): void {
    const t = this.ctx.timers;
    if (name === 'E' && (this.state === 'trying' || this.state === 'proceeding')) {
      // §17.1.2.2: "If timer E fires while still in this [Trying] state, the timer is reset, but this time with
      // a value of MIN(2*T1, T2) ... If Timer E fires while in the "Proceeding" state, the request MUST be passed
      // to the transport layer for retransmission, and Timer E MUST be reset with a value of T2 seconds."
      this.transmitRequest();
      this.arm('E', this.state === 'trying' ? Math.min(2 * this.interval('E'), t.t2) : t.t2);
    } else if (name === 'F' && (this.state === 'trying' || this.state === 'proceeding')) {
      // §17.1.2.2: "If Timer F fires while the client transaction is still in the "Trying" [or "Proceeding"]
      // state, the client transaction SHOULD inform the TU about the timeout, and then it SHOULD enter the
      // "Terminated" state."
      this.safeEmit('timeout');
      this.transition('terminated');
    } else if (name === 'K' && this.state === 'completed') {
      this.transition('terminated');
    } else {
      this.absorb(`timer ${name} in ${this.state}`);
    }
  }

  protected onTransportError(error: Error): void {
    if (this.terminated) return;
    // §17.1.4: inform the TU and transition directly to "Terminated".
    this.safeEmit('transport-error', error);
    this.transition('terminated');
  }
}
