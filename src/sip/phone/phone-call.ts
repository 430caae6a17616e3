/**
 * What outgoing and incoming test-phone calls share: the phone context, the dialog, BYE, re-INVITE,
 * in-dialog request handling and the 2xx-until-ACK retransmission of the UAS side.
 */
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../../common/index.js';
import type { Endpoint, SipRequest, SipResponse } from '../message.js';
import { Dialog, SuccessRetransmitter } from '../dialog.js';
import { createResponse, Status } from '../status.js';
import type { SipStack, ServerTransaction } from '../stack.js';
import { cseqNumber } from '../transaction/layer.js';
import { createAnswer, type MediaAddress } from './sdp.js';

/** What a call needs from its phone. */
export interface PhoneContext {
  readonly stack: SipStack;
  readonly clock: Clock;
  readonly t1: number;
  readonly t2: number;
  readonly username: string;
  readonly password: string | undefined;
  /** `sip:user@domain` */
  readonly aor: string;
  /** Our Contact header value (`<sip:user@ip:port;transport=…>`). */
  readonly contact: string;
  /** Where out-of-dialog requests go by default (the registrar / outbound proxy). */
  readonly outbound: Endpoint;
  readonly media: MediaAddress;
  record(kind: string, detail?: unknown): void;
  forget(call: PhoneCall): void;
}

/** Why a call ended. */
export interface EndInfo {
  by: 'local' | 'remote' | 'error';
  reason: string;
  status?: number;
}

/** Call states shared by both directions. */
export type CallState = 'calling' | 'early' | 'ringing' | 'answered' | 'confirmed' | 'ended';

/** Base class of {@link OutgoingCall} and {@link IncomingCall}. Events: `ended`, `reinvite`, `request`. */
export abstract class PhoneCall extends EventEmitter {
  readonly callId: string;
  /** Our tag in this call's dialog (From tag when we called, To tag when we answered). */
  abstract readonly localTag: string;
  protected readonly ctx: PhoneContext;
  dialog: Dialog | undefined;
  state: CallState;
  endInfo: EndInfo | undefined;
  /** Remote SDP from the last offer or answer. */
  remoteSdp: string | undefined;
  #retransmitter: SuccessRetransmitter | undefined;
  #retransmitCSeq = -1;

  protected constructor(ctx: PhoneContext, callId: string, state: CallState) {
    super();
    this.ctx = ctx;
    this.callId = callId;
    this.state = state;
  }

