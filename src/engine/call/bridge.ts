/**
 * The bridge of a connected call (the Call owns it, STYLE.md §6): the caller's and the callee's dialogs relayed to
 * each other (re-INVITE, INFO, UPDATE; through the call's media session when it is anchored), a BYE from either
 * ending the call while that dialog is still in it. Transfers (transfer.ts) replace a party, or detach one for another
 * call to take over (attended transfer).
 */
import type { Logger } from '../../common/index.js';
import type { SrfDialog } from '../srf-types.js';
import type { CallMedia } from './call-media.js';
import { DialogCallerSide, type CallerSide } from './caller-side.js';
import { relayBridge, stopRelaying } from './in-dialog-relay.js';
import type { Leg } from './leg.js';

export type Party = 'caller' | 'callee';

/** What the bridge needs of its call (Call passes closures over its own state). */
export interface BridgeHost {
  caller(): CallerSide;
  attachCaller(caller: CallerSide): void;
  connected(): boolean;
  bye(party: Party): void;
  /** A newcomer's dialog is answered: saved for crash recovery. */
  answered(leg: Leg, dialog: SrfDialog): void;
  log(): Logger;
  /** Each dialog bridged (again after a replacement): transfers listen for REFER there. */
  bridged?: ((dialog: SrfDialog) => void) | undefined;
}

export class Bridge {
  readonly #host: BridgeHost;
  #callee: { dialog: SrfDialog; leg: Leg };
  #media: CallMedia | null;
  /** True while a transfer of this call is under way: a second REFER (or Replaces) meanwhile gets 491. */
  transferring = false;
  /** Dialogs that moved to another call (attended transfer): no longer relayed nor hung up by this one. */
  readonly #detached = new Set<SrfDialog>();

  constructor(host: BridgeHost, callee: { dialog: SrfDialog; leg: Leg }, media: CallMedia | null) {
    this.#host = host;
    this.#callee = callee;
    this.#media = media;
    this.#relay();
  }

  /** The callee's dialog and leg. */
  get callee(): { dialog: SrfDialog; leg: Leg } {
    return this.#callee;
  }

  /**
   * The media session the bridged dialogs' SDP goes through (a recorded call), or null (SDP passes through). A
   * transfer offers the new far party from it, so the media (and the recording) stay on the session.
   */
  get media(): CallMedia | null {
    return this.#media;
  }

  /** True once `dialog` left for another call: this one must not hang it up. */
  isDetached(dialog: SrfDialog): boolean {
    return this.#detached.has(dialog);
  }

  /** Which bridged party is on `dialog` (null: neither, or the call is no longer connected). */
  partyOf(dialog: SrfDialog): Party | null {
    if (!this.#host.connected() || this.#detached.has(dialog)) return null;
    return this.#host.caller().dialog === dialog ? 'caller' : this.#callee.dialog === dialog ? 'callee' : null;
  }

  /** The dialog and leg of a bridged party. */
  party(party: Party): { dialog: SrfDialog; leg: Leg } {
    if (party === 'callee') return this.#callee;
    const caller = this.#host.caller();
    return { dialog: caller.dialog!, leg: caller.leg };
  }

  /**
   * A transfer: `dialog` on `leg` takes `party`'s place. The old party's dialog is the call's no more (its BYE no
   * longer ends the call); the party who stays is bridged to the newcomer. `anchored`: the newcomer's SDP went through
   * the media session, which goes on (and its recording); otherwise the two talk directly, re-INVITEs relayed as they are.
   */
  replace(party: Party, dialog: SrfDialog, leg: Leg, anchored = false): void {
    stopRelaying(this.party(party === 'caller' ? 'callee' : 'caller').dialog);
    if (party === 'caller') this.#host.attachCaller(new DialogCallerSide(leg, dialog));
    else this.#callee = { dialog, leg };
    leg.mediaAnchored = anchored && this.#media !== null;
    if (!leg.mediaAnchored) this.#media = null;
    this.#relay();
    this.#host.answered(leg, dialog);
    if (dialog.connected === false) this.#host.bye(party);
  }

  /**
   * Attended transfer: `party`'s dialog leaves for another call, which takes it over. This call stops relaying between
   * its two dialogs and will not hang that one up; it is expected to end next (its end still closes the party's leg
   * and user touch here, as the party leaving this call).
   */
  detach(party: Party): SrfDialog {
    const { dialog } = this.party(party);
    stopRelaying(dialog, this.party(party === 'caller' ? 'callee' : 'caller').dialog);
    this.#detached.add(dialog);
    return dialog;
  }

  #relay(): void {
    const a = this.#host.caller().dialog!;
    const b = this.#callee.dialog;
    a.on('destroy', () => { if (this.#host.caller().dialog === a && !this.#detached.has(a)) this.#host.bye('caller'); });
    b.on('destroy', () => { if (this.#callee.dialog === b && !this.#detached.has(b)) this.#host.bye('callee'); });
    relayBridge(a, b, this.#media, this.#host.log());
    this.#host.bridged?.(a);
    this.#host.bridged?.(b);
  }
}
