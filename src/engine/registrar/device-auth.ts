/**
 * Authenticates devices by digest, for REGISTER (401 / WWW-Authenticate) and for INVITE (407 /
 * Proxy-Authenticate). Unknown usernames and wrong passwords get the same answer (403) so usernames cannot
 * be enumerated; a source that keeps failing is refused outright for a while.
 */
import type { ConfigControl } from '../facade.js';
import type { DeviceConfig, PbxConfig, UserConfig } from '../../config/types.js';
import { Status } from '../sip-status.js';
import type { SrfRequest } from '../srf-types.js';
import { DigestAuthority, parseDigestCredentials } from './digest-auth.js';
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

/** Finds a device by username in a configuration. */
export function findDevice(config: PbxConfig, username: string): AuthenticatedDevice | undefined {
  for (const user of config.users) {
    const device = user.devices.find((d) => d.username === username);
    if (device) return { device, user };
  }
  return undefined;
}

/** Digest authentication of requests against the live configuration's devices. */
export class DeviceAuthenticator {
  readonly #authority: DigestAuthority;
  readonly #limiter: FailureRateLimiter;
  readonly #config: ConfigControl;

  constructor(opts: { authority: DigestAuthority; limiter: FailureRateLimiter; config: ConfigControl }) {
    this.#authority = opts.authority;
    this.#limiter = opts.limiter;
    this.#config = opts.config;
  }

  /** Checks the request's credentials; `kind` picks 401/WWW-Authenticate or 407/Proxy-Authenticate. */
  check(req: SrfRequest, kind: AuthKind): AuthResult {
    const source = req.source_address;
    if (this.#limiter.isBlocked(source)) return { ok: false, status: Status.Forbidden, headers: {}, reason: 'rate-limited' };
    const header = req.get(kind === 'www' ? 'Authorization' : 'Proxy-Authorization');
    const creds = parseDigestCredentials(header);
    if (!creds) return this.#challenge(kind, false, 'challenge');
    const found = findDevice(this.#config.live().config, creds.username);
    const verdict = this.#authority.verify(req.method, creds, found?.device.password);
    if (verdict.ok && found) return { ok: true, ...found };
    if (!verdict.ok && verdict.error === 'stale' ) return this.#challenge(kind, true, 'stale');
    this.#limiter.recordFailure(source);
    return { ok: false, status: Status.Forbidden, headers: {}, reason: 'invalid' };
  }

  #challenge(kind: AuthKind, stale: boolean, reason: 'challenge' | 'stale'): AuthResult {
    const value = this.#authority.challenge(stale);
    return kind === 'www'
      ? { ok: false, status: Status.Unauthorized, headers: { 'WWW-Authenticate': value }, reason }
      : { ok: false, status: Status.ProxyAuthenticationRequired, headers: { 'Proxy-Authenticate': value }, reason };
  }
}