  /** Resolves with the first emission of `event`, rejects after `timeoutMs` (real or injected clock). */
  waitFor<T = unknown>(event: string, timeoutMs = 5000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let handle: TimerHandle | undefined;
      const on = (arg: T): void => {
        if (handle !== undefined) this.ctx.clock.clearTimeout(handle);
        resolve(arg);
      };
      this.once(event, on);
      handle = this.ctx.clock.setTimeout(() => {
        this.off(event, on);
        reject(new Error(`${this.callId}: no '${event}' within ${timeoutMs} ms (state ${this.state})`));
      }, timeoutMs);
    });
  }

  /** Drops the call silently (phone shutdown): timers stop, nothing is sent. */
  dispose(): void {
    this.#retransmitter?.stop();
    this.state = 'ended';
    this.removeAllListeners();
  }

  /** Marks the call ended (idempotent) and tells listeners. */
  protected end(info: EndInfo): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.endInfo = info;
    this.#retransmitter?.stop();
    this.dialog?.terminate();
    this.ctx.record('ended', { callId: this.callId, ...info });
    this.ctx.forget(this);
    this.emit('ended', info);
  }

  /** Sends BYE and ends the call; resolves with the BYE's final response (or undefined on timeout). */
  bye(): Promise<SipResponse | undefined> {
    const d = this.dialog;
    if (!d || this.state === 'ended' || d.state === 'terminated') return Promise.resolve(undefined);
    const req = d.createRequest('BYE');
    this.ctx.record('bye-sent', { callId: this.callId });
    this.end({ by: 'local', reason: 'bye' });
    return this.#send(req);
  }

  /** Sends a re-INVITE with `sdp`; on 2xx ACKs it and updates the remote target. Resolves with the final response. */
  async reinvite(sdp: string): Promise<SipResponse | undefined> {
    const d = this.dialog;
    if (!d || this.state === 'ended') throw new Error(`call ${this.callId} has no confirmed dialog`);
    const req = d.createRequest('INVITE', { body: sdp, headers: { 'Content-Type': 'application/sdp' } });
    this.ctx.record('reinvite-sent', { callId: this.callId });
    const res = await this.#send(req);
    if (res && res.status >= 200 && res.status < 300) {
      d.updateRemoteTarget(res);
      if (res.body.length) this.remoteSdp = res.body.toString('utf8');
      this.sendAck(cseqNumber(req));
    }
    return res;
  }

  /** Sends a request in the dialog and resolves with its final response (undefined on timeout/transport error). */
  #send(req: SipRequest): Promise<SipResponse | undefined> {
    const txn = this.ctx.stack.sendRequest(req);
    return new Promise((resolve) => {
      txn.on('response', (res: SipResponse) => { if (res.status >= 200) resolve(res); });
      txn.on('timeout', () => resolve(undefined));
      txn.on('transport-error', () => resolve(undefined));
    });
  }

  /** Sends the ACK for the 2xx to the INVITE with CSeq `inviteCSeq` (§13.2.2.4). */
  protected sendAck(inviteCSeq: number): void {
    const d = this.dialog;
    if (!d) return;
    const ack = d.createAck(inviteCSeq);
    const dest = this.ctx.stack.resolveDestination(ack);
    if (!dest) return;
    this.ctx.record('ack-sent', { callId: this.callId, cseq: inviteCSeq });
    this.ctx.stack.sendStateless(ack, dest).catch((err: Error) => this.ctx.record('error', { callId: this.callId, error: err.message }));
  }

  /**
   * UAS side of a 2xx to an INVITE: sends it on `txn` and keeps retransmitting (T1 doubling to T2) until the ACK
   * arrives; after 64*T1 without ACK it sends BYE (§13.3.1.4).
   */
  protected sendSuccess(txn: ServerTransaction, ok: SipResponse): void {
    txn.respond(ok);
    this.#retransmitter?.stop();
    this.#retransmitCSeq = cseqNumber(ok);
    this.#retransmitter = new SuccessRetransmitter({
      clock: this.ctx.clock, t1: this.ctx.t1, t2: this.ctx.t2,
      resend: () => {
        if (txn.state !== 'terminated') {
          this.ctx.record('2xx-retransmit', { callId: this.callId });
          txn.respond(ok);
        }
      },
      onTimeout: () => {
        this.ctx.record('ack-timeout', { callId: this.callId });
        this.emit('ack-timeout');
        void this.bye();
      },
    });
  }

  /** An ACK for one of our 2xx arrived (no transaction). */
  handleAck(ack: SipRequest): void {
    if (cseqNumber(ack) === this.#retransmitCSeq) this.#retransmitter?.ackReceived();
    if (ack.body.length) this.remoteSdp = ack.body.toString('utf8');
    this.ctx.record('ack', { callId: this.callId });
    if (this.state === 'answered') this.state = 'confirmed';
    this.emit('confirmed');
  }

  /** A request inside this call's dialog (BYE, re-INVITE, INFO, …). */
  handleInDialog(req: SipRequest, txn: ServerTransaction): void {
    const d = this.dialog;
    if (!d) {
      txn.respond(createResponse(req, Status.CallTransactionDoesNotExist));
      return;
    }
    const check = d.receiveRequest(req);
    if (!check.ok) {
      txn.respond(createResponse(req, check.status, check.reason));
      return;
    }
    this.emit('request', req);
    switch (req.method) {
      case 'BYE':
        this.ctx.record('bye-received', { callId: this.callId });
        txn.respond(createResponse(req, Status.OK));
        this.end({ by: 'remote', reason: 'bye' });
        return;
      case 'INVITE': {
        this.ctx.record('reinvite', { callId: this.callId });
        const offer = req.body.toString('utf8');
        const answer = offer ? createAnswer(offer, this.ctx.media) : undefined;
        if (offer && !answer) {
          txn.respond(createResponse(req, Status.NotAcceptableHere));
          return;
        }
        if (offer) this.remoteSdp = offer;
        const ok = createResponse(req, Status.OK);
        ok.append('Contact', this.ctx.contact);
        if (answer) {
          ok.append('Content-Type', 'application/sdp');
          ok.body = Buffer.from(answer);
        }
        this.emit('reinvite', req);
        this.sendSuccess(txn, ok);
        return;
      }
      default:
        txn.respond(createResponse(req, Status.OK));
    }
  }
}
