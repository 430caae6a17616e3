/**
 * RFC 4028 header values, parsed without regular expressions (the engine and drachtio-lite read them on every
 * INVITE): `Session-Expires` (§4), `Min-SE` (§5) and the option-tag lists of `Supported` / `Require` (RFC 3261 §20).
 */
import { parseParams, skipWs } from './syntax.js';

/** The refresher a `Session-Expires` names. */
export type Refresher = 'uac' | 'uas';

/** RFC 4028 §4: `Session-Expires = delta-seconds *(SEMI se-params)`, `se-params = refresher-param / generic-param`. */
export interface SessionExpires {
  deltaS: number;
  refresher: Refresher | undefined;
}

/** Reads `delta-seconds` (1*DIGIT) at `i`: the number and the index after it, or undefined. */
function readDelta(s: string, i: number): { value: number; end: number } | undefined {
  const start = skipWs(s, i);
  let j = start;
  while (j < s.length && s.charCodeAt(j) >= 0x30 && s.charCodeAt(j) <= 0x39) j++;
  // More than ten digits is past any 32-bit interval (§4 bounds nothing, but no session lasts 2^32 s).
  if (j === start || j - start > 10) return undefined;
  return { value: Number(s.slice(start, j)), end: j };
}

/** A `Session-Expires` (or compact `x`) value, or undefined when it is not one. */
export function parseSessionExpires(value: string | undefined): SessionExpires | undefined {
  if (value === undefined) return undefined;
  const d = readDelta(value, 0);
  if (!d) return undefined;
  const params = parseParams(value, d.end);
  if (!params) return undefined;
  const r = params['refresher']?.toLowerCase();
  return { deltaS: d.value, refresher: r === 'uac' || r === 'uas' ? r : undefined };
}

/** A `Min-SE` value's delta-seconds (§5: `Min-SE = delta-seconds *(SEMI generic-param)`), or undefined. */
export function parseMinSe(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const d = readDelta(value, 0);
  return d && parseParams(value, d.end) ? d.value : undefined;
}

/**
 * Whether a comma list of option tags (one or more `Supported`/`Require` values) holds `tag`, given in lower case;
 * the list is compared case-insensitively.
 */
export function hasTag(values: readonly string[] | string | undefined, tag: string): boolean {
  if (values === undefined) return false;
  for (const v of typeof values === 'string' ? [values] : values) {
    let start = 0;
    for (;;) {
      const comma = v.indexOf(',', start);
      const end = comma === -1 ? v.length : comma;
      const t = v.slice(start, end).trim();
      if (t.length === tag.length && t.toLowerCase() === tag) return true;
      if (comma === -1) break;
      start = comma + 1;
    }
  }
  return false;
}
