/**
 * Dialogs (RFC 3261 §12): the state a UA keeps between an INVITE and its BYE (call-id, tags, URIs, CSeq
 * numbers, route set, remote target), in-dialog request construction with loose and strict routing
 * (§12.2.1.1), and the UAS 2xx retransmission until ACK (§13.3.1.4).
 */
import type { Clock, TimerHandle } from '../common/index.js';
import { InvalidStateError } from '../common/index.js';
import { SipRequest, type HeaderField, type SipResponse } from './message.js';
import { getTag, parseCSeq, parseNameAddr } from './headers.js';
import { parseUri } from './uri.js';
import { Status } from './status.js';

/** Which side of the INVITE we were. */
export type DialogRole = 'uac' | 'uas';
/** §12: early (1xx with tag), confirmed (2xx), terminated. */
export type DialogState = 'early' | 'confirmed' | 'terminated';

const DIALOG_EDGES: Readonly<Record<DialogState, readonly DialogState[]>> = {
  early: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};

/** Options of {@link Dialog.createRequest}. */
export interface InDialogRequestOptions {
  body?: Buffer | string;
  /** Extra headers, appended in order (a Content-Type belongs here when there is a body). */
  headers?: HeaderField[] | Record<string, string>;
}

/** Methods whose requests and 2xx refresh the remote target (§12.2: re-INVITE; RFC 3311 UPDATE). */
const TARGET_REFRESH = new Set(['INVITE', 'UPDATE']);

function uriOfContact(msg: SipRequest | SipResponse): string | undefined {
  const c = msg.getAll('contact')[0];
  return c === undefined ? undefined : parseNameAddr(c)?.uri;
}

/** The dialog id drachtio uses: `Call-ID;from-tag=<tag of the INVITE sender>`. */
export function dialogIdFor(callId: string, inviteSenderTag: string): string {
  return `${callId};from-tag=${inviteSenderTag}`;
}

/** One SIP dialog. Create with {@link Dialog.fromUac} or {@link Dialog.fromUas}. */
export class Dialog {
  readonly role: DialogRole;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Full From (UAC) / To (UAS) value we send, including our tag. */
  readonly localNameAddr: string;
  /** Full value naming the peer, including its tag. */
  readonly remoteNameAddr: string;
  /** Our next CSeq is `localCSeq + 1`. */
  localCSeq: number;
  /** Highest CSeq seen from the peer; undefined until the first in-dialog request (UAC side). */
  remoteCSeq: number | undefined;
  /** Route set, in the order requests use it. */
  routeSet: string[];
  /** Where in-dialog requests go (the peer's Contact URI). */
  remoteTarget: string;
  /** §12.1.1: sips Request-URI (no TLS here, kept for correctness). */
  readonly secure: boolean;
  /** Contact we put in target-refresh requests (re-INVITE, UPDATE). */
  localContact: string | undefined;
  #state: DialogState;

  private constructor(init: {
    role: DialogRole; callId: string; localTag: string; remoteTag: string; localNameAddr: string; remoteNameAddr: string;
    localCSeq: number; remoteCSeq: number | undefined; routeSet: string[]; remoteTarget: string; secure: boolean;
    localContact: string | undefined; state: DialogState;
  }) {
    this.role = init.role;
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localNameAddr = init.localNameAddr;
    this.remoteNameAddr = init.remoteNameAddr;
    this.localCSeq = init.localCSeq;
    this.remoteCSeq = init.remoteCSeq;
    this.routeSet = init.routeSet;
    this.remoteTarget = init.remoteTarget;
    this.secure = init.secure;
    this.localContact = init.localContact;
    this.#state = init.state;
  }

