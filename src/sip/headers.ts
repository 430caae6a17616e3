/**
 * Typed views of the headers we must understand (RFC 3261 §20): Via, name-addr (From, To, Contact, Route…),
 * CSeq, tags, and the auth-param lists of WWW-Authenticate / Authorization. Values are parsed on demand from the
 * raw `HeaderField.value`; formatting produces canonical text. All parsers return `undefined` on malformed input.
 */
import { randomBytes } from 'node:crypto';
import { formatHost } from '../common/index.js';
import { endOfQuoted, formatParams, isTokenChar, isWs, parseParams, quote, readToken, skipWs, unquote } from './syntax.js';

export { isTokenChar, isToken, parseParams, formatParams, unquote, quote, parseNameAddr, formatNameAddr, type NameAddr } from './syntax.js';

/** One Via entry (RFC 3261 §20.42). An IPv6 host is stored without brackets. */
export interface Via {
  /** e.g. `SIP/2.0` */
  protocol: string;
  /** e.g. `UDP`, `TCP` (as received) */
  transport: string;
  host: string;
  port?: number;
  /** `branch`, `received`, `rport` (null when valueless), `maddr`, …; names lower-cased. */
  params: Record<string, string | null>;
}

function parseHost(s: string, i: number): { host: string; port?: number; end: number } | undefined {
  let host: string;
  if (s.charCodeAt(i) === 0x5b /* [ */) {
    const close = s.indexOf(']', i);
    if (close === -1) return undefined;
    host = s.slice(i + 1, close);
    if (host.indexOf(':') === -1) return undefined;
    for (let k = 0; k < host.length; k++) {
      const c = host.charCodeAt(k);
      if (!((c >= 0x30 && c <= 0x3a) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) || c === 0x2e)) return undefined;
    }
    i = close + 1;
  } else {
    const start = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x5f) i++;
      else break;
    }
    if (i === start) return undefined;
    host = s.slice(start, i);
  }
  const afterHost = i;
  i = skipWs(s, i);
  if (s.charCodeAt(i) === 0x3a /* : */) {
    i = skipWs(s, i + 1);
    const ps = i;
    while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
    if (i === ps || i - ps > 5) return undefined;
    const port = Number(s.slice(ps, i));
    if (port > 65535) return undefined;
    return { host, port, end: i };
  }
  return { host, end: afterHost };
}

/** Parses one Via entry (`SIP/2.0/UDP host:port;branch=…`); LWS around the slashes is allowed (RFC 3261 §20.42). */
export function parseVia(value: string): Via | undefined {
  const s = value;
  let i = skipWs(s, 0);
  const nameStart = i;
  i = readToken(s, i);
  if (i === nameStart) return undefined;
  const name = s.slice(nameStart, i);
  i = skipWs(s, i);
  if (s.charCodeAt(i) !== 0x2f) return undefined;
  i = skipWs(s, i + 1);
  const verStart = i;
  i = readToken(s, i);
  if (i === verStart) return undefined;
  const version = s.slice(verStart, i);
  i = skipWs(s, i);
  if (s.charCodeAt(i) !== 0x2f) return undefined;
  i = skipWs(s, i + 1);
  const trStart = i;
  i = readToken(s, i);
  if (i === trStart) return undefined;
  const transport = s.slice(trStart, i);
  const wsStart = i;
  i = skipWs(s, i);
  if (i === wsStart) return undefined;
  const hp = parseHost(s, i);
  if (!hp) return undefined;
  i = hp.end;
  let end = s.length;
  // A trailing comment is allowed by the grammar (RFC 3261 §20.42 via-extension aside, e.g. `(comment)`).
  const paren = s.indexOf('(', i);
  if (paren !== -1 && s.indexOf('"', i) === -1) end = paren;
  const params = parseParams(s.slice(0, end).trimEnd(), i);
  if (!params) return undefined;
  const via: Via = { protocol: `${name}/${version}`, transport, host: hp.host, params };
  if (hp.port !== undefined) via.port = hp.port;
  return via;
}

/** Formats a Via entry in canonical form (`SIP/2.0/UDP host:port;params`). */
export function formatVia(v: Via): string {
  const host = formatHost(v.host);
  return `${v.protocol}/${v.transport} ${host}${v.port !== undefined ? ':' + v.port : ''}${formatParams(v.params)}`;
}

/** Parses a CSeq value (`314159 INVITE`); the number must fit in 32 bits (RFC 3261 §8.1.1.5). */
export function parseCSeq(value: string): { seq: number; method: string } | undefined {
  const s = value;
  let i = skipWs(s, 0);
  const ds = i;
  while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
  if (i === ds || i - ds > 10) return undefined;
  const seq = Number(s.slice(ds, i));
  if (seq > 0xffffffff) return undefined;
  const ws = i;
  i = skipWs(s, i);
  if (i === ws) return undefined;
  const ms = i;
  i = readToken(s, i);
  if (i === ms || skipWs(s, i) !== s.length) return undefined;
  return { seq, method: s.slice(ms, i) };
}

/** Index where the header parameters of a name-addr/addr-spec value begin (past `>` or at the first `;`). */
function paramsStart(value: string): number {
  let i = 0;
  if (value.charCodeAt(skipWs(value, 0)) === 0x22) {
    const end = endOfQuoted(value, skipWs(value, 0));
    if (end === -1) return value.length;
    i = end;
  }
  const gt = value.indexOf('>', i);
  if (gt !== -1) return gt + 1;
  const semi = value.indexOf(';', i);
  return semi === -1 ? value.length : semi;
}

