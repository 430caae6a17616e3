/**
 * The top Via as the transport and transaction layers need it: sent-by, branch, received and rport
 * (RFC 3261 §18.2.1, §18.2.2, §17.2.3; RFC 3581). A single forward scan, no regular expressions, because
 * it runs on every message.
 */
import type { SipMessage } from '../message.js';
import { canonicalName, splitHeaderList } from '../message.js';
import { formatHost } from '../../common/index.js';

/** The RFC 3261 branch prefix ("magic cookie", §8.1.1.7). */
export const MAGIC_COOKIE = 'z9hG4bK';

/** The parts of one Via entry the core uses. `host` is stored without IPv6 brackets. */
export interface TopVia {
  /** `SIP/2.0/UDP` → `udp`. */
  transport: string;
  host: string;
  port: number | undefined;
  /** Parameters in order, names lower-cased; a flag parameter has value `null`. */
  params: Array<[string, string | null]>;
  branch: string | undefined;
}

/** Parses one Via entry (`SIP/2.0/UDP host:port;branch=…`), or undefined when malformed. */
export function parseViaEntry(value: string): TopVia | undefined {
  const v = value.trim();
  let i = v.indexOf('/');
  if (i < 0) return undefined;
  i = v.indexOf('/', i + 1);
  if (i < 0) return undefined;
  let j = i + 1;
  while (j < v.length && v.charCodeAt(j) !== 0x20 && v.charCodeAt(j) !== 0x09) j++;
  const transport = v.slice(i + 1, j).trim().toLowerCase();
  while (j < v.length && (v.charCodeAt(j) === 0x20 || v.charCodeAt(j) === 0x09)) j++;
  const semi = v.indexOf(';', j);
  const sentBy = (semi < 0 ? v.slice(j) : v.slice(j, semi)).trim();
  if (!transport || !sentBy) return undefined;
  let host: string;
  let portText: string | undefined;
  if (sentBy.startsWith('[')) {
    const close = sentBy.indexOf(']');
    if (close < 0) return undefined;
    host = sentBy.slice(1, close);
    const rest = sentBy.slice(close + 1);
    if (rest.startsWith(':')) portText = rest.slice(1);
  } else {
    const colon = sentBy.lastIndexOf(':');
    host = colon < 0 ? sentBy : sentBy.slice(0, colon);
    if (colon >= 0) portText = sentBy.slice(colon + 1);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    port = Number(portText.trim());
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  }
  const params: Array<[string, string | null]> = [];
  let branch: string | undefined;
  if (semi >= 0) {
    for (const raw of v.slice(semi + 1).split(';')) {
      const eq = raw.indexOf('=');
      const name = (eq < 0 ? raw : raw.slice(0, eq)).trim().toLowerCase();
      if (!name) continue;
      const val = eq < 0 ? null : raw.slice(eq + 1).trim();
      params.push([name, val]);
      if (name === 'branch' && val) branch = val;
    }
  }
  return { transport, host: host.trim(), port, params, branch };
}

/** Formats a Via entry back to text (brackets an IPv6 host). */
export function formatViaEntry(via: TopVia): string {
  const host = formatHost(via.host);
  let out = `SIP/2.0/${via.transport.toUpperCase()} ${host}${via.port !== undefined ? `:${via.port}` : ''}`;
  for (const [k, val] of via.params) out += val === null ? `;${k}` : `;${k}=${val}`;
  return out;
}

/** Value of a Via parameter (`null` for a flag, undefined when absent). */
export function viaParam(via: TopVia, name: string): string | null | undefined {
  for (const [k, v] of via.params) if (k === name) return v;
  return undefined;
}

/** Sets (or adds) a Via parameter. */
export function setViaParam(via: TopVia, name: string, value: string | null): void {
  for (const p of via.params) {
    if (p[0] === name) {
      p[1] = value;
      return;
    }
  }
  via.params.push([name, value]);
}

/** Index of the first Via header field of a message, or -1. */
function firstViaIndex(msg: SipMessage): number {
  const hs = msg.headers;
  for (let i = 0; i < hs.length; i++) {
    const n = hs[i]!.name;
    if (n.length === 1 ? n === 'v' || n === 'V' : canonicalName(n) === 'via') return i;
  }
  return -1;
}

/** Text of the top Via entry, or undefined. */
export function topViaText(msg: SipMessage): string | undefined {
  const idx = firstViaIndex(msg);
  if (idx < 0) return undefined;
  const value = msg.headers[idx]!.value;
  return value.includes(',') ? splitHeaderList(value)[0] : value;
}

/** The parsed top Via, or undefined when absent or malformed. */
export function readTopVia(msg: SipMessage): TopVia | undefined {
  const t = topViaText(msg);
  return t === undefined ? undefined : parseViaEntry(t);
}

/** Replaces the top Via entry (keeping the rest of its header line). */
export function replaceTopVia(msg: SipMessage, via: TopVia): void {
  const idx = firstViaIndex(msg);
  if (idx < 0) return;
  const field = msg.headers[idx]!;
  const text = formatViaEntry(via);
  if (!field.value.includes(',')) {
    msg.headers[idx] = { name: field.name, value: text };
    return;
  }
  const entries = splitHeaderList(field.value);
  entries[0] = text;
  msg.headers[idx] = { name: field.name, value: entries.join(', ') };
}

/**
 * §18.2.1 / RFC 3581 §4: stamps `received` when the sent-by host differs from the packet's source address (or
 * the client sent a `received` of its own, which is replaced), and `rport` (plus `received`, always) when the
 * client asked for it. Returns the updated Via.
 */
export function stampReceived(msg: SipMessage, sourceAddress: string, sourcePort: number): TopVia | undefined {
  const via = readTopVia(msg);
  if (!via) return undefined;
  const rport = viaParam(via, 'rport');
  let changed = false;
  if (rport !== undefined) {
    setViaParam(via, 'rport', String(sourcePort));
    setViaParam(via, 'received', sourceAddress);
    changed = true;
  } else if (via.host !== sourceAddress || viaParam(via, 'received') !== undefined) {
    // A `received` the client wrote itself is never believed (it would route our responses and retransmissions to
    // a third party): it is overwritten with the packet's source, like any received we add.
    setViaParam(via, 'received', sourceAddress);
    changed = true;
  }
  if (changed) replaceTopVia(msg, via);
  return via;
}