  /**
   * §12.1.2: the UAC side, from the INVITE we sent and a 1xx-with-To-tag (early) or 2xx (confirmed). The route set
   * is the response's Record-Route in reverse order; the remote target its Contact.
   * @throws TypeError when the response has no To tag or the INVITE lacks Call-ID/From tag/CSeq.
   */
  static fromUac(invite: SipRequest, response: SipResponse): Dialog {
    const remoteNameAddr = response.get('to') ?? '';
    const remoteTag = getTag(remoteNameAddr);
    const localNameAddr = invite.get('from') ?? '';
    const localTag = getTag(localNameAddr);
    const cseq = parseCSeq(invite.get('cseq') ?? '');
    if (!remoteTag || !localTag || !invite.callId || !cseq) throw new TypeError('fromUac needs a To tag, a From tag, Call-ID and CSeq');
    return new Dialog({
      role: 'uac', callId: invite.callId, localTag, remoteTag, localNameAddr, remoteNameAddr,
      localCSeq: cseq.seq, remoteCSeq: undefined,
      routeSet: response.getAll('record-route').reverse(),
      remoteTarget: uriOfContact(response) ?? invite.uri,
      secure: invite.uri.toLowerCase().startsWith('sips:'),
      localContact: invite.getAll('contact')[0],
      state: response.status >= 200 ? 'confirmed' : 'early',
    });
  }

  /**
   * §12.1.1: the UAS side, from the INVITE received and our response carrying a To tag (1xx: early, 2xx:
   * confirmed). The route set is the request's Record-Route in order; the remote target its Contact.
   */
  static fromUas(invite: SipRequest, response: SipResponse): Dialog {
    const localNameAddr = response.get('to') ?? '';
    const localTag = getTag(localNameAddr);
    const remoteNameAddr = invite.get('from') ?? '';
    const remoteTag = getTag(remoteNameAddr);
    const cseq = parseCSeq(invite.get('cseq') ?? '');
    if (!localTag || !remoteTag || !invite.callId || !cseq) throw new TypeError('fromUas needs a To tag in our response, a From tag, Call-ID and CSeq');
    return new Dialog({
      role: 'uas', callId: invite.callId, localTag, remoteTag, localNameAddr, remoteNameAddr,
      // §12.1.1: "The local sequence number MUST be empty" — we start from a random-free 0 and count up.
      localCSeq: 0, remoteCSeq: cseq.seq,
      routeSet: invite.getAll('record-route'),
      remoteTarget: uriOfContact(invite) ?? (parseNameAddr(remoteNameAddr)?.uri ?? ''),
      secure: invite.uri.toLowerCase().startsWith('sips:'),
      localContact: response.getAll('contact')[0],
      state: response.status >= 200 ? 'confirmed' : 'early',
    });
  }

  /** The drachtio-style dialog id: `Call-ID;from-tag=<tag of the INVITE sender>`. */
  get id(): string {
    return dialogIdFor(this.callId, this.role === 'uac' ? this.localTag : this.remoteTag);
  }

  get state(): DialogState {
    return this.#state;
  }

  /** Local URI (inside the name-addr). */
  get localUri(): string {
    return parseNameAddr(this.localNameAddr)?.uri ?? '';
  }

  /** Remote URI (inside the name-addr). */
  get remoteUri(): string {
    return parseNameAddr(this.remoteNameAddr)?.uri ?? '';
  }

