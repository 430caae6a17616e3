/**
 * What crash recovery needs to hang up an answered leg after a restart (RFC 3261 §12.2.1.1): built from the srf
 * dialog's INVITE and 2xx when the call connects, and saved with the call (`leg_dialogs`). A UAC dialog (we sent the
 * INVITE: trunk or device legs) takes From and CSeq from the INVITE and To, Contact and Record-Route (reversed,
 * §12.1.2) from the 2xx; a UAS dialog (the caller) takes the peer's From, Contact and Record-Route (in order,
 * §12.1.1) from the INVITE, our To with our tag, and sends to where the INVITE came from.
 */
import type { LegDialogRecord } from '../../store/index.js';
import type { Leg } from '../call/leg.js';
import type { SrfDialog } from '../srf-types.js';
import { formatHost } from '../../common/index.js';
import { isSipUri, splitHeaderList, uriPartOf } from '../../sip/syntax.js';
import { getTag } from '../../sip/headers.js';
import { parseUri } from '../../sip/uri.js';

/** The dialog record of `leg`, or null when srf did not give us what it takes (a peer without a Contact). */
export function dialogRecordOf(uniqueCallId: string, leg: Leg, dialog: SrfDialog): LegDialogRecord | null {
  const { req, res } = dialog;
  if (!req || !res || (dialog.type !== 'uac' && dialog.type !== 'uas')) return null;
  const uac = dialog.type === 'uac';
  const contact = uac ? res.get('Contact') : req.get('Contact');
  const remoteTarget = contact ? uriOf(contact) : null;
  const local = uac ? req.get('From') : withTag(req.get('To'), dialog.sip.localTag);
  const remote = uac ? res.get('To') : req.get('From');
  if (!remoteTarget || !local || !remote) return null;
  const routes = splitRoutes(uac ? res.get('Record-Route') : req.get('Record-Route'));
  const cseq = uac ? Number.parseInt(req.get('CSeq') ?? '', 10) : 0;
  const destination = uac ? destinationOf(res, leg.remote, req.uri ?? remoteTarget) : destinationOf(req, null, remoteTarget);
  return {
    leg_id: leg.id, unique_call_id: uniqueCallId, role: uac ? 'uac' : 'uas', call_id: dialog.sip.callId, local_header: local,
    remote_header: remote, local_cseq: Number.isInteger(cseq) && cseq >= 0 ? cseq : 0, remote_target: remoteTarget,
    route_set: uac ? routes.reverse() : routes, destination,
  };
}

/** The URI of a name-addr or addr-spec (`"A" <sip:a@h;transport=tcp>;expires=60` → `sip:a@h;transport=tcp`). */
function uriOf(value: string): string | null {
  const uri = uriPartOf(value);
  return isSipUri(uri) ? uri : null;
}

function withTag(header: string | undefined, tag: string): string | undefined {
  if (!header) return undefined;
  return getTag(header) !== undefined ? header : `${header};tag=${tag}`;
}

/** The transports a dialog record names; anything else (udp, an unknown name) is UDP. */
function namedTransport(name: string | null | undefined): 'ws' | 'wss' | 'tcp' | undefined {
  const t = name?.toLowerCase();
  return t === 'ws' || t === 'wss' || t === 'tcp' ? t : undefined;
}

/** Record-Route values, one per entry (several headers arrive joined by commas; entries are `<uri>` name-addrs). */
function splitRoutes(value: string | undefined): string[] {
  if (!value) return [];
  return splitHeaderList(value);
}

/** `sip:host:port;transport=…` of where the message came from; else the leg's `host:port`; else the fallback URI. */
function destinationOf(msg: { source_address?: string; source_port?: number; protocol?: string }, hostport: string | null, fallback: string): string {
  const transport = namedTransport(msg.protocol) ?? namedTransport(parseUri(fallback)?.params['transport']) ?? 'udp';
  if (msg.source_address && msg.source_port) {
    return `sip:${formatHost(msg.source_address)}:${msg.source_port};transport=${transport}`;
  }
  if (hostport) return `sip:${hostport};transport=${transport}`;
  return fallback;
}
