/**
 * Authenticates devices by digest, for REGISTER (401 / WWW-Authenticate) and for INVITE (407 /
 * Proxy-Authenticate). Unknown usernames and wrong passwords get the same answer (403) so usernames cannot
 * be enumerated. Failures are counted per (source, username) and per username: a source that keeps failing for
 * one username is refused for that username only (one bad phone behind an office NAT does not lock out the
 * office), and a username guessed at from many sources is slowed by its own, higher limit.
 */
import { randomBytes } from 'node:crypto';
import type { ConfigControl } from '../../config/index.js';
import type { DeviceConfig, DigestChallenge, PbxConfig, UserConfig } from '../../config/index.js';
import { sipUriUser, Status } from '../../sip/syntax.js';
import type { SrfRequest } from '../srf-types.js';
import { DigestServer, type DigestAlgorithm } from '../../sip/digest.js';
import type { FailureRateLimiter } from './rate-limiter.js';

/** Which challenge style to use. */
export type AuthKind = 'www' | 'proxy';

/** A device and the user that owns it. */
export interface AuthenticatedDevice {
  device: DeviceConfig;
  user: UserConfig;
}

/** The outcome: the device, or the response to send. */
export type AuthResult =
  | ({ ok: true } & AuthenticatedDevice)
  | { ok: false; status: number; headers: Record<string, string>; reason: 'challenge' | 'stale' | 'invalid' | 'rate-limited' | 'bad-request'; phrase?: string };

/** Finds a device by username in a configuration (a linear scan; {@link DeviceAuthenticator} keeps an index). */
export function findDevice(config: PbxConfig, username: string): AuthenticatedDevice | undefined {
  for (const user of config.users) {
    const device = user.devices.find((d) => d.username === username);
    if (device) return { device, user };
  }
  return undefined;
}

/**
 * Digest authentication of requests against the live configuration's devices.
 *
 * By default a 401/407 carries one MD5 challenge, as Asterisk, Kamailio and FreeSWITCH send: sip.js and JsSIP
 * read only the first challenge, sofia-sip keeps the last per realm, and libre < 3.12 (baresip 1.0) fails the whole
 * authentication on any non-MD5 one. `sip.digest: sha256` (or a device's `digest: sha256`) opts in to SHA-256
 * first and MD5 second (RFC 8760 §2.4); srf joins repeated headers into one value and drachtio-lite puts each
 * challenge back on its own header line. The device is known from the request's AOR (To for REGISTER, From
 * otherwise) before any credentials arrive; an unknown name gets the global choice, so nothing is revealed.
 */
export class DeviceAuthenticator {
  readonly #digest: DigestServer;
  readonly #limiter: FailureRateLimiter;
  readonly #userLimiter: FailureRateLimiter;
  readonly #config: ConfigControl;
  readonly #decoy = randomBytes(24).toString('base64');
  /** Username → device of the configuration object it was built from (versions are immutable). */
  #index: { config: PbxConfig; devices: Map<string, AuthenticatedDevice> } | null = null;

  /** `limiter` counts per (source, username); `userLimiter` per username, across sources. */
  constructor(opts: { digest: DigestServer; limiter: FailureRateLimiter; userLimiter: FailureRateLimiter; config: ConfigControl }) {
    this.#digest = opts.digest;
    this.#limiter = opts.limiter;
    this.#userLimiter = opts.userLimiter;
    this.#config = opts.config;
  }

