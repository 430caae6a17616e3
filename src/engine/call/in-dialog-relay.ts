/**
 * In-dialog requests across a bridge (besides re-INVITE, which `Call.connect` relays): INFO (SIP INFO DTMF,
 * RFC 6086) and UPDATE with SDP (RFC 3311) received on one leg are sent on the other, and the other side's
 * response goes back. Session refreshes stay on their leg: an UPDATE without a body and a re-INVITE that changes
 * nothing (srf's `refresh`, same SDP version) are answered on the leg they came in on — the SIP server adds the
 * Session-Expires (RFC 4028).
 */
import type { Logger } from '../../common/index.js';
import { Status } from '../../sip/syntax.js';
import type { SrfDialog, SrfRequest, SrfResponse } from '../srf-types.js';

/** Headers of an INFO/UPDATE that mean something to the far end and are carried over. */
const CARRIED = ['Content-Type', 'Content-Disposition', 'Info-Package', 'Recv-Info'];

/** Offer/answer rewriting for an anchored call's UPDATEs (`fromFirst`: the SDP came from the pair's first dialog). */
export interface SdpRelay {
  offer(fromFirst: boolean, sdp: string): Promise<string>;
  answer(fromFirst: boolean, sdp: string): Promise<string>;
}

/** Relays INFO and UPDATE both ways between the two dialogs of a bridge; UPDATE SDP through `sdp` when given. */
export function relayInDialog(a: SrfDialog, b: SrfDialog, log: Logger, sdp?: SdpRelay): void {
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
