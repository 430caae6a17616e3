/**
 * INVITE server transaction, RFC 3261 §17.2.1 as amended by RFC 6026 §7.1 (the `accepted` state).
 *
 * ```
 *  proceeding ──TU 2xx──▶ accepted ──Timer L──▶ terminated
 *     │ TU 1xx (stay; resend on retransmission)
 *     └──TU 300-699──▶ completed ──ACK──▶ confirmed ──Timer I──▶ terminated
 *                         └──Timer H (no ACK)──▶ terminated
 * ```
 * Not in the RFC: a TU that sends nothing for `reaperInvite` ms (3 minutes by default; each provisional
 * restarts the count) gets a 408 sent on its behalf (`reaped` event), so no transaction waits forever — unless the
 * TU still holds it ({@link InviteServerTransaction.heldByTu}): a call may rightly wait longer than any fixed time.
 */
import { ownString } from '../../common/index.js';
import type { SipRequest, SipResponse } from '../message.js';
import { generateTag, getTag } from '../headers.js';
import { createResponse, Status } from '../status.js';
import {
  Transaction, isProvisional, isSuccess,
  type TimerInput, type TransactionContext, type TransportErrorInput,
} from './transaction.js';
import type { TimerName } from './timers.js';

/** States of the INVITE server transaction. */
export type IstState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

/** Every input the machine accepts. */
export type IstInput =
  | { kind: 'tu-response'; response: SipResponse; wire?: Buffer }
  | { kind: 'retransmit'; request: SipRequest }
  | { kind: 'ack'; request: SipRequest }
  | TimerInput
  | TransportErrorInput;

const EDGES: Readonly<Record<IstState, readonly IstState[]>> = {
  proceeding: ['completed', 'accepted', 'terminated'],
  completed: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  accepted: ['terminated'],
  terminated: [],
};

const STATE_TIMERS: Readonly<Record<IstState, readonly TimerName[]>> = {
  proceeding: ['reaper'],
  completed: ['G', 'H'],
  confirmed: ['I'],
  accepted: ['L'],
  terminated: [],
};

/**
 * The INVITE server transaction. Events: `timeout` (Timer H: no ACK for a non-2xx), `transport-error`,
 * `reaped` (the TU never answered; a 408 is being sent), `terminated`. The TU answers with `respond()`.
 */
export class InviteServerTransaction extends Transaction<IstState> {
  protected readonly edges = EDGES;
  protected readonly stateTimers = STATE_TIMERS;
  /**
   * The bytes of the most recent provisional and of the final 3xx-6xx: what §17.2.1 retransmits. Only bytes are
   * kept, never the response objects (their header values are slices of the request's text).
   */
  #provisionalWire: Buffer | undefined;
  #finalWire: string | undefined;
  /** The To header of the last response sent (a CANCEL's 200 repeats it; the reaper's 408 takes its tag). */
  #lastTo: string | undefined;
  /**
   * Set by the TU: while it returns true the reaper leaves the transaction alone and counts again. A caller waiting in
   * a queue (max_wait_s up to 300 s) outlasts the 3-minute reaper; its TU (the app holding the request) is alive and
   * will answer, so a 408 on its behalf would cut off a call that is being served.
   */
  heldByTu: (() => boolean) | undefined;

  constructor(request: SipRequest, id: string, ctx: TransactionContext) {
    super(request, id, 'proceeding', ctx);
    this.arm('reaper', ctx.timers.reaperInvite);
  }

  /** The To header of the last response sent and still resendable (provisional or 3xx-6xx), if any. */
  get lastTo(): string | undefined {
    return this.#lastTo;
  }

  /**
   * Sends a response from the TU (§17.2.1). A response the state cannot take is logged and dropped. `wire`, when
   * given, is `res` already serialized (drachtio-lite echoes those bytes to its app), so it is not serialized twice.
   */
  respond(res: SipResponse, wire?: Buffer): void {
    this.handle(wire ? { kind: 'tu-response', response: res, wire } : { kind: 'tu-response', response: res });
  }

  protected enter(state: IstState): void {
    const t = this.ctx.timers;
    switch (state) {
      case 'completed':
        // §17.2.1: "For unreliable transports, timer G is set to fire in T1 seconds ... When the "Completed"
        // state is entered, timer H MUST be set to fire in 64*T1 seconds for all transports."
        this.compact();
        if (t.G !== undefined) this.arm('G', t.G);
        this.arm('H', t.H);
        break;
      case 'confirmed':
        // §17.2.1: "Timer I is set to fire in T4 seconds for unreliable transports, and zero seconds for reliable".
        if (t.I === 0) this.transition('terminated');
        else this.arm('I', t.I);
        break;
      case 'accepted':
        // RFC 6026 §7.1: "the server transaction MUST transition to the "Accepted" state [and] start Timer L".
        this.compact();
        this.arm('L', t.L);
        break;
      default:
        break;
    }
  }

  /** Feeds one input to the machine. Never throws on network input. */
  handle(input: IstInput): void {
    switch (input.kind) {
      case 'tu-response':
        return this.#onTuResponse(input.response, input.wire);
      case 'retransmit':
        return this.#onRetransmit();
      case 'ack':
        return this.#onAck();
      case 'timer':
        return this.onTimer(input.timer);
      case 'transport-error':
        return this.onTransportError(input.error);
    }
  }

