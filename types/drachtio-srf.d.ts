/**
 * Corrected typings for drachtio-srf 5.0.29 (pinned), the one place they live (DESIGN.md decision 1).
 *
 * The package's bundled `lib/@types/index.d.ts` is incomplete or wrong in places that matter to the engine:
 * `connect()` returns no promise, `cbRequest` is called `(err, req)`, `srf.register`/`srf.options`/… are
 * missing, the create* option bags lack fields, Dialog lacks `id`/`request()`/`destroy()` as promises, and
 * `SipError` is not exported. An ambient module declaration wins over the package's own types, so every
 * `import Srf from 'drachtio-srf'` in the project sees this file. Behaviour is described as read from
 * `node_modules/drachtio-srf/lib/*.js`.
 */
declare module 'drachtio-srf' {
  import type { EventEmitter } from 'node:events';
  import type { Socket } from 'node:net';

  namespace Srf {
    type SipMethod =
      | 'ACK' | 'BYE' | 'CANCEL' | 'INFO' | 'INVITE' | 'MESSAGE' | 'NOTIFY' | 'OPTIONS' | 'PRACK' | 'PUBLISH'
      | 'REFER' | 'REGISTER' | 'SUBSCRIBE' | 'UPDATE';

    /** Header name → value; drachtio-srf stores header names lower-cased (X- and P- names keep their case). */
    type SipMessageHeaders = Record<string, string>;

    /** A parsed name-addr (From, To, Contact entries, Refer-To, P-Asserted-Identity). */
    interface AOR {
      name?: string;
      uri: string;
      params: Record<string, string | undefined>;
    }

    interface Via {
      version: string;
      protocol: string;
      host: string;
      port?: number;
      params: Record<string, string | undefined>;
    }

    interface ParsedUri {
      family?: 'ipv4' | 'ipv6';
      scheme: 'sip' | 'sips' | 'tel';
      user?: string;
      password?: string;
      host?: string;
      port?: number;
      params: Record<string, string | undefined>;
      headers: Record<string, string>;
    }

    /** Connection options for `srf.connect()` (an inbound connection to a drachtio server). */
    interface ConnectOptions {
      host?: string;
      port?: number;
      secret: string;
      tags?: string[];
      /** Send `ping` every `pingInterval` ms (the server answers `pong`). */
      enablePing?: boolean;
      pingInterval?: number;
      reconnect?: { retryMaxDelay?: number | null; maxAttempts?: number; connectTimeout?: number };
      tls?: object;
    }

    /** Options for `srf.listen()` (the server connects outbound to the app). */
    interface ListenOptions {
      port: number;
      host?: string;
      secret: string;
    }

    /** The fields every drachtio-srf SIP message (request or response) shares. */
    interface SipMessage {
      readonly type: 'request' | 'response' | 'unknown';
      /** Message body; `''` when there is none. */
      body: string;
      payload: Array<{ type: string | null; content?: string }>;
      headers: SipMessageHeaders;
      readonly raw: string;
      readonly calledNumber: string;
      readonly callingNumber: string;
      readonly callingName: string;
      readonly canFormDialog: boolean;
      get(name: string): string | undefined;
      has(name: string): boolean;
      set(name: string, value: string): unknown;
      set(headers: Record<string, string>): unknown;
      getParsedHeader(name: 'contact' | 'Contact' | 'record-route' | 'Record-Route' | 'route' | 'Route'): AOR[];
      getParsedHeader(name: 'via' | 'Via'): Via[];
      getParsedHeader(name: 'to' | 'To' | 'from' | 'From' | 'refer-to' | 'Refer-To' | 'referred-by' | 'p-asserted-identity' | 'remote-party-id'): AOR;
      getParsedHeader(name: 'cseq' | 'CSeq'): { seq: number; method: string };
      getParsedHeader(name: string): unknown;
    }

    /** Where a message came from, as the server reported it. */
    interface MessageMeta {
      source: 'network' | 'application';
      source_address: string;
      source_port: number;
      protocol: string;
      time: string;
      transactionId: string;
      dialogId: string;
    }

