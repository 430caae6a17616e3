/**
 * HTTP Digest authentication for SIP (RFC 3261 §22.4, RFC 2617, RFC 7616, RFC 8760): MD5 and SHA-256, with and
 * without `-sess`, `qop=auth` or no qop (RFC 2069 compatibility).
 *
 * Server nonces are stateless: `base64url(issuedAt ‖ random ‖ HMAC-SHA-256(secret, issuedAt ‖ random ‖ realm))`,
 * so verifying one needs no table and a forged or expired one is recognised. The server requires `qop=auth` (a
 * no-qop response can be replayed for the nonce's whole life) and a `uri` equal to the Request-URI; a per-user,
 * per-nonce window of seen `nc` values rejects replays. That table is bounded per user, and a live nonce is never
 * forgotten silently: when a user's oldest entry must go, every nonce of that user issued up to it is retired
 * (answered `stale`), so a captured response can never be replayed after its nc record is gone.
 *
 * The engine imports this file (the documented exception of STYLE.md §3): it is pure computation over strings,
 * with no I/O and no tie to our transport or transactions.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ownString, type Clock } from '../common/index.js';
import { formatAuthParams, parseAuthParams } from './headers.js';
import { uriEquals } from './uri.js';

/** Digest algorithms we offer and accept. */
export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** Why a credentials check failed. */
export type DigestFailure = 'missing' | 'malformed' | 'uri-mismatch' | 'stale' | 'bad-credentials' | 'replay' | 'unknown-user';

/** Result of {@link DigestServer.verify}. */
export type DigestVerifyResult = { ok: true; username: string } | { ok: false; reason: DigestFailure };

/** Options of {@link DigestServer}. */
export interface DigestServerOptions {
  realm: string;
  clock: Clock;
  /** How long a nonce stays valid; default 300 000 ms (5 min). */
  nonceTtlMs?: number;
  /** HMAC key for nonces; default 32 random bytes (nonces then die with the process). */
  secret?: Buffer;
  /**
   * Nonces tracked for nc replay per username; default 32. Past it the user's oldest entry goes and every nonce
   * of that user issued up to it is retired (answered stale). Only correct responses create entries, so the
   * table is bounded by (devices × this) and one device cannot push out another's.
   */
  maxNoncesPerUser?: number;
}

/** Options of {@link DigestServer.verify}. */
export interface DigestVerifyOptions {
  /** The request's Request-URI: the credentials' `uri` must equal it (RFC 2617 §3.2.2.5, RFC 3261 §19.1.4). */
  requestUri?: string;
}

/** At most this many credentials of one header are looked at (RFC 7616 §3.4 lets a client send several). */
const MAX_CREDENTIALS = 8;

const HASHES: Record<string, { alg: 'md5' | 'sha256'; sess: boolean; hexLen: number }> = {
  'md5': { alg: 'md5', sess: false, hexLen: 32 },
  'md5-sess': { alg: 'md5', sess: true, hexLen: 32 },
  'sha-256': { alg: 'sha256', sess: false, hexLen: 64 },
  'sha-256-sess': { alg: 'sha256', sess: true, hexLen: 64 },
};

const NC_WINDOW = 64;

function h(alg: 'md5' | 'sha256', s: string): string {
  return createHash(alg).update(s, 'utf8').digest('hex');
}

interface DigestInput {
  alg: 'md5' | 'sha256';
  sess: boolean;
  ha1Base: string;
  nonce: string;
  cnonce?: string;
  nc?: string;
  qop?: string;
  method: string;
  uri: string;
}

/** response = KD(HA1, nonce[:nc:cnonce:qop]:HA2) per RFC 7616 §3.4.1 / RFC 2617 §3.2.2.1. */
function digestResponse(d: DigestInput): string {
  const ha1 = d.sess ? h(d.alg, `${d.ha1Base}:${d.nonce}:${d.cnonce ?? ''}`) : d.ha1Base;
  const ha2 = h(d.alg, `${d.method}:${d.uri}`);
  return d.qop ? h(d.alg, `${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${ha2}`) : h(d.alg, `${ha1}:${d.nonce}:${ha2}`);
}