/** The `tag` parameter of a From or To value, or undefined. */
export function getTag(fromOrToValue: string): string | undefined {
  const params = parseParams(fromOrToValue, paramsStart(fromOrToValue));
  const tag = params?.['tag'];
  return tag === null || tag === undefined ? undefined : tag;
}

/**
 * The `tag` parameter of a From or To value as a UAS must judge it: the tag (undefined when there is none), or null
 * when the header parameters cannot be read at all (`;tag=a|b`: {@link getTag} would stop at the `|` and see no tag).
 */
export function readTag(fromOrToValue: string): string | undefined | null {
  const params = parseParams(fromOrToValue, paramsStart(fromOrToValue));
  if (!params) return null;
  const tag = params['tag'];
  return tag === null || tag === undefined ? undefined : tag;
}

/** Returns the value with its `tag` parameter set to `tag` (replacing an existing one). */
export function setTag(value: string, tag: string): string {
  const at = paramsStart(value);
  const params = parseParams(value, at);
  if (!params || !('tag' in params)) return `${value.trimEnd()};tag=${tag}`;
  params['tag'] = tag;
  return value.slice(0, at) + formatParams(params);
}

/**
 * Random bytes for identifiers, fetched from the CSPRNG 4 KiB at a time: a branch, a tag and a Call-ID are made
 * for nearly every message, and one `randomBytes()` call per identifier (a buffer and a native call each) showed
 * up at ~3% of the CPU of a B2BUA under load. Every byte is still used once only.
 */
const RANDOM_POOL_BYTES = 4096;
let randomPool = Buffer.alloc(0);
let randomPoolAt = 0;

function takeRandom(bytes: number): Buffer {
  if (randomPoolAt + bytes > randomPool.length) {
    randomPool = randomBytes(RANDOM_POOL_BYTES);
    randomPoolAt = 0;
  }
  const out = randomPool.subarray(randomPoolAt, randomPoolAt + bytes);
  randomPoolAt += bytes;
  return out;
}

/** `bytes` random bytes as base64url with `-`/`_` replaced, so the result is alphanumeric (a token and a word). */
function randomAlnum(bytes: number): string {
  const s = takeRandom(bytes).toString('base64url');
  return s.indexOf('-') === -1 && s.indexOf('_') === -1 ? s : s.replace(/[-_]/g, (c) => (c === '-' ? 'x' : 'y'));
}

/** A new RFC 3261 branch: the magic cookie `z9hG4bK` plus 96 random bits. */
export function generateBranch(): string {
  return 'z9hG4bK' + randomAlnum(12);
}

/** A new From/To tag (64 random bits, hex). */
export function generateTag(): string {
  return takeRandom(8).toString('hex');
}

/** A new Call-ID (128 random bits), `@host` appended when given. */
export function generateCallId(host?: string): string {
  const id = randomAlnum(16);
  return host ? `${id}@${host}` : id;
}

/**
 * Parses a challenge or credentials value (`Digest realm="x", nonce="y", qop="auth"`). Parameter names are
 * lower-cased; quoted values are unquoted. Unparsable pieces are skipped.
 */
export function parseAuthParams(value: string): { scheme: string; params: Record<string, string> } {
  const s = value;
  let i = skipWs(s, 0);
  const ss = i;
  i = readToken(s, i);
  const scheme = s.slice(ss, i);
  const params: Record<string, string> = {};
  while (i < s.length) {
    i = skipWs(s, i);
    while (s.charCodeAt(i) === 0x2c) i = skipWs(s, i + 1);
    const ks = i;
    i = readToken(s, i);
    if (i === ks) break;
    const key = s.slice(ks, i).toLowerCase();
    i = skipWs(s, i);
    if (s.charCodeAt(i) !== 0x3d) break;
    i = skipWs(s, i + 1);
    if (s.charCodeAt(i) === 0x22) {
      const end = endOfQuoted(s, i);
      if (end === -1) break;
      params[key] = unquote(s.slice(i, end));
      i = end;
    } else {
      const vs = i;
      while (i < s.length && s.charCodeAt(i) !== 0x2c && !isWs(s.charCodeAt(i))) i++;
      params[key] = s.slice(vs, i);
    }
  }
  return { scheme, params };
}

const DEFAULT_QUOTED = new Set(['realm', 'nonce', 'opaque', 'username', 'uri', 'response', 'cnonce', 'domain', 'qop', 'nextnonce', 'rspauth']);

/**
 * Formats `Scheme k="v", k2=v2`. `quoteKeys` names the keys whose values are quoted; by default realm, nonce, opaque,
 * username, uri, response, cnonce, domain and qop (pass a set without `qop` for credentials, where RFC 2617 §3.2.2
 * sends `qop=auth` unquoted).
 */
export function formatAuthParams(scheme: string, params: Record<string, string>, quoteKeys?: Iterable<string>): string {
  const quoted = quoteKeys ? new Set(quoteKeys) : DEFAULT_QUOTED;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) parts.push(quoted.has(k) ? `${k}=${quote(v)}` : `${k}=${v}`);
  return `${scheme} ${parts.join(', ')}`;
}