  #transition(to: DialogState): void {
    if (!DIALOG_EDGES[this.#state].includes(to)) throw new InvalidStateError(`dialog ${this.id}: ${this.#state} -> ${to}`);
    this.#state = to;
  }

  /**
   * A 2xx confirms an early dialog. For the UAC, §12.1.2: the route set is recomputed from the 2xx and the remote
   * target is updated from its Contact. A UAS's confirm (its own 2xx) changes neither.
   */
  confirm(response: SipResponse): void {
    // §12.1.1: a UAS's remote target is the Contact of the request; the Contact of its own 2xx is ours, so only
    // the UAC learns from the response.
    if (this.#state !== 'confirmed') {
      this.#transition('confirmed');
      if (this.role === 'uac') this.routeSet = response.getAll('record-route').reverse();
    }
    if (this.role === 'uac') this.updateRemoteTarget(response);
  }

  /** Ends the dialog (BYE sent or received). Idempotent. */
  terminate(): void {
    if (this.#state !== 'terminated') this.#transition('terminated');
  }

  /** §12.2: a target refresh (re-INVITE/UPDATE request or its 2xx) replaces the remote target with its Contact. */
  updateRemoteTarget(msg: SipRequest | SipResponse): void {
    const uri = uriOfContact(msg);
    if (uri) this.remoteTarget = uri;
  }

  /**
   * §12.2.2 checks on an in-dialog request from the peer: "If the remote sequence number is not empty, but the
   * sequence number of the request is lower than the remote sequence number, the request is out of order and
   * MUST be rejected with a 500 (Server Internal Error) response." Updates the remote CSeq and, for target
   * refresh requests, the remote target.
   */
  receiveRequest(req: SipRequest): { ok: true } | { ok: false; status: number; reason: string } {
    const cseq = parseCSeq(req.get('cseq') ?? '');
    if (!cseq) return { ok: false, status: Status.BadRequest, reason: 'Bad CSeq' };
    if (req.method === 'ACK' || req.method === 'CANCEL') return { ok: true };
    if (this.remoteCSeq !== undefined && cseq.seq < this.remoteCSeq) {
      return { ok: false, status: Status.ServerInternalError, reason: 'CSeq Out Of Order' };
    }
    this.remoteCSeq = cseq.seq;
    if (TARGET_REFRESH.has(req.method)) this.updateRemoteTarget(req);
    return { ok: true };
  }

  /** Whether a request or response belongs to this dialog (Call-ID and both tags, §12). */
  matches(msg: SipRequest | SipResponse): boolean {
    if (msg.callId !== this.callId) return false;
    const from = getTag(msg.get('from') ?? '');
    const to = getTag(msg.get('to') ?? '');
    // Requests from the peer carry its tag in From; responses to our requests carry our tag in From.
    if (msg.kind === 'request') return from === this.remoteTag && to === this.localTag;
    return from === this.localTag && to === this.remoteTag;
  }

  /**
   * Builds an in-dialog request (§12.2.1.1): To/From/Call-ID from the dialog, CSeq one higher than the last
   * (ACK and CANCEL excepted), Request-URI and Route per the route set (loose or strict routing).
   */
  createRequest(method: string, opts: InDialogRequestOptions = {}): SipRequest {
    if (this.#state === 'terminated' && method !== 'ACK') throw new InvalidStateError(`dialog ${this.id} is terminated`);
    const seq = method === 'ACK' || method === 'CANCEL' ? this.localCSeq : ++this.localCSeq;
    return this.#build(method, seq, opts);
  }

  /** §13.2.2.4: the ACK for a 2xx to the INVITE with CSeq `inviteCSeq` (same number, method ACK). */
  createAck(inviteCSeq: number, body?: Buffer | string, contentType = 'application/sdp'): SipRequest {
    const headers: HeaderField[] = body !== undefined && body.length > 0 ? [{ name: 'Content-Type', value: contentType }] : [];
    return this.#build('ACK', inviteCSeq, body === undefined ? { headers } : { body, headers });
  }

  #build(method: string, seq: number, opts: InDialogRequestOptions): SipRequest {
    let uri = this.remoteTarget;
    const routes: string[] = [];
    if (this.routeSet.length > 0) {
      const first = parseNameAddr(this.routeSet[0]!);
      const firstUri = first ? parseUri(first.uri) : undefined;
      if (firstUri && !('lr' in firstUri.params)) {
        // §12.2.1.1: strict router: "the UAC MUST place the first URI from the route set into the Request-URI,
        // stripping any parameters that are not allowed in a Request-URI. The UAC MUST add a Route header field
        // containing the remainder of the route set values in order, including all parameters. The UAC MUST then
        // place the remote target URI into the Route header field as the last value."
        uri = first!.uri;
        routes.push(...this.routeSet.slice(1), `<${this.remoteTarget}>`);
      } else {
        // §12.2.1.1: loose router: "the UAC MUST place the remote target URI into the Request-URI and MUST include
        // a Route header field containing the route set values in order".
        routes.push(...this.routeSet);
      }
    }
    const req = new SipRequest(method, uri);
    for (const r of routes) req.append('Route', r);
    req.append('From', this.localNameAddr);
    req.append('To', this.remoteNameAddr);
    req.append('Call-ID', this.callId);
    req.append('CSeq', `${seq} ${method}`);
    req.append('Max-Forwards', '70');
    if (this.localContact && (TARGET_REFRESH.has(method) || method === 'NOTIFY' || method === 'SUBSCRIBE' || method === 'REFER')) {
      req.append('Contact', this.localContact);
    }
    const extra = opts.headers;
    if (Array.isArray(extra)) for (const h of extra) req.append(h.name, h.value);
    else if (extra) for (const [name, value] of Object.entries(extra)) req.append(name, value);
    if (opts.body !== undefined) req.body = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body, 'utf8');
    return req;
  }
}

/** States of {@link SuccessRetransmitter}. */
export type RetransmitState = 'retransmitting' | 'acked' | 'timed-out' | 'stopped';

const RETRANSMIT_EDGES: Readonly<Record<RetransmitState, readonly RetransmitState[]>> = {
  retransmitting: ['acked', 'timed-out', 'stopped'],
  acked: [],
  'timed-out': [],
  stopped: [],
};

/** Options of {@link SuccessRetransmitter}. */
export interface SuccessRetransmitterOptions {
  clock: Clock;
  t1: number;
  t2: number;
  /** Sends the 2xx once more (e.g. `ist.respond(ok)` or a stateless send). */
  resend: () => void;
  /** Called once when 64*T1 passed without ACK: the TU SHOULD send BYE (§13.3.1.4). */
  onTimeout: () => void;
}

/**
 * §13.3.1.4: "The 2xx response is passed to the transport with an interval that starts at T1 seconds and doubles
 * for each retransmission until it reaches T2 seconds. Response retransmissions cease when an ACK request for the
 * response is received. ... If the server retransmits the 2xx response for 64*T1 seconds without receiving an
 * ACK, the dialog is confirmed, but the session SHOULD be terminated."
 * The first send is the caller's; this object schedules the retransmissions.
 */
export class SuccessRetransmitter {
  readonly #opts: SuccessRetransmitterOptions;
  #state: RetransmitState = 'retransmitting';
  #interval: number;
  #retransmit: TimerHandle | undefined;
  #giveUp: TimerHandle | undefined;
  /** Retransmissions sent so far. */
  count = 0;