/** HA1 = H(username:realm:password). Store this instead of the password when you can. */
export function computeHa1(username: string, realm: string, password: string, algorithm: DigestAlgorithm = 'MD5'): string {
  return h(algorithm === 'MD5' ? 'md5' : 'sha256', `${username}:${realm}:${password}`);
}

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase(), 'utf8');
  const y = Buffer.from(b.toLowerCase(), 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Server side of digest authentication for one realm. */
export class DigestServer {
  readonly realm: string;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #secret: Buffer;
  readonly #maxPerUser: number;
  /** username → its nonces (nonce → highest nc and the nc values seen in the window below it; insertion order = age). */
  readonly #seen = new Map<string, UserNonces>();

  constructor(opts: DigestServerOptions) {
    if (!opts.realm) throw new TypeError('DigestServer needs a realm');
    this.realm = opts.realm;
    this.#clock = opts.clock;
    this.#ttlMs = opts.nonceTtlMs ?? 300_000;
    this.#secret = opts.secret ?? randomBytes(32);
    this.#maxPerUser = opts.maxNoncesPerUser ?? 32;
  }

  /** A WWW-Authenticate / Proxy-Authenticate value with a fresh nonce and `qop="auth"`. */
  challenge(opts: { algorithm?: DigestAlgorithm; stale?: boolean } = {}): string {
    const params: Record<string, string> = { realm: this.realm, nonce: this.#newNonce(), algorithm: opts.algorithm ?? 'MD5', qop: 'auth' };
    if (opts.stale) params['stale'] = 'true';
    return formatAuthParams('Digest', params);
  }

  #mac(issued: Buffer): Buffer {
    return createHmac('sha256', this.#secret).update(issued).update(this.realm, 'utf8').digest().subarray(0, 16);
  }

  #newNonce(): string {
    const issued = Buffer.alloc(16);
    issued.writeDoubleBE(this.#clock.now(), 0);
    randomBytes(8).copy(issued, 8);
    return Buffer.concat([issued, this.#mac(issued)]).toString('base64url');
  }

  /** Whether we issued `nonce` (its MAC is ours), and if so when. */
  #issuedAt(nonce: string): number | undefined {
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== 32 || raw.toString('base64url') !== nonce) return undefined;
    const issued = raw.subarray(0, 16);
    if (!timingSafeEqual(raw.subarray(16), this.#mac(issued))) return undefined;
    return issued.readDoubleBE(0);
  }

  /** 'ok' | 'forged' | 'stale' for a nonce we may have issued. */
  #checkNonce(nonce: string): 'ok' | 'forged' | 'stale' {
    const at = this.#issuedAt(nonce);
    if (at === undefined) return 'forged';
    const now = this.#clock.now();
    return now - at > this.#ttlMs || at - now > 60_000 ? 'stale' : 'ok';
  }

  /** Records `nc` for `nonce` of `username`: 'ok', 'replay' if already used (or below the window), 'stale' if retired. */
  #acceptNc(username: string, nonce: string, nc: number): 'ok' | 'replay' | 'stale' {
    const now = this.#clock.now();
    const issuedAt = this.#issuedAt(nonce)!;
    let user = this.#seen.get(username);
    if (!user) {
      this.#sweep(now);
      user = { retiredUpTo: -Infinity, nonces: new Map() };
      // Keys are own copies: cut from the Authorization header, they would pin the whole request text for the
      // nonce's lifetime (5 minutes by default).
      this.#seen.set(ownString(username), user);
    }
    let entry = user.nonces.get(nonce);
    if (!entry) {
      if (issuedAt <= user.retiredUpTo) return 'stale';
      for (const [k, v] of user.nonces) {
        if (v.expiresAt > now && user.nonces.size < this.#maxPerUser) break;
        // A live entry pushed out takes every older nonce of this user with it: they can no longer be checked for
        // replays, so they are answered stale and the phone fetches a fresh one.
        if (v.expiresAt > now) user.retiredUpTo = Math.max(user.retiredUpTo, v.issuedAt);
        user.nonces.delete(k);
      }
      entry = { issuedAt, expiresAt: issuedAt + this.#ttlMs, maxNc: 0, ncs: new Set() };
      user.nonces.set(ownString(nonce), entry);
    }
    if (entry.ncs.has(nc) || nc <= entry.maxNc - NC_WINDOW) return 'replay';
    entry.ncs.add(nc);
    if (nc > entry.maxNc) {
      entry.maxNc = nc;
      for (const old of entry.ncs) if (old <= nc - NC_WINDOW) entry.ncs.delete(old);
    }
    return 'ok';
  }

  /** Forgets users whose nonces have all expired (and whose retirement mark no longer matters). */
  #sweep(now: number): void {
    if (this.#seen.size < 64 || now - this.#lastSweep < this.#ttlMs / 4) return;
    this.#lastSweep = now;
    for (const [name, user] of this.#seen) {
      for (const [k, v] of user.nonces) if (v.expiresAt <= now) user.nonces.delete(k);
      if (user.nonces.size === 0 && user.retiredUpTo + this.#ttlMs <= now) this.#seen.delete(name);
    }
  }

  #lastSweep = -Infinity;

  /** How many nonces are tracked for replay (for tests and metrics). */
  get trackedNonces(): number {
    let n = 0;
    for (const u of this.#seen.values()) n += u.nonces.size;
    return n;
  }

  /**
   * Checks an Authorization / Proxy-Authorization value for a request with `method`. `lookup` returns the user's
   * password or HA1 (hex, as {@link computeHa1} makes it), or undefined for an unknown user. The value may hold
   * several credentials (several header lines joined with ','): the one answering a nonce we issued for our realm
   * is verified (RFC 7616 §3.4; a UA may answer each challenge it understood).
   */
  verify(authorizationValue: string | undefined, method: string, lookup: (username: string, realm: string) => string | undefined, opts: DigestVerifyOptions = {}): DigestVerifyResult {
    if (!authorizationValue || !authorizationValue.trim()) return { ok: false, reason: 'missing' };
    const candidates = splitChallenges(authorizationValue).slice(0, MAX_CREDENTIALS).map(parseAuthParams);
    const ours = candidates.find((c) => c.scheme.toLowerCase() === 'digest' && c.params['realm'] === this.realm && this.#issuedAt(c.params['nonce'] ?? '') !== undefined);
    const picked = ours ?? candidates.find((c) => c.scheme.toLowerCase() === 'digest') ?? candidates[0];
    if (!picked) return { ok: false, reason: 'malformed' };
    return this.#verifyOne(picked, method, lookup, opts);
  }

  #verifyOne({ scheme, params }: { scheme: string; params: Record<string, string> }, method: string, lookup: (username: string, realm: string) => string | undefined, opts: DigestVerifyOptions): DigestVerifyResult {
    if (scheme.toLowerCase() !== 'digest') return { ok: false, reason: 'malformed' };
    const { username, realm, nonce, uri, response } = params;
    const algName = (params['algorithm'] ?? 'MD5').toLowerCase();
    const hash = HASHES[algName];
    if (!username || realm === undefined || !nonce || uri === undefined || !response || !hash) return { ok: false, reason: 'malformed' };
    // We always offer qop="auth": an answer without it (RFC 2069 form) has no nc, so it could be replayed for the
    // nonce's whole life; it is refused like malformed credentials (a fresh challenge).
    if (params['qop'] !== 'auth') return { ok: false, reason: 'malformed' };
    if (!params['cnonce'] || !/^[0-9a-fA-F]{8}$/.test(params['nc'] ?? '')) return { ok: false, reason: 'malformed' };
    // RFC 2617 §3.2.2.5: "The server should check that the URI in the request line and digest-uri are the same
    // ... If they are not, the server SHOULD return a 400 Bad Request error." Equality per RFC 3261 §19.1.4.
    if (opts.requestUri !== undefined && uri !== opts.requestUri && !uriEquals(uri, opts.requestUri)) return { ok: false, reason: 'uri-mismatch' };
    if (realm !== this.realm) return { ok: false, reason: 'bad-credentials' };
    const nonceState = this.#checkNonce(nonce);
    const secret = lookup(username, realm);
    if (secret === undefined) return { ok: false, reason: 'unknown-user' };
    const base: DigestInput = { alg: hash.alg, sess: hash.sess, ha1Base: '', nonce, method, uri, cnonce: params['cnonce'], qop: 'auth', nc: params['nc']! };
    // The lookup may hand us a password or a stored HA1; try the password reading first, then HA1 if it is shaped like one.
    let match = safeEqualHex(digestResponse({ ...base, ha1Base: h(hash.alg, `${username}:${realm}:${secret}`) }), response);
    if (!match && secret.length === hash.hexLen && /^[0-9a-fA-F]+$/.test(secret)) {
      match = safeEqualHex(digestResponse({ ...base, ha1Base: secret.toLowerCase() }), response);
    }
    if (!match) return { ok: false, reason: 'bad-credentials' };
    // RFC 7616 §3.3: a correct response with an expired nonce gets a new challenge with stale=true. A nonce we did not
    // issue (e.g. from before a restart with a new secret) is treated the same: the password was right, so the client
    // may retry with a fresh nonce without prompting the user; access is never granted on it.
    if (nonceState !== 'ok') return { ok: false, reason: 'stale' };
    const nc = this.#acceptNc(username, nonce, parseInt(params['nc']!, 16));
    if (nc !== 'ok') return { ok: false, reason: nc };
    return { ok: true, username };
  }
}

interface UserNonces {
  /** Nonces issued at or before this time are refused (stale): their replay record was dropped. */
  retiredUpTo: number;
  nonces: Map<string, { issuedAt: number; expiresAt: number; maxNc: number; ncs: Set<number> }>;
}

/**
 * Splits `Digest a=1, b=2, Digest c=3` (several WWW-Authenticate challenges or Authorization credentials joined
 * into one value, as srf joins repeated headers) into its parts: a comma outside quotes that is followed by
 * `<scheme> <param>=` starts a new one (auth-params never have a space before their '=').
 */
export function splitChallenges(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted && /^\s*[A-Za-z][A-Za-z0-9-]*\s+[A-Za-z0-9-]+\s*=/.test(value.slice(i + 1, i + 80))) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((v) => v.length > 0);
}

/** Options of {@link computeAuthorization}. */
export interface DigestClientOptions {
  username: string;
  password: string;
  method: string;
  uri: string;
  /** Nonce count (default 1); increment it for each request reusing the same nonce. */
  nc?: number;
  /** Client nonce (default 16 random bytes, hex). */
  cnonce?: string;
}

const CREDENTIAL_QUOTED = ['username', 'realm', 'nonce', 'uri', 'response', 'cnonce', 'opaque'];

/**
 * Client side: the Authorization / Proxy-Authorization value answering a WWW-/Proxy-Authenticate `challengeValue`.
 * Uses `qop=auth` when offered, otherwise the RFC 2069 form.
 */
export function computeAuthorization(challengeValue: string, opts: DigestClientOptions): string {
  const { params } = parseAuthParams(challengeValue);
  const algorithm = params['algorithm'] ?? 'MD5';
  const hash = HASHES[algorithm.toLowerCase()];
  if (!hash) throw new TypeError(`unsupported digest algorithm ${algorithm}`);
  const realm = params['realm'] ?? '';
  const nonce = params['nonce'] ?? '';
  const offered = (params['qop'] ?? '').split(',').map((q) => q.trim().toLowerCase());
  const qop = offered.includes('auth') ? 'auth' : undefined;
  const cnonce = opts.cnonce ?? randomBytes(16).toString('hex');
  const nc = (opts.nc ?? 1).toString(16).padStart(8, '0');
  const input: DigestInput = { alg: hash.alg, sess: hash.sess, ha1Base: h(hash.alg, `${opts.username}:${realm}:${opts.password}`), nonce, method: opts.method, uri: opts.uri };
  if (qop || hash.sess) input.cnonce = cnonce;
  if (qop) {
    input.qop = qop;
    input.nc = nc;
  }
  const out: Record<string, string> = { username: opts.username, realm, nonce, uri: opts.uri, response: digestResponse(input), algorithm };
  if (input.cnonce !== undefined) out['cnonce'] = cnonce;
  if (qop) {
    out['qop'] = qop;
    out['nc'] = nc;
  }
  if (params['opaque'] !== undefined) out['opaque'] = params['opaque'];
  return formatAuthParams('Digest', out, CREDENTIAL_QUOTED);
}