  #onTuResponse(res: SipResponse, wire?: Buffer): void {
    switch (this.state) {
      case 'proceeding': {
        const bytes = this.transmit(res, wire);
        if (isProvisional(res)) {
          // §17.2.1: "The TU passes any number of provisional responses to the server transaction."
          this.#provisionalWire = bytes;
          this.#keepTo(res);
          // A TU that still sends provisionals is alive: the reaper counts from its latest one.
          if (res.status > 100) this.arm('reaper', this.ctx.timers.reaperInvite);
        } else if (isSuccess(res)) {
          // RFC 6026 §7.1: "If, while in the "Proceeding" state, the TU passes a 2xx response to the server
          // transaction, the server transaction MUST pass this response to the transport layer for transmission.
          // ... the server transaction MUST then transition to the "Accepted" state."
          // Nothing is resent from "Accepted" (the TU retransmits the 2xx), so keep no responses there.
          this.#provisionalWire = undefined;
          this.#lastTo = undefined;
          this.transition('accepted');
        } else {
          // §17.2.1: "If, while in the "Proceeding" state, the TU passes a response with status code from 300 to
          // 699 to the server transaction, the response MUST be passed to the transport layer for transmission,
          // and the state machine MUST enter the "Completed" state."
          this.#finalWire = this.hold(bytes);
          this.#provisionalWire = undefined;
          this.#keepTo(res);
          this.transition('completed');
        }
        return;
      }
      case 'accepted':
        // RFC 6026 §7.1: "Any retransmission of the 2xx response passed from the TU to the transaction while in
        // the "Accepted" state MUST be passed to the transport layer for transmission."
        if (isSuccess(res)) this.transmit(res, wire);
        else this.ctx.log?.warn({ txn: this.id, status: res.status }, 'TU response after 2xx dropped');
        return;
      default:
        this.ctx.log?.warn({ txn: this.id, state: this.state, status: res.status }, 'TU response dropped');
    }
  }

  #onRetransmit(): void {
    // §17.2.1: "If a request retransmission is received while in the "Proceeding" state, the most recent
    // provisional response that was received from the TU MUST be passed to the transport layer for
    // retransmission." ... "while in the "Completed" state, the server SHOULD pass the response to the transport".
    if (this.state === 'proceeding' && this.#provisionalWire) this.retransmit(this.#provisionalWire);
    else if (this.state === 'completed' && this.#finalWire) this.resend(this.#finalWire);
    this.absorb(`INVITE retransmission in ${this.state}`);
  }

  #onAck(): void {
    if (this.state === 'completed') {
      // §17.2.1: "If an ACK is received while the server transaction is in the "Completed" state, the server
      // transaction MUST transition to the "Confirmed" state."
      this.transition('confirmed');
      return;
    }
    // §17.2.1: "the purpose of the "Confirmed" state is to absorb any additional ACK messages".
    this.absorb(`ACK in ${this.state}`);
  }

  protected onTimer(name: TimerName): void {
    const t = this.ctx.timers;
    if (name === 'G' && this.state === 'completed' && this.#finalWire) {
      // §17.2.1: "If timer G fires, the response is passed to the transport layer once more for retransmission,
      // and timer G is set to fire in MIN(2*T1, T2) seconds."
      this.resend(this.#finalWire);
      this.arm('G', Math.min(2 * this.interval('G'), t.t2));
    } else if (name === 'H' && this.state === 'completed') {
      // §17.2.1: "If timer H fires while in the "Completed" state, it implies that the ACK was never received.
      // In this case, the server transaction MUST transition to the "Terminated" state, and MUST indicate to
      // the TU that a transaction failure has occurred."
      this.safeEmit('timeout');
      this.transition('terminated');
    } else if ((name === 'I' && this.state === 'confirmed') || (name === 'L' && this.state === 'accepted')) {
      this.transition('terminated');
    } else if (name === 'reaper' && this.state === 'proceeding') {
      if (this.heldByTu?.()) {
        this.ctx.log?.debug({ txn: this.id }, 'INVITE still held by its TU: not reaped');
        this.arm('reaper', t.reaperInvite);
      } else this.#reap();
    } else {
      this.absorb(`timer ${name} in ${this.state}`);
    }
  }

  /** The TU never answered: send 408 on its behalf (with the To tag of its provisionals, if any). */
  #reap(): void {
    this.reaped(this.ctx.timers.reaperInvite);
    const toTag = getTag(this.#lastTo ?? '') ?? generateTag();
    this.safeEmit('reaped');
    if (this.state === 'proceeding') this.#onTuResponse(createResponse(this.request, Status.RequestTimeout, undefined, { toTag }));
  }

  #keepTo(res: SipResponse): void {
    const to = res.get('to');
    this.#lastTo = to === undefined ? undefined : ownString(to);
  }

  protected onTransportError(error: Error): void {
    if (this.terminated) return;
    // §17.2.4: "the server transaction ... SHOULD inform the TU" of the failure and terminate.
    this.safeEmit('transport-error', error);
    this.transition('terminated');
  }
}
