/**
 * HTTP digest for SIP (RFC 3261 §22, RFC 8760 for SHA-256): challenges and verifies Authorization /
 * Proxy-Authorization. Nonces are self-validating (timestamp + HMAC), expire after `nonceTtlMs`, and each
 * nonce-count may be used once (RFC 7616 §3.3 replay protection).
 *
 * TODO(#3): switch to `src/sip/digest.ts` (DigestServer) once it lands; this file keeps the same rules.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../common/clock.js';

/** Digest algorithms we offer, in the order they are offered. */
export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** Parsed credentials of an Authorization / Proxy-Authorization header. */
export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  qop: string | null;
  nc: string | null;
  cnonce: string | null;
}

/** Why a verification failed: `stale` = the nonce expired (re-challenge with stale=true), else bad credentials. */
export type DigestVerdict = { ok: true; username: string } | { ok: false; error: 'stale' | 'invalid' | 'malformed' };

const ALGO_HASH: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

function h(algo: DigestAlgorithm, s: string): string {
  return createHash(ALGO_HASH[algo]).update(s).digest('hex');
}

/** Parses `Digest k=v, k="v"` into credentials; null when it is not a digest header or lacks a mandatory field. */
export function parseDigestCredentials(header: string | undefined): DigestCredentials | null {
  if (!header || header.length > 4096) return null;
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!m) return null;
  const params: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  let g: RegExpExecArray | null;
  while ((g = re.exec(m[1]!)) !== null) params[g[1]!.toLowerCase()] = g[2] !== undefined ? g[2].replace(/\\(.)/g, '$1') : g[3]!;
  const algoRaw = (params['algorithm'] ?? 'MD5').toUpperCase();
  const algorithm: DigestAlgorithm | null = algoRaw === 'MD5' ? 'MD5' : algoRaw === 'SHA-256' ? 'SHA-256' : null;
  if (!algorithm || !params['username'] || !params['nonce'] || !params['uri'] || !params['response'] || params['realm'] === undefined) return null;
  return {
    username: params['username'], realm: params['realm'], nonce: params['nonce'], uri: params['uri'],
    response: params['response'].toLowerCase(), algorithm, qop: params['qop'] ?? null, nc: params['nc'] ?? null, cnonce: params['cnonce'] ?? null,
  };
}

/** Options of {@link DigestAuthority}. */
export interface DigestAuthorityOptions {
  realm: string;
  clock: Clock;
  /** Offered in this order; default MD5 first (older UAs, SIPp, take the first challenge), then SHA-256. */
  algorithms?: DigestAlgorithm[];
  nonceTtlMs?: number;
}

/** Issues challenges and verifies responses for one realm. */
export class DigestAuthority {
  readonly realm: string;
  readonly #clock: Clock;
  readonly #algorithms: DigestAlgorithm[];
  readonly #ttlMs: number;
  readonly #key = randomBytes(32);
  /** nonce → highest nc seen; pruned when nonces expire. */
  readonly #seenNc = new Map<string, { nc: number; issuedAt: number }>();

  constructor(opts: DigestAuthorityOptions) {
    this.realm = opts.realm;
    this.#clock = opts.clock;
    this.#algorithms = opts.algorithms ?? ['MD5', 'SHA-256'];
    this.#ttlMs = opts.nonceTtlMs ?? 300_000;
  }

  /** One header value carrying a challenge per algorithm (comma-separated challenges, RFC 7235 §4.1). */
  challenge(stale = false): string {
    const nonce = this.#newNonce();
    return this.#algorithms
      .map((a) => `Digest realm="${this.realm}", nonce="${nonce}", algorithm=${a}, qop="auth"${stale ? ', stale=true' : ''}`)
      .join(', ');
  }

  /** Verifies `creds` for `method` against the device password (undefined = unknown user: same verdict as wrong password). */
  verify(method: string, creds: DigestCredentials, password: string | undefined): DigestVerdict {
    const issuedAt = this.#checkNonce(creds.nonce);
    if (issuedAt === null) return { ok: false, error: 'invalid' };
    const ha1 = h(creds.algorithm, `${creds.username}:${creds.realm}:${password ?? randomBytes(16).toString('hex')}`);
    const ha2 = h(creds.algorithm, `${method}:${creds.uri}`);
    let expected: string;
    if (creds.qop) {
      if (creds.qop !== 'auth' || !creds.nc || !creds.cnonce) return { ok: false, error: 'malformed' };
      expected = h(creds.algorithm, `${ha1}:${creds.nonce}:${creds.nc}:${creds.cnonce}:${creds.qop}:${ha2}`);
    } else {
      expected = h(creds.algorithm, `${ha1}:${creds.nonce}:${ha2}`);
    }
    const a = Buffer.from(expected);
    const b = Buffer.from(creds.response);
    const match = a.length === b.length && timingSafeEqual(a, b) && password !== undefined && creds.realm === this.realm;
    if (!match) return { ok: false, error: 'invalid' };
    if (this.#clock.now() - issuedAt > this.#ttlMs) return { ok: false, error: 'stale' };
    if (creds.qop) {
      const nc = parseInt(creds.nc!, 16);
      const seen = this.#seenNc.get(creds.nonce);
      if (!Number.isFinite(nc) || (seen && nc <= seen.nc)) return { ok: false, error: 'invalid' };
      this.#seenNc.set(creds.nonce, { nc, issuedAt });
      this.#prune();
    }
    return { ok: true, username: creds.username };
  }

  #newNonce(): string {
    const ts = this.#clock.now().toString(36);
    const salt = randomBytes(6).toString('hex');
    const mac = createHmac('sha256', this.#key).update(`${ts}.${salt}`).digest('hex').slice(0, 24);
    return `${ts}.${salt}.${mac}`;
  }

  /** Returns the nonce's issue time when we issued it, else null. */
  #checkNonce(nonce: string): number | null {
    const parts = nonce.split('.');
    if (parts.length !== 3) return null;
    const mac = createHmac('sha256', this.#key).update(`${parts[0]}.${parts[1]}`).digest('hex').slice(0, 24);
    if (mac !== parts[2]) return null;
    const ts = parseInt(parts[0]!, 36);
    return Number.isFinite(ts) ? ts : null;
  }

  #prune(): void {
    if (this.#seenNc.size < 1000) return;
    const cutoff = this.#clock.now() - this.#ttlMs;
    for (const [n, v] of this.#seenNc) if (v.issuedAt < cutoff) this.#seenNc.delete(n);
  }
}
