/**
 * The registrar (RFC 3261 §10.3): digest-authenticated REGISTER, several contacts per device, Expires header
 * and parameter with min/max (423 + Min-Expires), refresh, unregister, `Contact: *`; the source transport,
 * address and port are stored with each binding so calls reach phones behind NAT (RFC 3581 style).
 */
import type { Clock } from '../../common/index.js';
import type { Logger } from '../../common/index.js';
import type { BindingTransport, LocationService } from '../location/location-service.js';
import { parseContactList, Status } from '../../sip/syntax.js';
import type { SrfRequest, SrfResponse } from '../srf-types.js';
import { aorUser, type DeviceAuthenticator } from './device-auth.js';

/** Expiry policy, in seconds. */
export interface ExpiresPolicy {
  /** Used when neither the contact nor the request says; default 3600. */
  defaultS: number;
  /** Shorter non-zero requests get 423 Interval Too Brief; default 60. */
  minS: number;
  /** Longer requests are shortened to this; default 7200. */
  maxS: number;
}

/** Options of {@link Registrar}. */
export interface RegistrarOptions {
  auth: DeviceAuthenticator;
  location: LocationService;
  clock: Clock;
  log: Logger;
  expires?: Partial<ExpiresPolicy>;
  /** Most contacts a device may have bound at once, read per REGISTER (config `sip.max_contacts_per_device`). */
  maxContacts?: () => number;
}

/** Default of {@link RegistrarOptions.maxContacts}. */
export const DEFAULT_MAX_CONTACTS = 10;

/**
 * The answer to a REGISTER that would bind more contacts than allowed: Kamailio's registrar (`max_contacts`) answers
 * 503 "Too many registered contacts"; RFC 3261 names no code for it. A 503 rather than a 403 (Asterisk's choice)
 * tells the phone the refusal is about the server's state, not its credentials.
 */
export const TOO_MANY_CONTACTS = 'Too many registered contacts';

/** Handles REGISTER requests routed to it by srf. */
export class Registrar {
  readonly #auth: DeviceAuthenticator;
  readonly #location: LocationService;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #policy: ExpiresPolicy;
  readonly #maxContacts: () => number;

  constructor(opts: RegistrarOptions) {
    this.#auth = opts.auth;
    this.#location = opts.location;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#policy = { defaultS: 3600, minS: 60, maxS: 7200, ...opts.expires };
    this.#maxContacts = opts.maxContacts ?? (() => DEFAULT_MAX_CONTACTS);
  }

