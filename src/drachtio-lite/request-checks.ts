/**
 * RFC 3261 §8.2 UAS checks, run on every new network request before it is routed to an app, in the RFC's order:
 * §8.2.1 method (405 + Allow), §8.2.2.1 Request-URI scheme (416), §8.2.2.2 merged requests (482), §8.2.2.3 Require
 * (420 + Unsupported), §8.2.3 content (415 + Accept / Accept-Encoding). The version check (505) runs earlier, in
 * the transport layer. What we allow and support is derived here from what is really handled: the verbs the
 * connected apps route plus the in-dialog methods drachtio-lite itself carries to a dialog's owner.
 */
import { ownString } from '../common/index.js';
import { getTag, parseCSeq, Status, type SipRequest, type SipResponse } from '../sip/index.js';

/** A request refused by a check: the status, a reason phrase naming the problem and the headers §8.2 asks for. */
export interface CheckRejection {
  status: number;
  reason: string;
  headers: Record<string, string>;
}

/** The order methods are listed in `Allow` (a fixed order keeps answers comparable). */
const METHOD_ORDER = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'PRACK', 'UPDATE', 'INFO', 'REFER', 'NOTIFY'] as const;

/**
 * Methods drachtio-lite carries inside an INVITE dialog whatever the apps route (an app that only places calls has
 * dialogs too): the stack answers CANCEL, the server matches ACK and PRACK, and BYE, INFO and UPDATE reach the
 * dialog's owner (drachtio-srf's Dialog). A re-INVITE and an in-dialog OPTIONS reach it as well.
 */
export const IN_DIALOG_METHODS: ReadonlySet<string> = new Set(['ACK', 'CANCEL', 'BYE', 'PRACK', 'UPDATE', 'INFO', 'REFER', 'NOTIFY']);

/** Option tags drachtio-lite implements (RFC 3262 reliable provisionals, RFC 4028 session timers). */
export const SUPPORTED_OPTION_TAGS: readonly string[] = ['100rel', 'timer', 'replaces'];

/** URI schemes we serve in a Request-URI (we have no tel: gateway role: a tel: URI is for a proxy to resolve). */
const SERVED_SCHEMES: ReadonlySet<string> = new Set(['sip', 'sips']);

/** Methods whose body we must read ourselves (an SDP offer or answer for the call logic). */
const SDP_METHODS: ReadonlySet<string> = new Set(['INVITE', 'UPDATE', 'PRACK']);

/** What `Accept` lists in a 415. */
export const ACCEPTED_BODY_TYPES = 'application/sdp, multipart/mixed';

/** Methods a dialog's owner always gets inside its dialog. */
const DIALOG_OWNER_METHODS: ReadonlySet<string> = new Set([...IN_DIALOG_METHODS, 'INVITE', 'OPTIONS']);

/** `Allow` for the set of verbs (lower-case) connected apps route. */
export function allowList(routed: ReadonlySet<string>): string {
  return METHOD_ORDER.filter((m) => routed.has(m.toLowerCase()) || IN_DIALOG_METHODS.has(m)).join(', ');
}

/** `Supported` for our answers. */
export function supportedList(): string {
  return SUPPORTED_OPTION_TAGS.join(', ');
}

/** Option tags of a comma-list header over all its lines, lower-cased. */
function optionTags(msg: SipRequest | SipResponse, header: string): string[] {
  return msg.getAll(header).flatMap((v) => v.split(',')).map((t) => t.trim().toLowerCase()).filter((t) => t.length > 0);
}

/** Adds to `res` our Supported tags it lacks, keeping what the app put there. */
export function mergeSupported(res: SipResponse): void {
  const have = optionTags(res, 'supported');
  const all = [...have, ...SUPPORTED_OPTION_TAGS.filter((t) => !have.includes(t))];
  res.set('Supported', all.join(', '));
}

/** The media type of a Content-Type value, lower-cased, without parameters. */
function mediaType(ct: string): string {
  const semi = ct.indexOf(';');
  return (semi === -1 ? ct : ct.slice(0, semi)).trim().toLowerCase();
}

/** The `boundary` parameter of a multipart Content-Type (quoted or not). */
function boundaryOf(ct: string): string | undefined {
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(ct);
  return m ? (m[1] ?? m[2]) : undefined;
}

/**
 * The `application/sdp` part of a multipart body (RFC 2046 §5.1.1: parts between `--boundary` lines, each a header
 * block, an empty line and the part's body; the CRLF before a delimiter belongs to the delimiter). Works on latin1
 * text so the bytes come back unchanged.
 */
