/**
 * HTTP Digest authentication for SIP (RFC 3261 §22.4, RFC 2617, RFC 7616, RFC 8760): MD5 and SHA-256, with and
 * without `-sess`, `qop=auth` or no qop (RFC 2069 compatibility).
 *
 * Server nonces are stateless: `base64url(issuedAt ‖ random ‖ HMAC-SHA-256(secret, issuedAt ‖ random ‖ realm))`,
 * so verifying one needs no table and a forged or expired one is recognised. With `qop=auth`, a bounded per-nonce
 * window of seen `nc` values rejects replays; its size is capped and entries expire with their nonce.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import { formatAuthParams, parseAuthParams } from './headers.js';

/** Digest algorithms we offer and accept. */
export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** Why a credentials check failed. */
export type DigestFailure = 'missing' | 'malformed' | 'stale' | 'bad-credentials' | 'replay' | 'unknown-user';

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
  /** Upper bound on nonces tracked for nc replay; default 10 000 (oldest dropped first). */
  maxTrackedNonces?: number;
}

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
  readonly #maxTracked: number;
  /** nonce → highest nc seen and the set of nc values seen within the window below it. Insertion order = age. */
  readonly #seen = new Map<string, { expiresAt: number; maxNc: number; ncs: Set<number> }>();

  constructor(opts: DigestServerOptions) {
    if (!opts.realm) throw new TypeError('DigestServer needs a realm');
    this.realm = opts.realm;
    this.#clock = opts.clock;
    this.#ttlMs = opts.nonceTtlMs ?? 300_000;
    this.#secret = opts.secret ?? randomBytes(32);
    this.#maxTracked = opts.maxTrackedNonces ?? 10_000;
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

  /** 'ok' | 'forged' | 'stale' for a nonce we may have issued. */
  #checkNonce(nonce: string): 'ok' | 'forged' | 'stale' {
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== 32 || raw.toString('base64url') !== nonce) return 'forged';
    const issued = raw.subarray(0, 16);
    if (!timingSafeEqual(raw.subarray(16), this.#mac(issued))) return 'forged';
    const at = issued.readDoubleBE(0);
    const now = this.#clock.now();
    return now - at > this.#ttlMs || at - now > 60_000 ? 'stale' : 'ok';
  }

  /** Records `nc` for `nonce`; false if it was already used (or is older than the window). */
  #acceptNc(nonce: string, nc: number): boolean {
    const now = this.#clock.now();
    let entry = this.#seen.get(nonce);
    if (!entry) {
      for (const [k, v] of this.#seen) {
        if (v.expiresAt > now && this.#seen.size < this.#maxTracked) break;
        this.#seen.delete(k);
      }
      entry = { expiresAt: now + this.#ttlMs, maxNc: 0, ncs: new Set() };
      this.#seen.set(nonce, entry);
    }
    if (entry.ncs.has(nc) || nc <= entry.maxNc - NC_WINDOW) return false;
    entry.ncs.add(nc);
    if (nc > entry.maxNc) {
      entry.maxNc = nc;
      for (const old of entry.ncs) if (old <= nc - NC_WINDOW) entry.ncs.delete(old);
    }
    return true;
  }

  /**
   * Checks an Authorization / Proxy-Authorization value for a request with `method`. `lookup` returns the user's
   * password or HA1 (hex, as {@link computeHa1} makes it), or undefined for an unknown user.
   */
  verify(authorizationValue: string | undefined, method: string, lookup: (username: string, realm: string) => string | undefined): DigestVerifyResult {
    if (!authorizationValue || !authorizationValue.trim()) return { ok: false, reason: 'missing' };
    const { scheme, params } = parseAuthParams(authorizationValue);
    if (scheme.toLowerCase() !== 'digest') return { ok: false, reason: 'malformed' };
    const { username, realm, nonce, uri, response } = params;
    const algName = (params['algorithm'] ?? 'MD5').toLowerCase();
    const hash = HASHES[algName];
    if (!username || realm === undefined || !nonce || uri === undefined || !response || !hash) return { ok: false, reason: 'malformed' };
    const qop = params['qop'];
    if (qop !== undefined && qop !== 'auth') return { ok: false, reason: 'malformed' };
    if (qop && (!params['cnonce'] || !/^[0-9a-fA-F]{8}$/.test(params['nc'] ?? ''))) return { ok: false, reason: 'malformed' };
    if (hash.sess && !params['cnonce']) return { ok: false, reason: 'malformed' };
    if (realm !== this.realm) return { ok: false, reason: 'bad-credentials' };
    const nonceState = this.#checkNonce(nonce);
    const secret = lookup(username, realm);
    if (secret === undefined) return { ok: false, reason: 'unknown-user' };
    const base: Omit<DigestInput, 'ha1Base'> = { alg: hash.alg, sess: hash.sess, nonce, method, uri };
    if (params['cnonce'] !== undefined) base.cnonce = params['cnonce'];
    if (qop) {
      base.qop = qop;
      base.nc = params['nc']!;
    }
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
    if (qop && !this.#acceptNc(nonce, parseInt(params['nc']!, 16))) return { ok: false, reason: 'replay' };
    return { ok: true, username };
  }
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
