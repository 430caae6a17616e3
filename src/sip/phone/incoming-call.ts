/**
 * An incoming test-phone call (UAS): `ring()`, `answer({ afterMs })`, `reject(status)`, or nothing (ignore).
 * Handles CANCEL (487 for the INVITE), ACK, BYE and re-INVITE. Events: `cancelled`, `confirmed` (ACK),
 * `ack-timeout`, `ended`, `reinvite`.
 */
import type { TimerHandle } from '../../common/index.js';
import type { Endpoint, SipRequest } from '../message.js';
import { Dialog } from '../dialog.js';
import { generateTag } from '../headers.js';
import { createResponse, Status } from '../status.js';
import type { ServerTransaction } from '../stack.js';
import { PhoneCall, type PhoneContext } from './phone-call.js';
import { createAnswer } from './sdp.js';

/** Options of {@link IncomingCall.answer}. */
export interface AnswerOptions {
  /** Wait this long before answering (on the phone's clock). */
  afterMs?: number;
  /** SDP answer; default a G.711 answer to the offer. */
  sdp?: string;
}

/** An incoming call. */
export class IncomingCall extends PhoneCall {
  readonly invite: SipRequest;
  readonly transaction: ServerTransaction;
  readonly source: Endpoint;
  readonly localTag = generateTag();
  #answerTimer: TimerHandle | undefined;

  constructor(ctx: PhoneContext, invite: SipRequest, txn: ServerTransaction, source: Endpoint) {
    super(ctx, invite.callId ?? '', 'calling');
    this.invite = invite;
    this.transaction = txn;
    this.source = source;
    if (invite.body.length) this.remoteSdp = invite.body.toString('utf8');
  }

  /** Caller's From header value. */
  get from(): string {
    return this.invite.get('from') ?? '';
  }

  /** Sends 180 Ringing (creates the early dialog). */
  ring(): void {
    if (this.state !== 'calling') return;
    const ringing = createResponse(this.invite, Status.Ringing, undefined, { toTag: this.localTag });
    ringing.append('Contact', this.ctx.contact);
    this.dialog = Dialog.fromUas(this.invite, ringing);
    this.state = 'ringing';
    this.ctx.record('ringing', { callId: this.callId });
    this.transaction.respond(ringing);
  }

  /** Answers with 200 + SDP (now or after `afterMs`), retransmitting it until the ACK (§13.3.1.4). */
  answer(opts: AnswerOptions = {}): void {
    if (this.state === 'ended' || this.state === 'answered' || this.state === 'confirmed') return;
    if (opts.afterMs && opts.afterMs > 0) {
      if (this.#answerTimer !== undefined) return;
      this.#answerTimer = this.ctx.clock.setTimeout(() => {
        this.#answerTimer = undefined;
        this.answer({ ...opts, afterMs: 0 });
      }, opts.afterMs);
      return;
    }
    const offer = this.remoteSdp;
    const answer = opts.sdp ?? (offer ? createAnswer(offer, this.ctx.media) : undefined);
    if (offer && !answer) {
      this.reject(Status.NotAcceptableHere);
      return;
    }
    const ok = createResponse(this.invite, Status.OK, undefined, { toTag: this.localTag });
    ok.append('Contact', this.ctx.contact);
    if (answer) {
      ok.append('Content-Type', 'application/sdp');
      ok.body = Buffer.from(answer);
    }
    if (this.dialog) this.dialog.confirm(ok);
    else this.dialog = Dialog.fromUas(this.invite, ok);
    this.state = 'answered';
    this.ctx.record('answered', { callId: this.callId });
    this.emit('answered', ok);
    this.sendSuccess(this.transaction, ok);
  }

  /** Rejects with a final non-2xx status (486 by default). */
  reject(status: number = Status.BusyHere, reason?: string): void {
    if (this.state === 'ended' || this.state === 'answered' || this.state === 'confirmed') return;
    this.#clearAnswerTimer();
    this.ctx.record('rejected', { callId: this.callId, status });
    this.transaction.respond(createResponse(this.invite, status, reason, { toTag: this.localTag }));
    this.end({ by: 'local', reason: 'rejected', status });
  }

  /** The caller cancelled (§9.2): answer the INVITE with 487 and end. */
  handleCancel(): void {
    if (this.state === 'ended') return;
    this.#clearAnswerTimer();
    this.ctx.record('cancelled', { callId: this.callId });
    this.transaction.respond(createResponse(this.invite, Status.RequestTerminated, undefined, { toTag: this.localTag }));
    this.emit('cancelled');
    this.end({ by: 'remote', reason: 'cancelled', status: Status.RequestTerminated });
  }

  #clearAnswerTimer(): void {
    if (this.#answerTimer !== undefined) this.ctx.clock.clearTimeout(this.#answerTimer);
    this.#answerTimer = undefined;
  }

  override dispose(): void {
    this.#clearAnswerTimer();
    super.dispose();
  }

  protected override end(info: Parameters<PhoneCall['end']>[0]): void {
    this.#clearAnswerTimer();
    super.end(info);
  }
}
