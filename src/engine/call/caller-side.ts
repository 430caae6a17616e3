/**
 * The party a call is for: the caller's INVITE (a UAS transaction, answered with `createUAS`) or, for
 * click-to-call, the user's answered device. Flow handlers talk to it only through {@link CallerSide}.
 */
import type { Logger } from '../../common/index.js';
import { Status } from '../../sip/syntax.js';
import type { SrfDialog, SrfLike, SrfRequest, SrfResponse } from '../srf-types.js';
import type { Leg } from './leg.js';
import type { SessionTimersConfig } from '../../config/index.js';
import { callerAnswerHeaders } from './session-timer.js';
import { ProvisionalRepeater } from './provisional-repeat.js';
import type { Clock } from '../../common/index.js';

/** What a flow can do with the caller. */
export interface CallerSide {
  readonly leg: Leg;
  /** The caller's SDP offer (undefined when the caller sent none). */
  readonly offer: string | undefined;
  /** The caller's dialog once answered. */
  readonly dialog: SrfDialog | null;
  /** Sends 180 Ringing once (no-op after an answer). */
  ringing(): void;
  /** Early media: 183 Session Progress with the callee's early SDP, once (the first one wins). */
  progress(sdp: string): void;
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
  readonly #sessionTimers: SessionTimersConfig;
  #final = false;
  #ringing = false;
  #progress = false;
  #dialog: SrfDialog | null = null;
  /** RFC 3262: the caller's PRACK for our last reliable provisional; the next reliable one and the 2xx wait for it. */
  #prack: Promise<void> = Promise.resolve();
  #prackDone: (() => void) | null = null;
  /** RFC 3261 §13.3.1.1: the last provisional again every `provisionalIntervalMs` until the final response. */
  readonly #repeater: ProvisionalRepeater | undefined;

  constructor(opts: {
    srf: SrfLike; req: SrfRequest; res: SrfResponse; leg: Leg; log: Logger; sessionTimers: SessionTimersConfig;
    /** With `provisionalIntervalMs`: repeat the last 180/183 while the caller waits (config `sip.provisional_interval_s`). */
    clock?: Clock; provisionalIntervalMs?: number;
  }) {
    this.#sessionTimers = opts.sessionTimers;
    if (opts.clock && opts.provisionalIntervalMs) this.#repeater = new ProvisionalRepeater({ clock: opts.clock, intervalMs: opts.provisionalIntervalMs, log: opts.log });
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
    this.#repeater?.stop();
    this.#prackDone?.();
  }

  ringing(): void {
    if (this.#ringing || this.#final) return;
    this.#ringing = true;
    const send = (): void => {
      // RFC 3262 §3: a caller that requires 100rel gets every provisional reliably.
      if (this.#reliable(false)) void this.#sendReliable(Status.Ringing, {});
      else this.#send(Status.Ringing);
    };
    send();
    this.#repeater?.sent(Status.Ringing, send);
  }

  progress(sdp: string): void {
    if (this.#progress || this.#final) return;
    this.#progress = true;
    const opts = { headers: { 'Content-Type': 'application/sdp' }, body: sdp };
    // Early media through a caller that offered 100rel goes reliably, so its answer is not lost (RFC 3262 §1).
    if (this.#reliable(true)) {
      void this.#sendReliable(Status.SessionProgress, opts);
      // The answer went reliably once; a repeat carries no SDP (a second body would read as a new offer).
      this.#repeater?.sent(Status.SessionProgress, () => void this.#sendReliable(Status.SessionProgress, {}));
    } else {
      this.#sendWith(Status.SessionProgress, opts);
      // Unreliable provisionals repeat the same answer (RFC 6337 §3.1.1): any one of them may be the one that arrives.
      this.#repeater?.sent(Status.SessionProgress, () => this.#sendWith(Status.SessionProgress, opts));
    }
  }

  async answer(sdp: string, headers: Record<string, string> = {}): Promise<SrfDialog> {
    if (this.#final) throw new Error('caller already has a final response');
    // No repeat may slip in between the last PRACK and the 2xx.
    this.#repeater?.stop();
    // RFC 3262 §3: a 2xx MUST NOT be sent before the PRACK of a reliable provisional that carried an answer.
    await this.#prack;
    if (this.#final) throw new Error('caller already has a final response');
    this.#final = true;
    this.#dialog = await this.#srf.createUAS(this.#req, this.#res, {
      localSdp: sdp, headers: { 'Content-Type': 'application/sdp', ...callerAnswerHeaders(this.#req, this.#sessionTimers), ...headers },
    });
    return this.#dialog;
  }

  /** Whether to send a provisional reliably: always when the caller requires 100rel, when it supports it only if `withSdp`. */
  #reliable(withSdp: boolean): boolean {
    const has = (h: string): boolean => (this.#req.get(h) ?? '').split(',').some((t) => t.trim().toLowerCase() === '100rel');
    return has('Require') || (withSdp && has('Supported'));
  }

  /** Sends one reliable provisional after the previous one's PRACK (§3: one outstanding at a time). */
  async #sendReliable(status: number, opts: { headers?: Record<string, string>; body?: string }): Promise<void> {
    const before = this.#prack;
    let done!: () => void;
    this.#prack = new Promise<void>((r) => { done = r; });
    await before;
    this.#prackDone = done;
    if (this.#final) return done();
    const headers = { ...opts.headers, Require: '100rel' };
    try {
      this.#res.send(status, { ...opts, headers }, (err: unknown) => {
        if (err) {
          this.#log.info({ err: String(err), status }, 'reliable provisional not sent');
          done();
        }
      }, () => done());
    } catch (err) {
      this.#log.debug({ err, status }, 'reliable provisional not sent');
      done();
    }
  }

  reject(status: number): void {
    if (this.#final) return;
    this.#final = true;
    this.#repeater?.stop();
    this.#send(status);
  }

  #send(status: number, headers: Record<string, string> = {}): void {
    this.#sendWith(status, { headers });
  }

  #sendWith(status: number, opts: { headers?: Record<string, string>; body?: string }): void {
    try {
      this.#res.send(status, opts);
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

  progress(): void {}

  answer(): Promise<SrfDialog> {
    return Promise.resolve(this.dialog);
  }

  reject(): void {}
}