    /** A SIP request: a network request handed to a route handler, or a request the app sent (`cbRequest`). */
    interface SrfRequest extends SipMessage, EventEmitter {
      method: SipMethod;
      uri: string;
      readonly url: string;
      readonly isNewInvite: boolean;
      source: 'network' | 'application';
      source_address: string;
      source_port: number;
      protocol: string;
      stackTime: string;
      stackTxnId: string;
      stackDialogId?: string;
      /** `address:port` the request arrived on (network requests). */
      receivedOn?: string;
      readonly meta: MessageMeta;
      /** The response object paired with a network request. */
      res?: SrfResponse;
      /** Set by the dialog middleware for requests outside a known dialog. */
      srf?: Srf;
      /** Set when the request was canceled by the caller. */
      canceled?: boolean;
      /** Sends a CANCEL for a request this app sent (uac only). */
      cancel(callback?: (err: Error | null, cancel?: SrfRequest) => void): void;
      cancel(opts: { headers?: SipMessageHeaders }, callback?: (err: Error | null, cancel?: SrfRequest) => void): void;
      on(event: 'cancel', listener: (cancel: SipMessage) => void): this;
      on(event: 'response', listener: (res: SrfResponse, ack: AckFunction) => void): this;
      on(event: 'update', listener: (req: SrfRequest, res: SrfResponse) => void): this;
      on(event: 'authenticate', listener: (req: SrfRequest) => void): this;
      on(event: string, listener: (...args: any[]) => void): this;
      once(event: string, listener: (...args: any[]) => void): this;
    }

    /** Sends the ACK (for a final response to INVITE) or PRACK; `body` is the 3PCC answer. */
    type AckFunction = (opts?: { body?: string; headers?: SipMessageHeaders }, callback?: (err: unknown, ack?: SipMessage) => void) => void;

    /** Options for `res.send(status, opts)`. */
    interface SendOptions {
      headers?: SipMessageHeaders;
      body?: string;
    }

    /** A response: the one paired with a network request (to send), or one received for a request the app sent. */
    interface SrfResponse extends SipMessage, EventEmitter {
      status: number;
      statusCode: number;
      reason: string;
      readonly finalResponseSent: boolean;
      readonly headersSent: boolean;
      source: 'network' | 'application';
      source_address: string;
      source_port: number;
      protocol: string;
      stackTxnId: string;
      stackDialogId?: string;
      req: SrfRequest;
      send(status: number, callback?: (err: unknown, msg: SipMessage) => void): void;
      /** `fnPrack` (lib/response.js `send(status, reason, opts, callback, fnPrack)`): called with the PRACK of a reliable provisional. */
      send(status: number, opts: SendOptions, callback?: (err: unknown, msg: SipMessage) => void, fnPrack?: (prack: SrfRequest) => void): void;
      send(status: number, reason: string, opts?: SendOptions, callback?: (err: unknown, msg: SipMessage) => void): void;
      end(): void;
    }

    /** Progress callbacks of createUAC / createB2BUA. `cbRequest` is called `(err, req)`. */
    interface ProgressCallbacks {
      cbRequest?: (err: Error | null, req: SrfRequest) => void;
      cbProvisional?: (res: SrfResponse) => void;
      /** createB2BUA only: the UAC dialog as soon as B answers. */
      cbFinalizedUac?: (uac: Dialog) => void;
    }

    interface DigestCredentials {
      username: string;
      password: string;
    }
    type AuthOption = DigestCredentials | ((req: SrfRequest, res: SrfResponse, cb: (err: Error | null, username?: string, password?: string) => void) => void);

    interface CreateUASOptions {
      localSdp?: string | (() => string | Promise<string>);
      body?: string | (() => string | Promise<string>);
      headers?: SipMessageHeaders;
      dialogStateEmitter?: EventEmitter;
    }

    interface CreateUACOptions {
      uri?: string;
      method?: 'INVITE' | 'SUBSCRIBE';
      headers?: SipMessageHeaders;
      /** Omit for a 3PCC (late offer) INVITE. */
      localSdp?: string;
      /** 3PCC: resolve with `{ sdp, ack, destroy, res }` instead of a dialog; the app sends the ACK with its SDP. */
      noAck?: boolean;
      /** Outbound proxy, `sip:host:port` or `host:port`. */
      proxy?: string;
      auth?: AuthOption;
      callingNumber?: string;
      callingName?: string;
      calledNumber?: string;
      followRedirects?: boolean;
      keepUriOnRedirect?: boolean;
      dialogStateEmitter?: EventEmitter;
    }

