/**
 * The party a call is for: the caller's INVITE (a UAS transaction, answered with `createUAS`) or, for
 * click-to-call, the user's answered device. Flow handlers talk to it only through {@link CallerSide}.
 */
import type { Logger } from '../../common/log.js';
import { Status } from '../sip-status.js';
import type { SrfDialog, SrfLike, SrfRequest, SrfResponse } from '../srf-types.js';
import type { Leg } from './leg.js';

/** What a flow can do with the caller. */
export interface CallerSide {
  readonly leg: Leg;
  /** The caller's SDP offer (undefined when the caller sent none). */
  readonly offer: string | undefined;
  /** The caller's dialog once answered. */
  readonly dialog: SrfDialog | null;
  /** Sends 180 Ringing once (no-op after an answer). */
  ringing(): void;
  /** Answers with `sdp`; rejects when the caller has gone (CANCEL raced the answer). */
  answer(sdp: string): Promise<SrfDialog>;
  /** Sends a final failure if nothing final was sent yet. */
  reject(status: number): void;
}

/** A caller that sent us an INVITE. */
export class UasCallerSide implements CallerSide {
  readonly leg: Leg;
  readonly #srf: SrfLike;
  readonly #req: SrfRequest;
  readonly #res: SrfResponse;
  readonly #log: Logger;
  #final = false;
  #ringing = false;
  #dialog: SrfDialog | null = null;

  constructor(opts: { srf: SrfLike; req: SrfRequest; res: SrfResponse; leg: Leg; log: Logger }) {
    this.#srf = opts.srf;
    this.#req = opts.req;
    this.#res = opts.res;
    this.leg = opts.leg;
    this.#log = opts.log;
  }

  get offer(): string | undefined {
    return this.#req.body ? this.#req.body : undefined;
  }

  get dialog(): SrfDialog | null {
    return this.#dialog;
  }

  /** Marks the request as answered by the network (CANCEL already got its 487 from the server). */
  cancelled(): void {
    this.#final = true;
  }

  ringing(): void {
    if (this.#ringing || this.#final) return;
    this.#ringing = true;
    this.#send(Status.Ringing);
  }

  async answer(sdp: string): Promise<SrfDialog> {
    if (this.#final) throw new Error('caller already has a final response');
    this.#final = true;
    this.#dialog = await this.#srf.createUAS(this.#req, this.#res, { localSdp: sdp, headers: { 'Content-Type': 'application/sdp' } });
    return this.#dialog;
  }

  reject(status: number): void {
    if (this.#final) return;
    this.#final = true;
    this.#send(status);
  }

  #send(status: number, headers: Record<string, string> = {}): void {
    try {
      this.#res.send(status, { headers });
    } catch (err) {
      this.#log.debug({ err, status }, 'response to caller not sent');
    }
  }
}

/** A caller that is already an answered dialog (click-to-call: the user's device). */
export class DialogCallerSide implements CallerSide {
  readonly leg: Leg;
  readonly offer: string | undefined;
  readonly dialog: SrfDialog;

  constructor(leg: Leg, dialog: SrfDialog) {
    this.leg = leg;
    this.dialog = dialog;
    this.offer = dialog.remote.sdp || undefined;
  }

  ringing(): void {}

  answer(): Promise<SrfDialog> {
    return Promise.resolve(this.dialog);
  }

  reject(): void {}
}
