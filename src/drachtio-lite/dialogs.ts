/**
 * Dialog state the server keeps for apps (RFC 3261 §12): tags, CSeq numbers, route set and remote target, plus
 * the 2xx/ACK bookkeeping of §13.3.1.4 (UAS: retransmit 2xx until ACK) and §13.2.2.4 (UAC: re-ACK 2xx
 * retransmissions). The id is drachtio's: `Call-ID;from-tag=<tag of the INVITE sender>`.
 */
import {
  generateBranch, getTag, parseUri, SipRequest, type Endpoint, type SipResponse,
} from '../sip/index.js';
import type { TimerHandle } from '../common/clock.js';

/** Who owns a dialog (a connected app); the server treats it as opaque. */
export interface DialogOwner {
  readonly id: string;
}

/** The §13.3.1.4 state of a 2xx we sent and are retransmitting until its ACK arrives. */
export interface Pending2xx {
  response: SipResponse;
  cseq: number;
  /** Retransmits the response once. */
  resend: () => void;
  timer?: TimerHandle;
  interval: number;
  deadline: number;
}

/** One dialog (one leg) the server keeps for an app. */
export interface LiteDialog {
  readonly id: string;
  readonly role: 'uac' | 'uas';
  readonly callId: string;
  owner: DialogOwner;
  /** Our From (uac) / To (uas) header value, with our tag. */
  localHeader: string;
  /** The peer's header value, with its tag. */
  remoteHeader: string;
  localTag: string;
  remoteTag: string;
  /** Last CSeq number we used in this dialog. */
  localSeq: number;
  /** Highest CSeq number received from the peer, if any. */
  remoteSeq: number | undefined;
  remoteTarget: string;
  /** Route set in the order requests carry it (§12.1.1 / §12.1.2). */
  routeSet: string[];
  localContact: string;
  transport: 'udp' | 'tcp';
  /** Where the INVITE came from (uas) or was sent to (uac): the fallback destination. */
  peer: Endpoint;
  /** CSeq number of the last INVITE (initial or re-INVITE) and, for a uac, the ACK we sent for its 2xx. */
  lastInviteSeq: number;
  lastAck?: { seq: number; ack: SipRequest; destination: Endpoint };
  /** A 2xx to our last INVITE arrived and the app has not sent its ACK yet. */
  ackPending?: boolean;
  /** uas: a 2xx being retransmitted until ACK. */
  pending2xx?: Pending2xx;
  terminated: boolean;
}

/** The dialog id drachtio uses: `Call-ID;from-tag=<tag of the INVITE sender>`. */
export function dialogIdOf(callId: string, inviteSenderTag: string): string {
  return `${callId};from-tag=${inviteSenderTag}`;
}

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

  remove(d: LiteDialog): void {
    d.terminated = true;
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
    const uas = this.#byId.get(dialogIdOf(callId, fromTag));
    if (uas && uas.role === 'uas' && uas.localTag === toTag) return uas;
    const uac = this.#byId.get(dialogIdOf(callId, toTag));
    if (uac && uac.role === 'uac' && uac.remoteTag === fromTag) return uac;
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

/**
 * §12.2.1.1: a request within the dialog. Request-URI = remote target, Route = route set, From/To/Call-ID from
 * the dialog, CSeq = the next local number (or `seq` for an ACK, which reuses the INVITE's).
 */
export function createInDialogRequest(d: LiteDialog, method: string, seq?: number): SipRequest {
  const cseq = seq ?? ++d.localSeq;
  const req = new SipRequest(method, d.remoteTarget);
  for (const r of d.routeSet) req.append('Route', r);
  req.append('From', d.localHeader);
  req.append('To', d.remoteHeader);
  req.append('Call-ID', d.callId);
  req.append('CSeq', `${cseq} ${method}`);
  return req;
}

/** Resolves a SIP URI (`sip:host[:port][;transport=x]`) to the endpoint to send to; undefined if unusable. */
export function endpointOfUri(uri: string, fallbackTransport: 'udp' | 'tcp'): Endpoint | undefined {
  const text = uri.trim().replace(/^<|>.*$/g, '');
  const u = parseUri(text);
  if (!u || u.scheme === 'tel' || !u.host) return undefined;
  const t = (u.params['transport'] ?? '').toLowerCase();
  const transport = t === 'tcp' ? 'tcp' : t === 'udp' ? 'udp' : fallbackTransport;
  return { transport, address: u.host, port: u.port ?? 5060 };
}

/** Where a request in this dialog goes: the first route if any (loose routing), else the remote target. */
export function dialogDestination(d: LiteDialog): Endpoint {
  const next = d.routeSet[0] ?? d.remoteTarget;
  return endpointOfUri(next, d.transport) ?? d.peer;
}

/** A Via for a request we send statelessly (an ACK for 2xx has its own transaction-less branch, §17.1.1.3). */
export function statelessVia(local: Endpoint): string {
  return `SIP/2.0/${local.transport.toUpperCase()} ${local.address.includes(':') ? `[${local.address}]` : local.address}:${local.port};branch=${generateBranch()};rport`;
}
