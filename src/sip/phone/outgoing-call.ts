/**
 * An outgoing test-phone call (UAC): INVITE with a G.711 offer, digest retry on 401/407, early dialogs, ACK for
 * 2xx (and again for retransmitted 2xx), CANCEL (§9.1) and a BYE for a 2xx that arrives after CANCEL.
 * Events: `progress` (101-199), `answered` (2xx), `failed` ({ status, reason }), `ended`.
 */
import { SipRequest, type Endpoint, type HeaderField, type SipResponse } from '../message.js';
import { computeAuthorization } from '../digest.js';
import { Dialog } from '../dialog.js';
import { generateCallId, generateTag, getTag } from '../headers.js';
import type { ClientTransaction } from '../stack.js';
import { cseqNumber } from '../transaction/layer.js';
import { PhoneCall, type PhoneContext } from './phone-call.js';
import { createOffer } from './sdp.js';

/** Options of `TestPhone.call`. */
export interface CallOptions {
  headers?: HeaderField[] | Record<string, string>;
  /** SDP offer; default a G.711 offer. Pass '' for an offer-less INVITE. */
  sdp?: string;
  /** Where to send the INVITE; default the phone's registrar/outbound proxy. */
  destination?: Endpoint;
}

/** An outgoing call. */
export class OutgoingCall extends PhoneCall {
  readonly target: string;
  readonly localTag = generateTag();
  readonly #opts: CallOptions;
  readonly #destination: Endpoint;
  #cseq = 0;
  #invite: SipRequest | undefined;
  #txn: ClientTransaction | undefined;
  #authTried = false;
  #cancelRequested = false;
  #cancelSent = false;
  #gotProvisional = false;
  /** Early dialogs by To tag (forking). */
  readonly #early = new Map<string, Dialog>();
  /** The final response, once received. */
  finalResponse: SipResponse | undefined;

  constructor(ctx: PhoneContext, target: string, opts: CallOptions = {}) {
    super(ctx, generateCallId(), 'calling');
    this.target = target;
    this.#opts = opts;
    this.#destination = opts.destination ?? ctx.outbound;
  }

  /** The INVITE currently in progress. */
  get invite(): SipRequest | undefined {
    return this.#invite;
  }