  /** The srf `register` route handler. Never throws: errors are answered with 500 and logged. */
  handle(req: SrfRequest, res: SrfResponse): void {
    this.#process(req, res).catch((err: unknown) => {
      this.#log.error({ err, from: req.source_address }, 'REGISTER processing failed');
      safeSend(res, Status.ServerInternalError);
    });
  }

  async #process(req: SrfRequest, res: SrfResponse): Promise<void> {
    const auth = this.#auth.check(req, 'www');
    if (!auth.ok) {
      if (auth.reason === 'invalid' || auth.reason === 'rate-limited') {
        this.#log.info({ source: `${req.source_address}:${req.source_port}`, reason: auth.reason }, 'REGISTER refused');
      }
      return safeSend(res, auth.status, auth.headers, auth.phrase);
    }
    const username = auth.device.username;
    const aorUserPart = aorUser(req.get('To'));
    // RFC 3261 §10.3 step 3/6: the authenticated identity must be allowed to register this address-of-record.
    if (aorUserPart !== null && aorUserPart !== username) return safeSend(res, Status.Forbidden);

    // A shared location (Redis): the device's bindings as every engine sees them, not as our cache last heard.
    await this.#location.sync(username);
    const contactValue = req.get('Contact');
    if (contactValue === undefined || contactValue.trim() === '') return this.#reply(res, username);
    const parsed = parseContactList(contactValue);
    if (!parsed.ok) return safeSend(res, Status.BadRequest, {}, `Bad Contact: ${parsed.error}`.slice(0, 100));
    const headerExpires = parseExpires(req.get('Expires'));

    if (parsed.wildcard) {
      // §10.3 step 6: "*" is only valid with Expires: 0.
      if (headerExpires !== 0) return safeSend(res, Status.BadRequest, {}, 'Contact * requires Expires 0');
      await this.#location.removeAll(username);
      this.#log.info({ device: username }, 'device unregistered (all contacts)');
      return this.#reply(res, username);
    }

    const callId = req.get('Call-ID') ?? '';
    const cseq = parseInt(req.get('CSeq') ?? '0', 10) || 0;
    const existing = new Map(this.#location.bindings(username).map((b) => [b.contact, b]));
    const now = this.#clock.now();
    const updates: Array<{ contact: string; expiresS: number; instance: string | null; regId: string | null }> = [];
    for (const c of parsed.contacts) {
      const raw = c.params['expires'] !== undefined ? parseExpires(c.params['expires']) : headerExpires;
      let expiresS = raw ?? this.#policy.defaultS;
      if (expiresS !== 0 && expiresS < this.#policy.minS) {
        return safeSend(res, Status.IntervalTooBrief, { 'Min-Expires': String(this.#policy.minS) });
      }
      expiresS = Math.min(expiresS, this.#policy.maxS);
      // RFC 5626 §4.2: reg-id counts only with +sip.instance (a flow is one instance's numbered connection).
      const instance = c.params['+sip.instance'] ?? null;
      updates.push({ contact: c.uri, expiresS, instance, regId: instance !== null ? c.params['reg-id'] ?? null : null });
    }
    const over = this.#overLimit(existing, updates);
    if (over) {
      this.#log.warn({ device: username, source: `${req.source_address}:${req.source_port}`, bound: existing.size, asked: over.asked, max: over.max },
        'REGISTER refused: too many registered contacts');
      return safeSend(res, Status.ServiceUnavailable, {}, TOO_MANY_CONTACTS);
    }
    const transport = transportOf(req.protocol);
    let outbound = false;
    for (const u of updates) {
      const prev = existing.get(u.contact);
      // §10.3 step 7: same Call-ID with a CSeq not higher than stored → out of order, leave the binding alone.
      if (prev && prev.call_id === callId && cseq <= prev.cseq) continue;
      if (u.expiresS === 0) {
        if (prev) await this.#location.remove(username, u.contact);
        continue;
      }
      if (u.regId !== null) {
        // RFC 5626 §6: "the registrar ... MUST replace any existing binding with the same instance-id and reg-id" —
        // the phone reconnected (a new flow), and the old flow's binding must not be rung any more.
        outbound = true;
        for (const b of existing.values()) {
          if (b.contact !== u.contact && b.instance_id === u.instance && b.reg_id === u.regId) await this.#location.remove(username, b.contact);
        }
      }
      await this.#location.upsert({
        username, contact: u.contact, transport,
        source_address: req.source_address, source_port: req.source_port,
        call_id: callId, cseq, expires_at: now + u.expiresS * 1000,
        user_agent: req.get('User-Agent') ?? null, instance_id: u.instance, reg_id: u.regId, updated_at: now,
      });
    }
    this.#log.debug({ device: username, contacts: updates.length, transport }, 'REGISTER accepted');
    // RFC 5626 §6: a registrar that honoured reg-id says so with Require: outbound.
    return this.#reply(res, username, outbound ? { Require: 'outbound' } : {});
  }

  /**
   * Whether applying `updates` would leave more bindings than allowed. The request is judged as a whole (§10.3: the
   * update is atomic), counting what would remain: refreshes and removals never push a device over its limit.
   */
  #overLimit(existing: ReadonlyMap<string, unknown>, updates: ReadonlyArray<{ contact: string; expiresS: number }>): { asked: number; max: number } | undefined {
    const max = this.#maxContacts();
    const after = new Set(existing.keys());
    for (const u of updates) {
      if (u.expiresS === 0) after.delete(u.contact);
      else after.add(u.contact);
    }
    const added = updates.filter((u) => u.expiresS !== 0 && !existing.has(u.contact)).length;
    return added > 0 && after.size > max ? { asked: after.size, max } : undefined;
  }

  /** 200 OK listing every current binding with its remaining lifetime (§10.3 step 8). */
  #reply(res: SrfResponse, username: string, extra: Record<string, string> = {}): void {
    const now = this.#clock.now();
    const contacts = this.#location.bindings(username).map((b) => `<${b.contact}>;expires=${Math.max(0, Math.round((b.expires_at - now) / 1000))}`);
    const headers: Record<string, string> = { Date: new Date(now).toUTCString(), ...extra };
    if (contacts.length > 0) headers['Contact'] = contacts.join(', ');
    safeSend(res, Status.OK, headers);
  }
}

/** The binding transport of a request's protocol as srf reports it (`udp`, `tcp`, `ws`, `wss`; TLS is carried as tcp). */
export function transportOf(protocol: string | undefined): BindingTransport {
  const p = (protocol ?? '').toLowerCase();
  if (p === 'wss' || p === 'ws') return p;
  return p.includes('tcp') || p.includes('tls') ? 'tcp' : 'udp';
}

/** Integer seconds from an Expires value; null when absent or malformed. */
function parseExpires(v: string | undefined): number | null {
  if (v === undefined) return null;
  const t = v.trim();
  if (t.length === 0 || t.length > 10) return null;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return null;
  }
  return Math.min(Number(t), 2 ** 32 - 1);
}

function safeSend(res: SrfResponse, status: number, headers: Record<string, string> = {}, reason?: string): void {
  try {
    if (reason) res.send(status, reason, { headers });
    else res.send(status, { headers });
  } catch {
    /* the transaction is gone (e.g. the connection closed); nothing to answer */
  }
}
