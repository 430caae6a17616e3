/**
 * Typed views of the headers we must understand (RFC 3261 §20): Via, name-addr (From, To, Contact, Route…),
 * CSeq, tags, and the auth-param lists of WWW-Authenticate / Authorization. Values are parsed on demand from the
 * raw `HeaderField.value`; formatting produces canonical text. All parsers return `undefined` on malformed input.
 */
import { randomBytes } from 'node:crypto';
import { formatHost } from '../common/host.js';

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

/** A name-addr or addr-spec (RFC 3261 §25.1). `uri` is the raw text inside `<>` (or the bare addr-spec). */
export interface NameAddr {
  displayName?: string;
  uri: string;
  /** Header parameters (`tag`, `expires`, `q`…); names lower-cased; quoted values keep their quotes. */
  params: Record<string, string | null>;
}

const TOKEN_CHARS = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") TOKEN_CHARS[ch.charCodeAt(0)] = 1;

/** Whether `c` (a char code) is an RFC 3261 token character. */
export function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN_CHARS[c] === 1;
}

/** Whether the whole string is a non-empty RFC 3261 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** Index just past the closing quote of a quoted-string starting at `i` (which holds `"`), or -1. */
function endOfQuoted(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x5c) j++;
    else if (c === 0x22) return j + 1;
  }
  return -1;
}

/**
 * Parses `;name[=value]` parameters starting at `i` until the end of `s`. Values are tokens, IPv6 references,
 * host names or quoted strings (kept with their quotes). Returns undefined on a syntax error.
 */
export function parseParams(s: string, i = 0, into: Record<string, string | null> = {}): Record<string, string | null> | undefined {
  i = skipWs(s, i);
  while (i < s.length) {
    if (s.charCodeAt(i) !== 0x3b /* ; */) return undefined;
    i = skipWs(s, i + 1);
    const nameStart = i;
    while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
    if (i === nameStart) return undefined;
    const name = s.slice(nameStart, i).toLowerCase();
    i = skipWs(s, i);
    let value: string | null = null;
    if (i < s.length && s.charCodeAt(i) === 0x3d /* = */) {
      i = skipWs(s, i + 1);
      if (s.charCodeAt(i) === 0x22) {
        const end = endOfQuoted(s, i);
        if (end === -1) return undefined;
        value = s.slice(i, end);
        i = end;
      } else {
        const vStart = i;
        while (i < s.length) {
          const c = s.charCodeAt(i);
          if (isTokenChar(c) || c === 0x3a || c === 0x5b || c === 0x5d) i++;
          else break;
        }
        if (i === vStart) return undefined;
        value = s.slice(vStart, i);
      }
      i = skipWs(s, i);
    }
    into[name] = value;
  }
  return into;
}

/** Formats parameters as `;a=b;c`. */
export function formatParams(params: Record<string, string | null>): string {
  let out = '';
  for (const k in params) {
    const v = params[k];
    out += v === null || v === undefined ? `;${k}` : `;${k}=${v}`;
  }
  return out;
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

function readToken(s: string, i: number): number {
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return i;
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

/** Removes the quotes and backslash escapes of a quoted-string. */
export function unquote(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 0x22 || s.charCodeAt(s.length - 1) !== 0x22) return s;
  if (s.indexOf('\\') === -1) return s.slice(1, -1);
  return s.slice(1, -1).replace(/\\(.)/gs, '$1');
}

/** Wraps a string in double quotes, escaping `"` and `\`. */
export function quote(s: string): string {
  return '"' + s.replace(/["\\]/g, (c) => '\\' + c) + '"';
}

function looksLikeUri(u: string): boolean {
  const colon = u.indexOf(':');
  if (colon <= 0) return false;
  for (let k = 0; k < u.length; k++) {
    const c = u.charCodeAt(k);
    if (c <= 0x20 || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x7f) return false;
    if (k < colon && !((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (k > 0 && ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)))) return false;
  }
  return true;
}

/** Parses a name-addr (`"Alice" <sip:a@x>;tag=1`) or addr-spec (`sip:a@x;tag=1`, where `;…` are header params). */
export function parseNameAddr(value: string): NameAddr | undefined {
  const s = value;
  let i = skipWs(s, 0);
  let displayName: string | undefined;
  let uri: string;
  if (s.charCodeAt(i) === 0x22) {
    const end = endOfQuoted(s, i);
    if (end === -1) return undefined;
    displayName = unquote(s.slice(i, end));
    i = skipWs(s, end);
    if (s.charCodeAt(i) !== 0x3c) return undefined;
  }
  const lt = s.charCodeAt(i) === 0x3c ? i : s.indexOf('<', i);
  let paramsAt: number;
  if (lt !== -1 && (displayName !== undefined || s.lastIndexOf(';', lt) < i)) {
    if (displayName === undefined && lt > i) {
      // Unquoted display name: *(token LWS)
      const dn = s.slice(i, lt).trim();
      for (let k = 0; k < dn.length; k++) {
        const c = dn.charCodeAt(k);
        if (c !== 0x20 && c !== 0x09 && !isTokenChar(c)) return undefined;
      }
      displayName = dn;
    }
    const gt = s.indexOf('>', lt);
    if (gt === -1) return undefined;
    uri = s.slice(lt + 1, gt);
    paramsAt = gt + 1;
  } else {
    // addr-spec: RFC 3261 §20.10 — parameters after the URI are header parameters.
    const semi = s.indexOf(';', i);
    uri = (semi === -1 ? s.slice(i) : s.slice(i, semi)).trimEnd();
    paramsAt = semi === -1 ? s.length : semi;
    // §20: "If the URI contains a comma, question mark or semicolon, the URI MUST be enclosed in angle brackets".
    if (uri.indexOf('?') !== -1 || uri.indexOf(',') !== -1) return undefined;
  }
  if (!looksLikeUri(uri)) return undefined;
  const params = parseParams(s, paramsAt);
  if (!params) return undefined;
  const na: NameAddr = { uri, params };
  if (displayName !== undefined) na.displayName = displayName;
  return na;
}

/** Formats a name-addr, always in the `<>` form; the display name is quoted. */
export function formatNameAddr(n: NameAddr): string {
  const dn = n.displayName !== undefined && n.displayName !== '' ? quote(n.displayName) + ' ' : '';
  return `${dn}<${n.uri}>${formatParams(n.params)}`;
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
