/**
 * The engine's names for drachtio-srf's objects. The types themselves live in one place, `types/drachtio-srf.d.ts`
 * (the project-wide correction of srf's bundled typings, DESIGN.md §1); these are aliases, not a second copy.
 * Both drachtio-lite and a real drachtio-server sit behind these objects.
 */

import type Srf from 'drachtio-srf';

/** A parsed name-addr (`getParsedHeader('from')`). */
export type SrfNameAddr = Srf.AOR;
/** A request handed to a route handler, or one the engine sent (`cbRequest`). */
export type SrfRequest = Srf.SrfRequest;
/** A response the network sent us (a provisional in `cbProvisional`, a SipError's `res`). */
export type SrfResponseMsg = Srf.SrfResponse;
/** The response object paired with a network request. */
export type SrfResponse = Srf.SrfResponse;
/** A dialog's INVITE or 2xx as srf keeps them. */
export type SrfDialogMessage = Srf.SipMessage;
/** An established SIP dialog (a Leg after answer). */
export type SrfDialog = Srf.Dialog;
export type SrfUacOptions = Srf.CreateUACOptions;
export type SrfUacCallbacks = Srf.ProgressCallbacks;
export type SrfHandler = Srf.RequestHandler;
/** The srf application object. */
export type SrfLike = Srf;

/** The result of a 3PCC `createUAC` with `noAck: true` and no local SDP (drachtio-srf 5). */
export type SrfNoAckResult = Srf.ThirdPartyCallPending;

/** srf's `SipError`: a final non-2xx response to a UAC request. */
export interface SipErrorLike {
  status: number;
  reason?: string;
}

/** True when `e` is srf's SipError (it carries the final status). */
export function isSipError(e: unknown): e is SipErrorLike {
  return typeof e === 'object' && e !== null && typeof (e as { status?: unknown }).status === 'number';
}
