/**
 * INVITE client transaction, RFC 3261 §17.1.1 as amended by RFC 6026 §7.2 (the `accepted` state).
 *
 * ```
 *            start: send INVITE, Timer A (UDP), Timer B
 *  calling ──1xx──▶ proceeding ──2xx──▶ accepted ──Timer M──▶ terminated
 *     │  └─2xx─────────────────────────────▲
 *     └─300-699 (send ACK)──▶ completed ◀──┘(from proceeding too) ──Timer D──▶ terminated
 * ```
 */
import { SipRequest, type SipResponse } from '../message.js';
import { parseMessage } from '../parser.js';
import {
  Transaction, isProvisional, isSuccess,
  type TimerInput, type TransactionContext, type TransportErrorInput,
} from './transaction.js';
import type { TimerName } from './timers.js';

/** States of the INVITE client transaction. */
export type IctState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

/** Every input the machine accepts. */
export type IctInput = { kind: 'response'; response: SipResponse } | TimerInput | TransportErrorInput;

const EDGES: Readonly<Record<IctState, readonly IctState[]>> = {
  calling: ['proceeding', 'completed', 'accepted', 'terminated'],
  proceeding: ['completed', 'accepted', 'terminated'],
  completed: ['terminated'],
  accepted: ['terminated'],
  terminated: [],
};

const STATE_TIMERS: Readonly<Record<IctState, readonly TimerName[]>> = {
  calling: ['A', 'B'],
  proceeding: [],
  completed: ['D'],
  accepted: ['M'],
  terminated: [],
};

/**
 * Builds the ACK for a non-2xx final response (§17.1.1.3): same Request-URI, Call-ID, From, CSeq number and
 * Route as the INVITE, the To of the response, and only the INVITE's top Via.
 */
export function buildNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const ack = new SipRequest('ACK', invite.uri);
  const via = invite.getAll('via')[0];
  if (via !== undefined) ack.append('Via', via);
  for (const h of invite.headers) {
    const n = h.name.toLowerCase();
    if (n === 'route') ack.append(h.name, h.value);
  }
  ack.append('Max-Forwards', invite.get('max-forwards') ?? '70');
  ack.append('From', invite.get('from') ?? '');
  ack.append('To', response.get('to') ?? invite.get('to') ?? '');
  ack.append('Call-ID', invite.callId ?? '');
  const cseq = (invite.get('cseq') ?? '').trim();
  const num = cseq.split(/\s+/)[0] ?? '1';
  ack.append('CSeq', `${num} ACK`);
  ack.append('Content-Length', '0');
  return ack;
}

/**
 * The INVITE client transaction. Events: `response` (every response passed to the TU), `timeout` (Timer B),
 * `transport-error`, `terminated`.
 */
export class InviteClientTransaction extends Transaction<IctState> {
  protected readonly edges = EDGES;
  protected readonly stateTimers = STATE_TIMERS;
  /** The bytes of the ACK sent for a non-2xx final response (resent for each retransmission of that response). */
  #ackWire: string | undefined;

  constructor(request: SipRequest, id: string, ctx: TransactionContext) {
    super(request, id, 'calling', ctx);
  }

  /** Sends the INVITE and runs the entry actions of `calling`. Call once, after wiring listeners. */
  start(): void {
    this.enter('calling');
  }

  /** The ACK this transaction sent for a non-2xx final response, if any. */
  get ack(): SipRequest | undefined {
    const parsed = this.#ackWire ? parseMessage(Buffer.from(this.#ackWire, 'latin1')) : undefined;
    return parsed?.ok && parsed.message.kind === 'request' ? parsed.message : undefined;
  }

  protected enter(state: IctState): void {
    const t = this.ctx.timers;
    switch (state) {
      case 'calling':
        // §17.1.1.2: "the client transaction MUST pass the request to the transport layer for transmission. If
        // an unreliable transport is being used, the client transaction MUST start timer A with a value of T1."
        this.transmitRequest();
        if (t.A !== undefined) this.arm('A', t.A);
        this.arm('B', t.B);
        break;
      case 'completed':
        // §17.1.1.2: "Timer D ... at least 32 seconds for unreliable transports, and ... zero seconds for reliable".
        this.compact();
        if (t.D === 0) this.transition('terminated');
        else this.arm('D', t.D);
        break;
      case 'accepted':
        // RFC 6026 §7.2: "the client transaction MUST ... start Timer M with a value of 64*T1".
        this.compact();
        this.arm('M', t.M);
        break;
      default:
        break;
    }
  }

  /** Feeds one input to the machine. Never throws on network input. */
  handle(input: IctInput): void {
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
      case 'calling':
      case 'proceeding':
        if (isProvisional(res)) {
          // §17.1.1.2: "If the client transaction receives a provisional response while in the "Calling" state,
          // it transitions to the "Proceeding" state ... Furthermore, the provisional response MUST be passed to the TU."
          if (this.state === 'calling') this.transition('proceeding');
          this.safeEmit('response', res);
        } else if (isSuccess(res)) {
          // RFC 6026 §7.2: "a 2xx response ... MUST be passed up to the TU ... and the client transaction
          // MUST transition to the "Accepted" state".
          this.transition('accepted');
          this.safeEmit('response', res);
        } else {
          // §17.1.1.2: "When in either the "Calling" or "Proceeding" states, reception of a response with status
          // code from 300-699 MUST cause the client transaction to transition to "Completed". The client
          // transaction MUST pass the received response up to the TU, and ... MUST generate an ACK request".
          this.#ackWire = this.hold(this.transmit(buildNon2xxAck(this.request, res)));
          this.safeEmit('response', res);
          this.transition('completed');
        }
        return;
      case 'completed':
        // §17.1.1.2: "Any retransmissions of the final response that are received while in the "Completed"
        // state MUST cause the ACK to be re-passed to the transport layer for retransmission, but the newly
        // received response MUST NOT be passed up to the TU."
        if (!isProvisional(res) && !isSuccess(res) && this.#ackWire) this.resend(this.#ackWire);
        this.absorb(`response ${res.status} in completed`);
        return;
      case 'accepted':
        // RFC 6026 §7.2: "Any 2xx responses that match this client transaction and that are received while in
        // the "Accepted" state MUST be passed up to the TU."
        if (isSuccess(res)) this.safeEmit('response', res);
        else this.absorb(`response ${res.status} in accepted`);
        return;
      case 'terminated':
        this.absorb(`response ${res.status} in terminated`);
    }
  }

  protected onTimer(name: TimerName): void {
    if (name === 'A' && this.state === 'calling') {
      // §17.1.1.2: "When timer A fires, the client transaction MUST retransmit the request ... and MUST reset
      // the timer with a value of 2*T1."
      this.transmitRequest();
      this.arm('A', this.interval('A') * 2);
    } else if (name === 'B' && this.state === 'calling') {
      // §17.1.1.2: "If ... Timer B fires, the client transaction SHOULD inform the TU that a timeout has occurred."
      this.safeEmit('timeout');
      this.transition('terminated');
    } else if ((name === 'D' && this.state === 'completed') || (name === 'M' && this.state === 'accepted')) {
      this.transition('terminated');
    } else {
      this.absorb(`timer ${name} in ${this.state}`);
    }
  }

  protected onTransportError(error: Error): void {
    if (this.terminated) return;
    // §17.1.4: "the client transaction SHOULD inform the TU that a transport failure has occurred, and the
    // client transaction SHOULD transition directly to the "Terminated" state."
    this.safeEmit('transport-error', error);
    this.transition('terminated');
  }
}
