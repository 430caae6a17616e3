/**
 * In-dialog requests across a bridge (besides re-INVITE, which `Call.connect` relays): INFO (SIP INFO DTMF,
 * RFC 6086) and UPDATE with SDP (RFC 3311) received on one leg are sent on the other, and the other side's
 * response goes back. Session refreshes stay on their leg: an UPDATE without a body and a re-INVITE that changes
 * nothing (srf's `refresh`, same SDP version) are answered on the leg they came in on — the SIP server adds the
 * Session-Expires (RFC 4028).
 */
import type { Logger } from '../../common/log.js';
import { Status } from '../sip-status.js';
import type { SrfDialog, SrfRequest, SrfResponse } from '../srf-types.js';

/** Headers of an INFO/UPDATE that mean something to the far end and are carried over. */
const CARRIED = ['Content-Type', 'Content-Disposition', 'Info-Package', 'Recv-Info'];

/** Relays INFO and UPDATE both ways between the two dialogs of a bridge. */
export function relayInDialog(a: SrfDialog, b: SrfDialog, log: Logger): void {
  for (const [from, to] of [[a, b], [b, a]] as const) {
    // A listener makes srf answer an unchanged re-INVITE itself (200 with our SDP) instead of raising `modify`.
    from.on('refresh', () => undefined);
    from.on('info', (req: SrfRequest, res: SrfResponse) => relay('INFO', req, res, to, log));
    from.on('update', (req: SrfRequest, res: SrfResponse) => {
      if (!req.body) return safeSend(res, Status.Ok, {}, log);
      relay('UPDATE', req, res, to, log);
    });
  }
}

function relay(method: 'INFO' | 'UPDATE', req: SrfRequest, res: SrfResponse, to: SrfDialog, log: Logger): void {
  const headers: Record<string, string> = {};
  for (const h of CARRIED) {
    const v = req.get(h);
    if (v !== undefined) headers[h] = v;
  }
  to.request({ method, headers, ...(req.body ? { body: req.body } : {}) })
    .then((r) => {
      const back: Record<string, string> = {};
      for (const h of CARRIED) {
        const v = r.get(h);
        if (v !== undefined && r.body) back[h] = v;
      }
      safeSend(res, r.status, { headers: back, ...(r.body ? { body: r.body } : {}) }, log);
    })
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
