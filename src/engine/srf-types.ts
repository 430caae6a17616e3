/**
 * The slice of the drachtio-srf API the engine uses, declared structurally so the engine compiles against
 * exactly what it needs (DESIGN.md §1: srf's bundled typings are incomplete; `types/drachtio-srf.d.ts` is the
 * project-wide correction, this is the engine's narrow view of it). Both drachtio-lite and a real
 * drachtio-server sit behind these objects.
 */

/** A parsed name-addr header as srf returns it from `getParsedHeader('from' | 'to')`. */
export interface SrfNameAddr {
  name?: string;
  uri: string;
  params: Record<string, string | undefined>;
}

/** A SIP request as srf hands it to a route handler, or as `cbRequest` reports it after sending. */
export interface SrfRequest {
  method: string;
  uri: string;
  body: string;
  get(name: string): string | undefined;
  has(name: string): boolean;
  getParsedHeader(name: string): any;
  /** Where the request came from (network requests only). */
  source_address: string;
  source_port: number;
  protocol: string;
  callingNumber?: string;
  calledNumber?: string;
  stackTxnId?: string;
  on(event: 'cancel', fn: () => void): this;
  on(event: 'response', fn: (res: SrfResponseMsg) => void): this;
  on(event: string, fn: (...args: any[]) => void): this;
  /** Only on a request the application sent (`cbRequest`). */
  cancel(opts?: Record<string, unknown>, cb?: (err: unknown) => void): void;
}

/** A SIP response the network sent us (e.g. a provisional in `cbProvisional`). */
export interface SrfResponseMsg {
  status: number;
  reason?: string;
  body?: string;
  get(name: string): string | undefined;
  has(name: string): boolean;
}

/** The response object of a network request: the way we answer it. */
export interface SrfResponse {
  /** `fnPrack`: for a reliable provisional (`Require: 100rel`), called when the peer's PRACK arrives. */
  send(status: number, opts?: { headers?: Record<string, string>; body?: string }, cb?: (err: unknown, msg?: unknown) => void, fnPrack?: (prack: SrfRequest) => void): void;
  send(status: number, reason: string, opts?: { headers?: Record<string, string>; body?: string }, cb?: (err: unknown, msg?: unknown) => void): void;
  readonly finalResponseSent?: boolean;
}

/** A SIP message srf keeps on a dialog: its INVITE (`req`) and 2xx (`res`). */
export interface SrfDialogMessage {
  get(name: string): string | undefined;
  uri?: string;
  source_address?: string;
  source_port?: number;
  protocol?: string;
}

/** An established SIP dialog (a Leg after answer). */
export interface SrfDialog {
  readonly id: string;
  /** uac: we sent the INVITE; uas: we answered it. */
  readonly type?: 'uac' | 'uas';
  /** The dialog's INVITE (as sent, for uac) and its 2xx: what crash recovery saves to rebuild a BYE. */
  readonly req?: SrfDialogMessage;
  readonly res?: SrfDialogMessage;
  sip: { callId: string; localTag: string; remoteTag: string };
  local: { uri: string; sdp: string; contact?: string };
  remote: { uri: string; sdp: string };
  connected?: boolean;
  destroy(opts?: { headers?: Record<string, string> }): Promise<unknown>;
  modify(sdp: string, opts?: Record<string, unknown>): Promise<string>;
  /** Sends a request in the dialog (INFO, UPDATE, NOTIFY, REFER…); resolves with the final response. */
  request(opts: { method: string; headers?: Record<string, string>; body?: string }): Promise<SrfResponseMsg>;
  on(event: 'destroy', fn: (req?: SrfRequest) => void): this;
  on(event: 'modify', fn: (req: SrfRequest, res: SrfResponse) => void): this;
  on(event: string, fn: (...args: any[]) => void): this;
  removeAllListeners?(event?: string): this;
}

/** The result of a 3PCC `createUAC` with `noAck: true` and no local SDP (drachtio-srf 5). */
export interface SrfNoAckResult {
  sdp: string;
  ack(localSdp: string): Promise<SrfDialog>;
  destroy?(): Promise<void>;
}

/** Options of `createUAC` the engine uses. */
export interface SrfUacOptions {
  headers?: Record<string, string>;
  localSdp?: string;
  /** Send to this address instead of the Request-URI's host (`sip:addr:port;transport=udp`). */
  proxy?: string;
  auth?: { username: string; password: string };
  noAck?: boolean;
}

/** Progress callbacks of `createUAC`; srf calls `cbRequest(err, req)` (its typings say `(req)`). */
export interface SrfUacCallbacks {
  cbRequest?: (err: unknown, req: SrfRequest) => void;
  cbProvisional?: (res: SrfResponseMsg) => void;
}

/** A route handler: srf calls it with (req, res, next). */
export type SrfHandler = (req: SrfRequest, res: SrfResponse, next?: () => void) => void;

/** The srf application object. */
export interface SrfLike {
  invite(handler: SrfHandler): void;
  register(handler: SrfHandler): void;
  options(handler: SrfHandler): void;
  createUAS(req: SrfRequest, res: SrfResponse, opts: { localSdp?: string; headers?: Record<string, string> }): Promise<SrfDialog>;
  createUAC(uri: string, opts: SrfUacOptions, callbacks?: SrfUacCallbacks): Promise<SrfDialog>;
  /** A request outside any dialog srf knows (crash recovery's BYE carries the saved dialog's identifiers). */
  request(uri: string, opts: { method: string; headers?: Record<string, string>; proxy?: string }, cb: (err: unknown, req: SrfRequest) => void): unknown;
}

/** srf's `SipError`: a final non-2xx response to a UAC request. */
export interface SipErrorLike {
  status: number;
  reason?: string;
}

/** True when `e` is srf's SipError (it carries the final status). */
export function isSipError(e: unknown): e is SipErrorLike {
  return typeof e === 'object' && e !== null && typeof (e as { status?: unknown }).status === 'number';
}