  /** Checks the request's credentials; `kind` picks 401/WWW-Authenticate or 407/Proxy-Authenticate. */
  check(req: SrfRequest, kind: AuthKind): AuthResult {
    const header = req.get(kind === 'www' ? 'Authorization' : 'Proxy-Authorization');
    if (header === undefined || header.length > 4096) return this.#challenge(req, kind, false, 'challenge');
    const claimed = claimedUsername(header);
    const pair = `${req.source_address}|${claimed}`;
    if (this.#limiter.isBlocked(pair) || this.#userLimiter.isBlocked(claimed)) return { ok: false, status: Status.Forbidden, headers: {}, reason: 'rate-limited' };
    const devices = this.#devices();
    // An unknown user is checked against a random password, so it costs the same hashing as a wrong password
    // (no timing difference to enumerate usernames with) and fails the same way.
    const verdict = this.#digest.verify(header, req.method, (username) => devices.get(username)?.device.password ?? this.#decoy, { requestUri: req.uri });
    const found = verdict.ok ? devices.get(verdict.username) : undefined;
    if (found) return { ok: true, ...found };
    if (!verdict.ok && (verdict.reason === 'missing' || verdict.reason === 'malformed')) return this.#challenge(req, kind, false, 'challenge');
    if (!verdict.ok && verdict.reason === 'stale') return this.#challenge(req, kind, true, 'stale');
    // A correct answer sent again with a used nc: sip.js does this on every refresh and after reconnecting (it keeps
    // the request it authorized, Authorization included). The replay itself is refused — it gets a fresh challenge
    // (stale, as Kamailio answers a reused nonce), which only the password holder can answer; it is no password guess.
    if (!verdict.ok && verdict.reason === 'replay') return this.#challenge(req, kind, true, 'stale');
    // RFC 2617 §3.2.2.5: a digest-uri other than the Request-URI "SHOULD return a 400 Bad Request error".
    if (!verdict.ok && verdict.reason === 'uri-mismatch') return { ok: false, status: Status.BadRequest, headers: {}, reason: 'bad-request', phrase: 'Digest uri does not match the Request-URI' };
    // Wrong password, unknown user, replayed nc: one answer for all (no enumeration), counted per (source,
    // username) and per username.
    this.#limiter.recordFailure(pair);
    this.#userLimiter.recordFailure(claimed);
    return { ok: false, status: Status.Forbidden, headers: {}, reason: 'invalid' };
  }

  #devices(): Map<string, AuthenticatedDevice> {
    const config = this.#config.live().config;
    if (this.#index?.config !== config) {
      const devices = new Map<string, AuthenticatedDevice>();
      for (const user of config.users) for (const device of user.devices) if (!devices.has(device.username)) devices.set(device.username, { device, user });
      this.#index = { config, devices };
    }
    return this.#index.devices;
  }

  /** The algorithms to offer for this request's device (its `digest`, else `sip.digest`), strongest first. */
  #algorithmsFor(req: SrfRequest): DigestAlgorithm[] {
    const config = this.#config.live().config;
    const user = aorUser(req.get(req.method === 'REGISTER' ? 'To' : 'From'));
    const choice: DigestChallenge = (user !== null ? this.#devices().get(user)?.device.digest : undefined) ?? config.sip.digest;
    // sip.js (every browser phone) answers only the first challenge and has no SHA-256: a WebSocket client gets MD5
    // alone whatever the choice, or it could never register.
    const protocol = (req.protocol ?? '').toLowerCase();
    if (protocol === 'ws' || protocol === 'wss') return ['MD5'];
    return choice === 'sha256' ? ['SHA-256', 'MD5'] : ['MD5'];
  }

  #challenge(req: SrfRequest, kind: AuthKind, stale: boolean, reason: 'challenge' | 'stale'): AuthResult {
    const value = this.#algorithmsFor(req).map((algorithm) => this.#digest.challenge({ algorithm, stale })).join(', ');
    return kind === 'www'
      ? { ok: false, status: Status.Unauthorized, headers: { 'WWW-Authenticate': value }, reason }
      : { ok: false, status: Status.ProxyAuthenticationRequired, headers: { 'Proxy-Authenticate': value }, reason };
  }
}

/** The user part of a To/From header value (`"Name" <sip:user@host>;tag=x`), or null. */
export function aorUser(header: string | undefined): string | null {
  // The core's name-addr grammar (one linear scan), not a regular expression over the whole header.
  return header ? sipUriUser(header) ?? null : null;
}

/** The `username` a credentials value claims (first one; bounded), lower-cased for counting; '' when none. */
function claimedUsername(header: string): string {
  const m = /username\s*=\s*"([^"]{0,128})"/i.exec(header.slice(0, 1024));
  return m ? m[1]!.toLowerCase() : '';
}