export function sdpPartOf(body: Buffer, ct: string): Buffer | undefined {
  const boundary = boundaryOf(ct);
  if (!boundary) return undefined;
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  const pieces = text.split(delimiter);
  // pieces[0] is the preamble; the one starting with "--" follows the close delimiter.
  for (const piece of pieces.slice(1)) {
    if (piece.startsWith('--')) break;
    const start = piece.startsWith('\r\n') ? 2 : piece.startsWith('\n') ? 1 : 0;
    const part = piece.slice(start);
    let headEnd = part.indexOf('\r\n\r\n');
    let sep = 4;
    if (headEnd === -1) { headEnd = part.indexOf('\n\n'); sep = 2; }
    if (headEnd === -1 && !/^\r?\n/.test(part)) continue;
    const head = headEnd === -1 ? '' : part.slice(0, headEnd);
    let content = headEnd === -1 ? part.replace(/^\r?\n/, '') : part.slice(headEnd + sep);
    content = content.endsWith('\r\n') ? content.slice(0, -2) : content.endsWith('\n') ? content.slice(0, -1) : content;
    // RFC 2046 §5.1: a part without Content-Type is text/plain; only an explicit application/sdp counts.
    const type = /^content-type\s*:\s*([^\r\n]+)/im.exec(head);
    if (type && mediaType(type[1]!) === 'application/sdp') return Buffer.from(content, 'latin1');
  }
  return undefined;
}

/** Key of a request for §8.2.2.2: From tag, Call-ID and CSeq (number and method). */
function mergeKey(req: SipRequest): string | undefined {
  const fromTag = getTag(req.get('from') ?? '');
  const cseq = parseCSeq(req.get('cseq') ?? '');
  if (fromTag === undefined || !cseq || !req.callId) return undefined;
  return `${req.callId}\n${fromTag}\n${cseq.seq} ${cseq.method}`;
}

/** The part of a server transaction the checks use: its end. */
export interface TerminatingTransaction {
  on(event: 'terminated', fn: () => void): unknown;
}

/** What the checks need to know about the server: the verbs its apps route right now. */
export interface CheckDeps {
  routedVerbs(): ReadonlySet<string>;
}

/**
 * The §8.2 checks with the one piece of state they need: the out-of-dialog requests whose server transaction is
 * still alive (for merged-request detection). An entry lives exactly as long as its transaction.
 */
export class RequestChecks {
  readonly #deps: CheckDeps;
  readonly #ongoing = new Map<string, TerminatingTransaction>();

  constructor(deps: CheckDeps) {
    this.#deps = deps;
  }

  /** Number of tracked transactions (tests and stats). */
  get tracked(): number {
    return this.#ongoing.size;
  }

  /** True when no connected app routes any verb. */
  noApps(): boolean {
    return this.#deps.routedVerbs().size === 0;
  }

  /** `Allow` as of now. */
  allow(): string {
    return allowList(this.#deps.routedVerbs());
  }

  /**
   * Runs the checks on a new request (not ACK) whose server transaction is `txn`; `inDialog` when its To has a tag.
   * Returns the rejection to send, or undefined when the request may go on. May rewrite a multipart body to its SDP.
   */
  check(req: SipRequest, txn: TerminatingTransaction, inDialog: boolean): CheckRejection | undefined {
    return this.#method(req, inDialog) ?? this.#scheme(req) ?? (inDialog ? undefined : this.#merged(req, txn)) ?? this.#require(req) ?? this.#content(req);
  }

  /**
   * §8.2.1: "If a UAS recognizes but does not support the method of a request, it MUST generate a 405 (Method Not
   * Allowed) response ... The UAS MUST also add an Allow header field to the 405 (Method Not Allowed) response."
   */
  #method(req: SipRequest, inDialog: boolean): CheckRejection | undefined {
    const routed = this.#deps.routedVerbs();
    const m = req.method;
    if (routed.has(m.toLowerCase())) return undefined;
    if (inDialog && DIALOG_OWNER_METHODS.has(m)) return undefined;
    if (!inDialog && IN_DIALOG_METHODS.has(m)) {
      // A dialog method outside any dialog: there is no dialog for it (§12.2.2's 481), not a method we lack.
      return { status: Status.CallTransactionDoesNotExist, reason: `${m} outside a dialog`, headers: {} };
    }
    return { status: Status.MethodNotAllowed, reason: `Method ${m} Not Allowed`, headers: { Allow: allowList(routed) } };
  }