    /** What createUAC resolves with when `noAck: true` and no `localSdp` (3PCC). */
    interface ThirdPartyCallPending {
      sdp: string;
      ack(localSdp: string): Promise<Dialog>;
      destroy(): Promise<void>;
      res: SrfResponse;
    }

    interface CreateB2BUAOptions {
      headers?: SipMessageHeaders;
      responseHeaders?: SipMessageHeaders | ((uacRes: SrfResponse, headers: SipMessageHeaders) => SipMessageHeaders | null);
      localSdpA?: string | ((sdp: string, res: SrfResponse) => string | Promise<string>);
      localSdpB?: string | ((sdp: string) => string | Promise<string>);
      proxyRequestHeaders?: string[];
      proxyResponseHeaders?: string[];
      passFailure?: boolean;
      passProvisionalResponses?: boolean;
      proxy?: string;
      auth?: AuthOption;
      method?: string;
      callingNumber?: string;
      callingName?: string;
      dialogStateEmitter?: EventEmitter;
    }

    interface RequestOptions {
      method: SipMethod;
      headers?: SipMessageHeaders;
      body?: string;
      proxy?: string;
      auth?: AuthOption;
    }

    interface DialogRequestOptions {
      method: SipMethod;
      headers?: SipMessageHeaders;
      body?: string;
      auth?: AuthOption;
      /** re-INVITE without SDP: resolve `(res, ack)`-style, the app sends the ACK. */
      noAck?: boolean;
    }

    /** A SIP dialog (one leg), created by createUAS/createUAC/createB2BUA. */
    class Dialog extends EventEmitter {
      /** The server's dialog id, `Call-ID;from-tag=<tag of the INVITE sender>`. */
      readonly id: string;
      readonly type: 'uas' | 'uac';
      readonly dialogType: string;
      sip: { callId: string; localTag: string; remoteTag: string };
      local: { uri: string; sdp: string; contact: string };
      remote: { uri: string; sdp: string };
      req: SrfRequest;
      res: SrfResponse;
      onHold: boolean;
      connected: boolean;
      readonly socket: Socket;
      /** Set by apps (createB2BUA links the two legs). */
      other?: Dialog;
      /** When true, in-dialog requests are queued until set back to false. */
      queueRequests: boolean;
      /** Sends BYE (INVITE dialogs); resolves with the BYE as sent. */
      destroy(opts?: { headers?: SipMessageHeaders; auth?: AuthOption }): Promise<SipMessage>;
      destroy(opts: { headers?: SipMessageHeaders; auth?: AuthOption } | undefined, callback: (err: unknown, bye?: SipMessage) => void): this;
      /** re-INVITE: `'hold'`, `'unhold'` or new SDP; resolves with the remote SDP. */
      modify(sdp: string, opts?: { headers?: SipMessageHeaders; auth?: AuthOption }): Promise<string>;
      modify(opts: { noAck: true; headers?: SipMessageHeaders }): Promise<{ sdp: string; ack: (sdp: string) => void }>;
      modify(sdp: string, opts: { headers?: SipMessageHeaders } | undefined, callback: (err: unknown, sdp?: string) => void): this;
      /** Sends an in-dialog request and resolves with the final response. */
      request(opts: DialogRequestOptions): Promise<SrfResponse>;
      request(opts: DialogRequestOptions, callback: (err: unknown, res?: SrfResponse, ack?: AckFunction) => void): this;
      toJSON(): object;
      on(event: 'destroy', listener: (bye: SrfRequest, reason?: string) => void): this;
      on(event: 'ack', listener: (ack: SrfRequest) => void): this;
      on(event: 'modify' | 'info' | 'notify' | 'options' | 'refer' | 'message' | 'update' | 'subscribe', listener: (req: SrfRequest, res: SrfResponse) => void): this;
      on(event: 'hold' | 'unhold' | 'refresh', listener: (req: SrfRequest) => void): this;
      on(event: string, listener: (...args: any[]) => void): this;
    }

