/**
 * Dialogs the server keeps for apps. The RFC 3261 §12 state (tags, CSeq numbers, route set, remote target, loose
 * and strict routing) is the SIP core's `Dialog`; this adds what drachtio-lite needs around it: the owning app,
 * the transport and peer, the §13.3.1.4 2xx retransmission (UAS) and the §13.2.2.4 ACK bookkeeping (UAC).
 * The id is drachtio's: `Call-ID;from-tag=<tag of the INVITE sender>`.
 */
import {
  dialogIdFor, getTag, isDialable, parseNameAddr, parseUri, transportProtocolOf, type Dialog, type TransportProtocol, type Endpoint, type SipRequest, type SipResponse, type SuccessRetransmitter,
} from '../sip/index.js';

/** A dialog's running session timer. */
export interface SessionTimer {
  intervalS: number;
  /** `us`: we send the refreshes; `them`: we expect them. */
  refresher: 'us' | 'them';
  cancel(): void;
}

/** Who owns a dialog: a connected app (`ClientConnection`). */
export interface DialogOwner {
  readonly id: string;
  /** Whether the app is still connected. */
  readonly open: boolean;
  /** Writes one server message to the app: its leader and, for a SIP frame, the message's bytes. */
  send(leader: string, sip?: Buffer): void;
}

/** One dialog (one leg) the server keeps for an app. */
export interface LiteDialog {
  readonly id: string;
  /** The RFC 3261 dialog state. */
  readonly sip: Dialog;
  owner: DialogOwner;
  readonly transport: TransportProtocol;
  /** Where the INVITE came from (uas) or was sent to (uac): the fallback destination. */
  readonly peer: Endpoint;
  /** CSeq number of the last INVITE we sent in this dialog (initial or re-INVITE), for its ACK. */
  lastInviteSeq: number;
  /** The ACK we sent for that INVITE's 2xx, re-sent on 2xx retransmissions. */
  lastAck?: { ack: SipRequest; destination: Endpoint };
  /** A 2xx to our last INVITE arrived and the app has not sent its ACK yet. */
  ackPending?: boolean;
  /** uas: the 2xx we are retransmitting until ACK, and the CSeq number of its INVITE. */
  pending2xx?: { retransmitter: SuccessRetransmitter; seq: number };
  terminated: boolean;
  /** RFC 4028: the running session timer. */
  sessionTimer?: SessionTimer;
  /** The peer listed UPDATE in Allow (session refreshes go by UPDATE then). */
  peerAllowsUpdate?: boolean;
  /** Our last SDP in this dialog (a refreshing re-INVITE offers it again). */
  localSdp?: string;
}

/** Whether `msg`'s Allow lists `method`. */
export function allows(msg: SipRequest | SipResponse, method: string): boolean {
  return msg.getAll('allow').some((v) => v.split(',').some((m) => m.trim().toUpperCase() === method));
}

/** The dialog id drachtio uses: `Call-ID;from-tag=<tag of the INVITE sender>`. */
export const dialogIdOf = dialogIdFor;

/** Live dialogs by id. */
export class DialogTable {
  readonly #byId = new Map<string, LiteDialog>();

  get size(): number {
    return this.#byId.size;
  }

  add(d: LiteDialog): void {
    this.#byId.set(d.id, d);
  }

  get(id: string): LiteDialog | undefined {
    return this.#byId.get(id);
  }

  /** Forgets a dialog and stops its 2xx retransmission (idempotent). */
  remove(d: LiteDialog): void {
    d.terminated = true;
    d.sessionTimer?.cancel();
    delete d.sessionTimer;
    d.pending2xx?.retransmitter.stop();
    delete d.pending2xx;
    d.sip.terminate();
    if (this.#byId.get(d.id) === d) this.#byId.delete(d.id);
  }

  /**
   * §12.2.2: the dialog a request from the peer belongs to (Call-ID, remote tag = From tag, local tag = To tag).
   * A uas dialog is keyed by the peer's From tag, a uac dialog by our own (the To tag of the peer's request).
   */
  findForRequest(req: SipRequest): LiteDialog | undefined {
    const callId = req.callId;
    const fromTag = getTag(req.get('from') ?? '');
    const toTag = getTag(req.get('to') ?? '');
    if (!callId || !fromTag || !toTag) return undefined;
    for (const id of [dialogIdOf(callId, fromTag), dialogIdOf(callId, toTag)]) {
      const d = this.#byId.get(id);
      if (d && d.sip.matches(req)) return d;
    }
    return undefined;
  }

  /** Every dialog owned by `owner`. */
  ownedBy(owner: DialogOwner): LiteDialog[] {
    return [...this.#byId.values()].filter((d) => d.owner === owner);
  }

  all(): LiteDialog[] {
    return [...this.#byId.values()];
  }
}

/** Resolves a SIP URI (`sip:host[:port][;transport=x]`, or a name-addr) to an endpoint; undefined if unusable. */
export function endpointOfUri(uri: string, fallbackTransport: TransportProtocol): Endpoint | undefined {
  const text = uri.trim();
  const u = parseUri(text.startsWith('<') || text.includes('<') ? parseNameAddr(text)?.uri ?? '' : text);
  if (!u || u.scheme === 'tel' || !u.host) return undefined;
  const transport = transportProtocolOf(u.params['transport']) ?? fallbackTransport;
  return { transport, address: u.host, port: u.port ?? 5060 };
}

/**
 * Where a request built by the dialog goes: the top Route when it is a loose router, else the Request-URI (which
 * holds the strict router or the remote target). A URI without `;transport=` keeps the dialog's transport.
 */
export function destinationOf(d: Pick<LiteDialog, 'transport' | 'peer'>, req: SipRequest): Endpoint {
  // RFC 7118 §5 / RFC 5626: a WebSocket peer is reached only over its connection (its Contact names an `.invalid`
  // host), so every request in its dialog goes to the flow the dialog was made on.
  if (!isDialable(d.transport)) return d.peer;
  const top = req.getAll('route')[0];
  const topUri = top !== undefined ? parseNameAddr(top)?.uri : undefined;
  const loose = topUri !== undefined && 'lr' in (parseUri(topUri)?.params ?? {});
  // RFC 5626 §5.4: a remote target with `;ob` asks for requests in the dialog over the flow it came on.
  if (!loose && 'ob' in (parseUri(req.uri)?.params ?? {})) return d.peer;
  return endpointOfUri(loose ? topUri : req.uri, d.transport) ?? d.peer;
}
