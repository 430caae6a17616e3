/**
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966). Parsing decodes `%HH` escapes in the user, password,
 * parameters and headers; formatting re-escapes exactly the characters the grammar does not allow there.
 * An IPv6 host is stored without brackets (`::1`) and formatted with them (`[::1]`).
 */
import { formatHost } from '../common/index.js';

/** A parsed SIP/SIPS/tel URI. For `tel`, `host` holds the number (e.g. `+1-212-555-0101`). */
export interface SipUri {
  scheme: 'sip' | 'sips' | 'tel';
  user?: string;
  password?: string;
  host: string;
  port?: number;
  /** URI parameters (`;transport=tcp`, `;lr` → `{ lr: null }`); names lower-cased. */
  params: Record<string, string | null>;
  /** URI headers (`?subject=x`). */
  headers: Record<string, string>;
}

const UNRESERVED = "-_.!~*'()";
const ALLOWED_USER = new Set((UNRESERVED + '&=+$,;?/').split(''));
const ALLOWED_PASSWORD = new Set((UNRESERVED + '&=+$,').split(''));
const ALLOWED_PARAM = new Set((UNRESERVED + '[]/:&+$').split(''));
const ALLOWED_HEADER = new Set((UNRESERVED + '[]/?:+$').split(''));

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** Decodes `%HH` escapes (as UTF-8); returns undefined on a malformed escape. */
export function unescapeUriPart(s: string): string | undefined {
  if (s.indexOf('%') === -1) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    // Not valid UTF-8 after decoding: fall back to byte-wise latin1 decoding if the escapes are well formed.
    if (!/^(?:[^%]|%[0-9A-Fa-f]{2})*$/.test(s)) return undefined;
    return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

function escapePart(s: string, allowed: Set<string>): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c < 0x80 && (isAlnum(c) || allowed.has(ch))) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function parseHostPort(text: string): { host: string; port?: number } | undefined {
  let host: string;
  let rest: string;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end === -1) return undefined;
    host = text.slice(1, end);
    if (!/^[0-9A-Fa-f:.]+$/.test(host) || host.indexOf(':') === -1) return undefined;
    rest = text.slice(end + 1);
  } else {
    const colon = text.indexOf(':');
    host = colon === -1 ? text : text.slice(0, colon);
    rest = colon === -1 ? '' : text.slice(colon);
    if (!/^[A-Za-z0-9.\-_]+$/.test(host)) return undefined;
  }
  if (rest === '') return { host };
  if (!/^:[0-9]{1,5}$/.test(rest)) return undefined;
  const port = Number(rest.slice(1));
  if (port > 65535) return undefined;
  return { host, port };
}

function parseUriParams(text: string, into: Record<string, string | null>): boolean {
  // text starts after the first ';'
  for (const part of text.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = unescapeUriPart(eq === -1 ? part : part.slice(0, eq));
    const value = eq === -1 ? null : unescapeUriPart(part.slice(eq + 1));
    if (name === undefined || name === '' || value === undefined) return false;
    into[name.toLowerCase()] = value;
  }
  return true;
}

