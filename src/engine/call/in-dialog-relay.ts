/**
 * In-dialog requests across a bridge: a re-INVITE, INFO (SIP INFO DTMF, RFC 6086) and UPDATE with SDP (RFC 3311)
 * received on one leg are sent on the other, and the other side's response goes back; an anchored call's SDP goes
 * through its media session on the way. Session refreshes stay on their leg: an UPDATE without a body and a re-INVITE that changes
 * nothing (srf's `refresh`, same SDP version) are answered on the leg they came in on — the SIP server adds the
 * Session-Expires (RFC 4028).
 */
import type { Logger } from '../../common/index.js';
import { otherRole, type MediaLegRole } from '../../media/index.js';
import { Status } from '../../sip/syntax.js';
import type { SrfDialog, SrfRequest, SrfResponse } from '../srf-types.js';

/** Dialog events a bridge listens to on both its dialogs ('refer': transfers), dropped when it stops relaying one. */
const BRIDGE_EVENTS = ['modify', 'info', 'update', 'refresh', 'refer'] as const;

/** An anchored call's SDP rewriting, by the party the SDP came from (the call's CallMedia). */
export interface AnchoredSdp {
  offer(from: MediaLegRole, sdp: string): Promise<string>;
  answer(from: MediaLegRole, sdp: string): Promise<string>;
}

/** Relays re-INVITE, INFO and UPDATE between the caller's dialog `a` and the callee's `b`; through `media` if anchored. */
export function relayBridge(a: SrfDialog, b: SrfDialog, media: AnchoredSdp | null, log: Logger): void {
  relayModify(a, b, 'caller', media, log);
  relayModify(b, a, 'callee', media, log);
  const role = (fromFirst: boolean): MediaLegRole => (fromFirst ? 'caller' : 'callee');
  relayInDialog(a, b, log, media ? { offer: (fromFirst, sdp) => media.offer(role(fromFirst), sdp), answer: (fromFirst, sdp) => media.answer(role(fromFirst), sdp) } : undefined);
}

/** Stops relaying on `dialogs` (a transfer replaced or detached a party): their bridge listeners go. */
export function stopRelaying(...dialogs: SrfDialog[]): void {
  for (const dialog of dialogs) for (const event of BRIDGE_EVENTS) dialog.removeAllListeners?.(event);
}

/**
 * Relays a re-INVITE received on `from` (the `fromRole` leg) to `to`, answering with `to`'s new SDP; through the
 * media session when the call is anchored (hold/unhold included: the session carries the direction attributes over).
 */
function relayModify(from: SrfDialog, to: SrfDialog, fromRole: MediaLegRole, media: AnchoredSdp | null, log: Logger): void {
  from.on('modify', (req: SrfRequest, res: SrfResponse) => {
    const body = req.body ? req.body : undefined;
    const relayed = async (): Promise<string> => {
      if (!media || body === undefined) return to.modify(req.body);
      const back = await to.modify(await media.offer(fromRole, body));
      return back ? media.answer(otherRole(fromRole), back) : back;
    };
    relayed()
      .then((sdp) => res.send(Status.OK, { body: sdp, headers: { 'Content-Type': 'application/sdp' } }))
      .catch((err: unknown) => {
        log.info({ err: String(err) }, 're-INVITE relay failed');
        safeSend(res, Status.ServerInternalError, {}, log);
      });
  });
}

/** Headers of an INFO/UPDATE that mean something to the far end and are carried over. */
const CARRIED = ['Content-Type', 'Content-Disposition', 'Info-Package', 'Recv-Info'];

/** Offer/answer rewriting for an anchored call's UPDATEs (`fromFirst`: the SDP came from the pair's first dialog). */
interface SdpRelay {
  offer(fromFirst: boolean, sdp: string): Promise<string>;
  answer(fromFirst: boolean, sdp: string): Promise<string>;
}

/** Relays INFO and UPDATE both ways between the two dialogs of a bridge; UPDATE SDP through `sdp` when given. */
function relayInDialog(a: SrfDialog, b: SrfDialog, log: Logger, sdp?: SdpRelay): void {
  for (const [from, to] of [[a, b], [b, a]] as const) {
    const fromFirst = from === a;
    // A listener makes srf answer an unchanged re-INVITE itself (200 with our SDP) instead of raising `modify`.
    from.on('refresh', () => undefined);
    from.on('info', (req: SrfRequest, res: SrfResponse) => relay('INFO', req, res, to, log));
    from.on('update', (req: SrfRequest, res: SrfResponse) => {
      if (!req.body) return safeSend(res, Status.OK, {}, log);
      relay('UPDATE', req, res, to, log, sdp ? { offer: (x) => sdp.offer(fromFirst, x), answer: (x) => sdp.answer(!fromFirst, x) } : undefined);
    });
  }
}

function relay(method: 'INFO' | 'UPDATE', req: SrfRequest, res: SrfResponse, to: SrfDialog, log: Logger,
  sdp?: { offer(s: string): Promise<string>; answer(s: string): Promise<string> }): void {
  const headers: Record<string, string> = {};
  for (const h of CARRIED) {
    const v = req.get(h);
    if (v !== undefined) headers[h] = v;
  }
  (async () => {
    const body = req.body && sdp ? await sdp.offer(req.body) : req.body;
    const r = await to.request({ method, headers, ...(body ? { body } : {}) });
    const back: Record<string, string> = {};
    for (const h of CARRIED) {
      const v = r.get(h);
      if (v !== undefined && r.body) back[h] = v;
    }
    const answer = r.body && sdp && r.status >= 200 && r.status < 300 ? await sdp.answer(r.body) : r.body;
    safeSend(res, r.status, { headers: back, ...(answer ? { body: answer } : {}) }, log);
  })()
    .catch((err: unknown) => {
      log.info({ err: String(err), method }, 'in-dialog relay failed');
      safeSend(res, Status.ServerInternalError, {}, log);
    });
}

function safeSend(res: SrfResponse, status: number, opts: { headers?: Record<string, string>; body?: string }, log: Logger): void {
  try {
    res.send(status, opts);
  } catch (err) {
    log.debug({ err, status }, 'in-dialog response not sent');
  }
}
