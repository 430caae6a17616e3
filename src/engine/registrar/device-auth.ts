/**
 * Authenticates devices by digest, for REGISTER (401 / WWW-Authenticate) and for INVITE (407 /
 * Proxy-Authenticate). Unknown usernames and wrong passwords get the same answer (403) so usernames cannot
 * be enumerated; a source that keeps failing is refused outright for a while.
 */
import { randomBytes } from 'node:crypto';
import type { ConfigControl } from '../facade.js';
import type { DeviceConfig, PbxConfig, UserConfig } from '../../config/index.js';
import { Status } from '../sip-status.js';
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
  | { ok: false; status: number; headers: Record<string, string>; reason: 'challenge' | 'stale' | 'invalid' | 'rate-limited' };

/** Finds a device by username in a configuration (a linear scan; {@link DeviceAuthenticator} keeps an index). */
export function findDevice(config: PbxConfig, username: string): AuthenticatedDevice | undefined {
  for (const user of config.users) {
    const device = user.devices.find((d) => d.username === username);
    if (device) return { device, user };
  }
  return undefined;
}

/**
 * Digest authentication of requests against the live configuration's devices. Challenges list every algorithm
 * in `algorithms` order; srf joins repeated headers into one comma-separated value, and drachtio-lite puts each
 * challenge back on its own header line (RFC 8760 §2.4). MD5 comes first by default because many UAs (SIPp among
 * them) answer the first challenge they see and know only MD5; SHA-256 capable UAs pick SHA-256.
 */
export class DeviceAuthenticator {
  readonly #digest: DigestServer;
  readonly #limiter: FailureRateLimiter;
  readonly #config: ConfigControl;
  readonly #algorithms: DigestAlgorithm[];
  readonly #decoy = randomBytes(24).toString('base64');
  /** Username → device of the configuration object it was built from (versions are immutable). */
  #index: { config: PbxConfig; devices: Map<string, AuthenticatedDevice> } | null = null;

  constructor(opts: { digest: DigestServer; limiter: FailureRateLimiter; config: ConfigControl; algorithms?: DigestAlgorithm[] }) {
    this.#digest = opts.digest;
    this.#limiter = opts.limiter;
    this.#config = opts.config;
    this.#algorithms = opts.algorithms ?? ['MD5', 'SHA-256'];
  }

  /** Checks the request's credentials; `kind` picks 401/WWW-Authenticate or 407/Proxy-Authenticate. */
  check(req: SrfRequest, kind: AuthKind): AuthResult {
    const source = req.source_address;
    if (this.#limiter.isBlocked(source)) return { ok: false, status: Status.Forbidden, headers: {}, reason: 'rate-limited' };
    const header = req.get(kind === 'www' ? 'Authorization' : 'Proxy-Authorization');
    if (header === undefined || header.length > 4096) return this.#challenge(kind, false, 'challenge');
    const devices = this.#devices();
    // An unknown user is checked against a random password, so it costs the same hashing as a wrong password
    // (no timing difference to enumerate usernames with) and fails the same way.
    const verdict = this.#digest.verify(header, req.method, (username) => devices.get(username)?.device.password ?? this.#decoy);
    const found = verdict.ok ? devices.get(verdict.username) : undefined;
    if (found) return { ok: true, ...found };
    if (!verdict.ok && (verdict.reason === 'missing' || verdict.reason === 'malformed')) return this.#challenge(kind, false, 'challenge');
    if (!verdict.ok && verdict.reason === 'stale') return this.#challenge(kind, true, 'stale');
    // Wrong password, unknown user, replayed nc: one answer for all (no enumeration), counted per source.
    this.#limiter.recordFailure(source);
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

  #challenge(kind: AuthKind, stale: boolean, reason: 'challenge' | 'stale'): AuthResult {
    const value = this.#algorithms.map((algorithm) => this.#digest.challenge({ algorithm, stale })).join(', ');
    return kind === 'www'
      ? { ok: false, status: Status.Unauthorized, headers: { 'WWW-Authenticate': value }, reason }
      : { ok: false, status: Status.ProxyAuthenticationRequired, headers: { 'Proxy-Authenticate': value }, reason };
  }
}
