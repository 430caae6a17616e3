/**
 * The PBX answering a caller with its own media (voicemail, play, hold music): the call's media session accepts the
 * caller's offer, the caller gets our SDP, and the caller's later re-INVITEs (hold, a new address) are answered by the
 * session as the first offer was. A callee rung afterwards is offered that session (`Call.calleeOffer`) and bridged
 * to the caller through it. One answer per call: concurrent requests share it; a failed one may be tried again.
 */
import type { Logger } from '../../common/index.js';
import type { MediaSession } from '../../media/index.js';
import { Status } from '../../sip/syntax.js';
import type { SrfDialog, SrfRequest, SrfResponse } from '../srf-types.js';
import type { CallMedia } from './call-media.js';
import type { CallerSide } from './caller-side.js';

/** What the answer needs of its call (Call passes closures over its own state). */
export interface PbxAnswerHost {
  caller(): CallerSide | null;
  ending(): boolean;
  log(): Logger;
  /** The call's media seam, made on first use; null without a media layer. */
  media(): CallMedia | null;
  /** The call's status at its end unless a user answers (voicemail). */
  recordStatus(status: string): void;
  /** The caller is answered on `dialog`: its leg, `status`, its BYE, and the call connected (saved, maximum duration). */
  answered(dialog: SrfDialog, status: string | null): void;
  /** The caller left before the answer reached it. */
  callerGone(): void;
}

export class PbxAnswer {
  readonly #host: PbxAnswerHost;
  #session: MediaSession | null = null;
  #answering: Promise<MediaSession | null> | null = null;

  constructor(host: PbxAnswerHost) {
    this.#host = host;
  }

  /** The session the PBX answered the caller on, once it did. */
  get session(): MediaSession | null {
    return this.#session;
  }

  /** Settles when an answer on its way is done (an offer to a callee waits for it); at once when there is none. */
  async settled(): Promise<void> {
    if (this.#answering) await this.#answering;
  }

  /** Answers the caller (idempotent); null when there is no media layer, no offer, a refusal, or the caller left. */
  answer(status: string | null): Promise<MediaSession | null> {
    if (this.#session) {
      if (status !== null) this.#host.recordStatus(status);
      return Promise.resolve(this.#session);
    }
    if (!this.#answering) {
      const answering = this.#answer(status);
      this.#answering = answering;
      const forget = (): void => { if (this.#answering === answering) this.#answering = null; };
      void answering.then((s) => { if (!s) forget(); }, forget);
    }
    return this.#answering;
  }

  async #answer(status: string | null): Promise<MediaSession | null> {
    const host = this.#host;
    const caller = host.caller();
    const offer = caller?.offer;
    if (!caller || offer === undefined || host.ending() || caller.dialog) return null;
    const media = host.media();
    const accepted = media ? await media.acceptCaller(offer) : null;
    if (!accepted || host.ending()) return null;
    let dialog: SrfDialog;
    try {
      dialog = await caller.answer(accepted.sdp);
    } catch (err) {
      host.log().info({ err: String(err) }, 'caller gone before the PBX answered');
      host.callerGone();
      return null;
    }
    dialog.on('modify', (req: SrfRequest, res: SrfResponse) => {
      const body = req.body ? req.body : undefined;
      (body === undefined ? Promise.resolve(dialog.local.sdp) : accepted.session.accept('caller', body))
        .then((sdp) => res.send(Status.OK, { body: sdp, headers: { 'Content-Type': 'application/sdp' } }))
        .catch((err: unknown) => {
          host.log().info({ err: String(err) }, 're-INVITE to the PBX refused');
          res.send(Status.NotAcceptableHere);
        });
    });
    host.answered(dialog, status);
    if (host.ending()) return null;
    this.#session = accepted.session;
    return accepted.session;
  }
}