  /** Sends the INVITE (called by the phone). */
  start(authorization?: { header: string; value: string }): void {
    const inv = new SipRequest('INVITE', this.target);
    inv.append('From', `<${this.ctx.aor}>;tag=${this.localTag}`);
    inv.append('To', `<${this.target}>`);
    inv.append('Call-ID', this.callId);
    inv.append('CSeq', `${++this.#cseq} INVITE`);
    inv.append('Contact', this.ctx.contact);
    inv.append('Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE');
    if (authorization) inv.append(authorization.header, authorization.value);
    const extra = this.#opts.headers;
    if (Array.isArray(extra)) for (const h of extra) inv.append(h.name, h.value);
    else if (extra) for (const [name, value] of Object.entries(extra)) inv.append(name, value);
    const sdp = this.#opts.sdp ?? createOffer(this.ctx.media);
    if (sdp) {
      inv.append('Content-Type', 'application/sdp');
      inv.body = Buffer.from(sdp);
    }
    this.#invite = inv;
    this.#gotProvisional = false;
    const txn = this.ctx.stack.sendRequest(inv, { destination: this.#destination });
    this.#txn = txn;
    this.ctx.record('invite-sent', { callId: this.callId, target: this.target, cseq: this.#cseq });
    txn.on('response', (res: SipResponse) => this.#onResponse(res, inv));
    txn.on('timeout', () => this.#fail(408, 'timeout'));
    txn.on('transport-error', (err: Error) => this.#fail(503, `transport error: ${err.message}`));
  }

  #onResponse(res: SipResponse, inv: SipRequest): void {
    if (inv !== this.#invite) return;
    this.ctx.record('response', { callId: this.callId, status: res.status, method: 'INVITE' });
    if (res.status < 200) {
      this.#gotProvisional = true;
      const tag = getTag(res.get('to') ?? '');
      if (tag && res.status > 100 && !this.#early.has(tag)) {
        const d = Dialog.fromUac(inv, res);
        this.#early.set(tag, d);
        this.dialog ??= d;
      }
      if (res.status > 100 && this.state === 'calling') this.state = 'early';
      if (res.body.length) this.remoteSdp = res.body.toString('utf8');
      if (res.status > 100) this.emit('progress', res);
      if (this.#cancelRequested) this.#sendCancel();
      return;
    }
    if (res.status < 300) return this.#on2xx(res, inv);
    if ((res.status === 401 || res.status === 407) && !this.#authTried && this.ctx.password !== undefined && !this.#cancelRequested) {
      // §22.2 / §22.3: retry with credentials, same Call-ID and From tag, CSeq one higher.
      this.#authTried = true;
      const challenge = res.get(res.status === 401 ? 'www-authenticate' : 'proxy-authenticate');
      if (challenge) {
        const value = computeAuthorization(challenge, {
          username: this.ctx.username, password: this.ctx.password, method: 'INVITE', uri: inv.uri,
        });
        this.ctx.record('auth-retry', { callId: this.callId, status: res.status });
        this.start({ header: res.status === 401 ? 'Authorization' : 'Proxy-Authorization', value });
        return;
      }
    }
    this.finalResponse = res;
    this.#fail(res.status, res.reason);
  }

  #on2xx(res: SipResponse, inv: SipRequest): void {
    const tag = getTag(res.get('to') ?? '') ?? '';
    const alreadyAnswered = this.finalResponse !== undefined && this.finalResponse.status < 300;
    if (alreadyAnswered) {
      // §13.2.2.4: a retransmitted 2xx gets the same ACK again (a 2xx from another fork would get ACK + BYE).
      if (this.dialog && tag === this.dialog.remoteTag) this.sendAck(cseqNumber(inv));
      return;
    }
    this.finalResponse = res;
    const early = this.#early.get(tag);
    if (early) {
      early.confirm(res);
      this.dialog = early;
    } else {
      this.dialog = Dialog.fromUac(inv, res);
    }
    if (res.body.length) this.remoteSdp = res.body.toString('utf8');
    this.sendAck(cseqNumber(inv));
    if (this.state === 'ended' || this.#cancelRequested) {
      // §9.1: the CANCEL lost the race; the call is up, so hang it up.
      this.state = 'confirmed';
      void this.bye();
      return;
    }
    this.state = 'confirmed';
    this.ctx.record('answered', { callId: this.callId });
    this.emit('answered', res);
  }

  /** A 2xx retransmission that matched no transaction (the INVITE client transaction already ended). */
  handleStray2xx(res: SipResponse): void {
    const inv = this.#invite;
    if (inv && cseqNumber(res) === cseqNumber(inv)) this.#on2xx(res, inv);
  }

  #fail(status: number, reason: string): void {
    if (this.state === 'ended') return;
    this.ctx.record('failed', { callId: this.callId, status, reason });
    this.emit('failed', { status, reason });
    this.end({ by: this.#cancelRequested ? 'local' : status === 408 || status === 503 ? 'error' : 'remote', reason: this.#cancelRequested ? 'cancelled' : reason, status });
  }

  /**
   * Cancels the call (§9.1): "a CANCEL request SHOULD NOT be sent to cancel a request ... unless a provisional
   * response has been received", so it waits for one if needed.
   */
  cancel(): void {
    if (this.state === 'ended' || this.state === 'confirmed') return;
    this.#cancelRequested = true;
    if (this.#gotProvisional) this.#sendCancel();
  }

  #sendCancel(): void {
    const inv = this.#invite;
    if (!inv || this.#cancelSent || !this.#txn || this.#txn.state === 'terminated') return;
    this.#cancelSent = true;
    // §9.1: same Request-URI, Call-ID, To, From, CSeq number and top Via (branch) as the INVITE; method CANCEL.
    const cancel = new SipRequest('CANCEL', inv.uri);
    const via = inv.getAll('via')[0];
    if (via) cancel.append('Via', via);
    for (const r of inv.getAll('route')) cancel.append('Route', r);
    cancel.append('From', inv.get('from')!);
    cancel.append('To', inv.get('to')!);
    cancel.append('Call-ID', this.callId);
    cancel.append('CSeq', `${cseqNumber(inv)} CANCEL`);
    cancel.append('Max-Forwards', '70');
    this.ctx.record('cancel-sent', { callId: this.callId });
    this.ctx.stack.sendRequest(cancel, { destination: this.#destination });
  }
}
