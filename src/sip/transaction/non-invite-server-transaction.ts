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
  | { kind: 'tu-response'; response: SipResponse }
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
  #lastProvisional: SipResponse | undefined;
  #final: SipResponse | undefined;

  constructor(request: SipRequest, id: string, ctx: TransactionContext) {
    super(request, id, 'trying', ctx);
    this.arm('reaper', ctx.timers.reaperNonInvite);
  }

  /** The last response sent, if any. */
  get lastResponse(): SipResponse | undefined {
    return this.#final ?? this.#lastProvisional;
  }

  /** Sends a response from the TU (§17.2.2). A response after the final one is logged and dropped. */
  respond(res: SipResponse): void {
    this.handle({ kind: 'tu-response', response: res });
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
        return this.#onTuResponse(input.response);
      case 'retransmit':
        return this.#onRetransmit();
      case 'timer':
        return this.onTimer(input.timer);
      case 'transport-error':
        return this.onTransportError(input.error);
    }
  }

  #onTuResponse(res: SipResponse): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') {
      // §17.2.2: "Any other final responses passed by the TU to the server transaction MUST be discarded while
      // in the "Completed" state."
      this.ctx.log?.warn({ txn: this.id, state: this.state, status: res.status }, 'TU response dropped');
      return;
    }
    this.transmit(res);
    if (isProvisional(res)) {
      // §17.2.2: "While in the "Trying" state, if the TU passes a provisional response to the server
      // transaction, the server transaction MUST enter the "Proceeding" state."
      this.#lastProvisional = res;
      if (this.state === 'trying') this.transition('proceeding');
    } else {
      // §17.2.2: "If the TU passes a final response (status codes 200-699) to the server while in the
      // "Proceeding" [or "Trying"] state, the transaction MUST enter the "Completed" state".
      this.#final = res;
      this.#lastProvisional = undefined;
      this.transition('completed');
    }
  }

  #onRetransmit(): void {
    // §17.2.2: "Once in the "Trying" state, any further request retransmissions are discarded." In
    // "Proceeding" the most recent provisional response, in "Completed" the final response, is retransmitted.
    if (this.state === 'proceeding' && this.#lastProvisional) this.transmit(this.#lastProvisional);
    else if (this.state === 'completed' && this.#final) this.transmit(this.#final);
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
    const toTag = getTag(this.#lastProvisional?.get('to') ?? '') ?? generateTag();
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