  constructor(opts: SuccessRetransmitterOptions) {
    this.#opts = opts;
    this.#interval = opts.t1;
    this.#retransmit = opts.clock.setTimeout(() => this.#fire(), this.#interval);
    this.#giveUp = opts.clock.setTimeout(() => this.#transition('timed-out'), 64 * opts.t1);
  }

  get state(): RetransmitState {
    return this.#state;
  }

  #fire(): void {
    this.#retransmit = undefined;
    if (this.#state !== 'retransmitting') return;
    this.count++;
    this.#opts.resend();
    this.#interval = Math.min(2 * this.#interval, this.#opts.t2);
    this.#retransmit = this.#opts.clock.setTimeout(() => this.#fire(), this.#interval);
  }

  #transition(to: RetransmitState): void {
    if (!RETRANSMIT_EDGES[this.#state].includes(to)) return; // already finished: late ACK or stop is a no-op
    this.#state = to;
    if (this.#retransmit !== undefined) this.#opts.clock.clearTimeout(this.#retransmit);
    if (this.#giveUp !== undefined) this.#opts.clock.clearTimeout(this.#giveUp);
    this.#retransmit = this.#giveUp = undefined;
    if (to === 'timed-out') this.#opts.onTimeout();
  }

  /** The ACK arrived: stop retransmitting. */
  ackReceived(): void {
    this.#transition('acked');
  }

  /** Stop without waiting (call ended). */
  stop(): void {
    this.#transition('stopped');
  }
}