  /** §8.2.2.1: "If the Request-URI uses a scheme not supported by the UAS, it SHOULD reject the request with a 416". */
  #scheme(req: SipRequest): CheckRejection | undefined {
    const colon = req.uri.indexOf(':');
    const scheme = req.uri.slice(0, colon).toLowerCase();
    if (SERVED_SCHEMES.has(scheme)) return undefined;
    return { status: Status.UnsupportedUriScheme, reason: `Unsupported URI Scheme ${scheme}: (sip and sips served)`, headers: {} };
  }

  /**
   * §8.2.2.2: "If the request has no tag in the To header field, the UAS core MUST check the request against ongoing
   * transactions. If the From tag, Call-ID, and CSeq exactly match those associated with an ongoing transaction, but
   * the request does not match that transaction ..., the UAS core SHOULD generate a 482 (Loop Detected) response".
   * The transaction layer already matched retransmissions (same branch), so a second live request with the key is one.
   */
  #merged(req: SipRequest, txn: TerminatingTransaction): CheckRejection | undefined {
    const found = mergeKey(req);
    if (found === undefined) return undefined;
    if (this.#ongoing.has(found)) return { status: Status.LoopDetected, reason: 'Loop Detected (merged request)', headers: {} };
    // The entry lives as long as the transaction (32 s after its final response on UDP): its key is its own copy, not
    // slices of the request's text; `on`, not `once` (a transaction emits `terminated` once, then drops its listeners).
    const key = ownString(found);
    this.#ongoing.set(key, txn);
    txn.on('terminated', () => {
      if (this.#ongoing.get(key) === txn) this.#ongoing.delete(key);
    });
    return undefined;
  }

  /**
   * §8.2.2.3: "If a UAS does not understand an option-tag listed in a Require header field, it MUST respond by
   * generating a response with status code 420 (Bad Extension). The UAS MUST add an Unsupported header field, and
   * list in it those options it does not understand". Not for CANCEL (ACK never reaches here).
   */
  #require(req: SipRequest): CheckRejection | undefined {
    if (req.method === 'CANCEL') return undefined;
    const unknown = optionTags(req, 'require').filter((t) => !SUPPORTED_OPTION_TAGS.includes(t));
    if (unknown.length === 0) return undefined;
    return { status: Status.BadExtension, reason: 'Bad Extension', headers: { Unsupported: [...new Set(unknown)].join(', ') } };
  }

  /**
   * §8.2.3: "If there are any bodies whose type (indicated by the Content-Type), language (indicated by the
   * Content-Language) or encoding (indicated by the Content-Encoding) are not understood, and that body part is not
   * optional (as indicated by the Content-Disposition header field), the UAS MUST reject the request with a 415
   * (Unsupported Media Type) response. The response MUST contain an Accept header field listing the types of all
   * bodies it understands". Only bodies we must read (SDP offers and answers) are checked; INFO and others are relayed
   * as they are. A multipart body carrying SDP (a carrier's SDP + ISUP) goes on as its SDP part alone.
   */
  #content(req: SipRequest): CheckRejection | undefined {
    if (!SDP_METHODS.has(req.method) || req.body.length === 0) return undefined;
    const encoding = (req.get('content-encoding') ?? '').trim().toLowerCase();
    if (encoding !== '' && encoding !== 'identity') {
      return { status: Status.UnsupportedMediaType, reason: `Unsupported Content-Encoding ${encoding}`, headers: { 'Accept-Encoding': 'identity', Accept: ACCEPTED_BODY_TYPES } };
    }
    const ct = req.get('content-type');
    const type = ct === undefined ? '' : mediaType(ct);
    if (type === 'application/sdp') return undefined;
    if (ct !== undefined && type.startsWith('multipart/')) {
      const sdp = sdpPartOf(req.body, ct);
      if (sdp) {
        req.body = sdp;
        req.set('Content-Type', 'application/sdp');
        req.remove('Content-Disposition');
        req.remove('MIME-Version');
        return undefined;
      }
      return { status: Status.UnsupportedMediaType, reason: `Unsupported Media Type (no application/sdp part in ${type})`, headers: { Accept: ACCEPTED_BODY_TYPES } };
    }
    return { status: Status.UnsupportedMediaType, reason: `Unsupported Media Type ${type || '(no Content-Type)'}`, headers: { Accept: ACCEPTED_BODY_TYPES } };
  }
}