/** Parses a SIP, SIPS or tel URI; returns undefined when it is not one or is malformed. */
export function parseUri(text: string): SipUri | undefined {
  const colon = text.indexOf(':');
  if (colon === -1) return undefined;
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') return undefined;
  let rest = text.slice(colon + 1);
  if (rest === '' || /[\s<>"]/.test(rest)) return undefined;
  const uri: SipUri = { scheme, host: '', params: {}, headers: {} };
  if (scheme === 'tel') {
    const semi = rest.indexOf(';');
    const number = semi === -1 ? rest : rest.slice(0, semi);
    if (!/^\+?[0-9A-Fa-f*#.()\-pPwW]+$/.test(number)) return undefined;
    uri.host = number;
    if (semi !== -1 && !parseUriParams(rest.slice(semi + 1), uri.params)) return undefined;
    return uri;
  }
  // '@' is not allowed unescaped in the host, parameters or headers, so the first one ends the userinfo.
  const at = rest.indexOf('@');
  if (at !== -1) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    const user = unescapeUriPart(pc === -1 ? userinfo : userinfo.slice(0, pc));
    if (user === undefined || user === '') return undefined;
    uri.user = user;
    if (pc !== -1) {
      const password = unescapeUriPart(userinfo.slice(pc + 1));
      if (password === undefined) return undefined;
      uri.password = password;
    }
  }
  const q = rest.indexOf('?');
  let headersText: string | undefined;
  if (q !== -1) {
    headersText = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const semi = rest.indexOf(';');
  const hp = parseHostPort(semi === -1 ? rest : rest.slice(0, semi));
  if (!hp) return undefined;
  uri.host = hp.host;
  if (hp.port !== undefined) uri.port = hp.port;
  if (semi !== -1 && !parseUriParams(rest.slice(semi + 1), uri.params)) return undefined;
  if (headersText !== undefined) {
    for (const part of headersText.split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      if (eq === -1) return undefined;
      const name = unescapeUriPart(part.slice(0, eq));
      const value = unescapeUriPart(part.slice(eq + 1));
      if (!name || value === undefined) return undefined;
      uri.headers[name] = value;
    }
  }
  return uri;
}

/** Formats a URI back to text, escaping where RFC 3261 §25.1 requires it. */
export function formatUri(u: SipUri): string {
  let out = u.scheme + ':';
  if (u.scheme === 'tel') {
    out += u.host;
  } else {
    if (u.user !== undefined) {
      out += escapePart(u.user, ALLOWED_USER);
      if (u.password !== undefined) out += ':' + escapePart(u.password, ALLOWED_PASSWORD);
      out += '@';
    }
    out += formatHost(u.host);
    if (u.port !== undefined) out += ':' + u.port;
  }
  for (const [k, v] of Object.entries(u.params)) {
    out += ';' + escapePart(k, ALLOWED_PARAM) + (v === null ? '' : '=' + escapePart(v, ALLOWED_PARAM));
  }
  const hs = Object.entries(u.headers);
  if (hs.length > 0) out += '?' + hs.map(([k, v]) => escapePart(k, ALLOWED_HEADER) + '=' + escapePart(v, ALLOWED_HEADER)).join('&');
  return out;
}

const SPECIAL_PARAMS = ['user', 'ttl', 'method', 'maddr'];

/**
 * URI equality per RFC 3261 §19.1.4: user and password case-sensitive, host and parameter names case-insensitive,
 * a parameter present in both must match (case-insensitive), `user`/`ttl`/`method`/`maddr`/`transport` present in
 * one must be in the other, headers must all match. Escaped and unescaped forms compare equal (we compare decoded).
 */
export function uriEquals(a: SipUri | string, b: SipUri | string): boolean {
  const x = typeof a === 'string' ? parseUri(a) : a;
  const y = typeof b === 'string' ? parseUri(b) : b;
  if (!x || !y) return false;
  if (x.scheme !== y.scheme) return false;
  if (x.user !== y.user || x.password !== y.password) return false;
  if (x.host.toLowerCase() !== y.host.toLowerCase()) return false;
  if (x.port !== y.port) return false;
  for (const k of [...SPECIAL_PARAMS, 'transport']) {
    if ((k in x.params) !== (k in y.params)) return false;
  }
  for (const [k, v] of Object.entries(x.params)) {
    if (!(k in y.params)) continue;
    const w = y.params[k];
    if ((v === null) !== (w === null)) return false;
    if (v !== null && w !== null && v.toLowerCase() !== w.toLowerCase()) return false;
  }
  const xh = Object.entries(x.headers);
  if (xh.length !== Object.keys(y.headers).length) return false;
  const yh = new Map(Object.entries(y.headers).map(([k, v]) => [k.toLowerCase(), v]));
  for (const [k, v] of xh) if (yh.get(k.toLowerCase()) !== v) return false;
  return true;
}