    /** A non-success final response, as createUAC/createUAS/createB2BUA reject. */
    class SipError extends Error {
      constructor(status: number, reason?: string);
      status: number;
      reason?: string;
      /** The response, when one was received. */
      res?: SrfResponse;
    }

    type RequestHandler = (req: SrfRequest, res: SrfResponse, next?: (err?: unknown) => void) => void;
  }

  /** The drachtio signaling resource framework. */
  class Srf extends EventEmitter {
    constructor(tags?: string | string[]);
    /** Connects to a drachtio server; resolves nothing (listen for `connect`). */
    connect(opts: Srf.ConnectOptions, callback?: (err: Error | null, hostport: string) => void): void;
    listen(opts: Srf.ListenOptions, callback?: () => void): unknown;
    /** Closes the connection (with no argument: the default one). */
    disconnect(socket?: Socket): void;
    readonly idle: boolean;
    locals: Record<string, unknown>;
    set(prop: string, value: unknown): void;
    get(prop: string): unknown;
    use(handler: Srf.RequestHandler): void;
    use(method: string, handler: Srf.RequestHandler): void;

    invite(handler: Srf.RequestHandler): void;
    register(handler: Srf.RequestHandler): void;
    options(handler: Srf.RequestHandler): void;
    info(handler: Srf.RequestHandler): void;
    message(handler: Srf.RequestHandler): void;
    notify(handler: Srf.RequestHandler): void;
    subscribe(handler: Srf.RequestHandler): void;
    publish(handler: Srf.RequestHandler): void;
    refer(handler: Srf.RequestHandler): void;
    bye(handler: Srf.RequestHandler): void;
    update(handler: Srf.RequestHandler): void;
    prack(handler: Srf.RequestHandler): void;

    createUAS(req: Srf.SrfRequest, res: Srf.SrfResponse, opts?: Srf.CreateUASOptions): Promise<Srf.Dialog>;
    createUAS(req: Srf.SrfRequest, res: Srf.SrfResponse, opts: Srf.CreateUASOptions, callback: (err: unknown, dialog: Srf.Dialog) => void): this;

    createUAC(uri: string, opts: Srf.CreateUACOptions & { noAck: true }, progress?: Srf.ProgressCallbacks): Promise<Srf.Dialog | Srf.ThirdPartyCallPending>;
    createUAC(uri: string, opts?: Srf.CreateUACOptions, progress?: Srf.ProgressCallbacks): Promise<Srf.Dialog>;
    createUAC(opts: Srf.CreateUACOptions & { uri: string }, progress?: Srf.ProgressCallbacks): Promise<Srf.Dialog>;
    createUAC(uri: string, opts: Srf.CreateUACOptions, progress: Srf.ProgressCallbacks | undefined, callback: (err: unknown, dialog: Srf.Dialog) => void): this;

    createB2BUA(req: Srf.SrfRequest, res: Srf.SrfResponse, uri: string, opts?: Srf.CreateB2BUAOptions, progress?: Srf.ProgressCallbacks): Promise<{ uas: Srf.Dialog; uac: Srf.Dialog }>;

    /** Sends a request outside a dialog; the callback gets the request as sent (listen for its `response`). */
    request(uri: string, opts: Srf.RequestOptions, callback?: (err: Error | null, req: Srf.SrfRequest) => void): void;
    request(opts: Srf.RequestOptions & { uri: string }, callback?: (err: Error | null, req: Srf.SrfRequest) => void): void;

    addDialog(dialog: Srf.Dialog): void;
    removeDialog(dialog: Srf.Dialog): void;
    findDialogById(id: string): Srf.Dialog | undefined;
    findDialogByCallIDAndFromTag(callId: string, tag: string): Srf.Dialog | undefined;

    on(event: 'connect', listener: (err: Error | null, hostport: string, serverVersion?: string, localHostports?: string) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'close' | 'reconnecting', listener: (...args: any[]) => void): this;
    on(event: string, listener: (...args: any[]) => void): this;

    static parseUri(uri: string): Srf.ParsedUri | undefined;
    static stringifyUri(uri: Srf.ParsedUri): string;
    static SipError: typeof Srf.SipError;
  }

  export = Srf;
}
