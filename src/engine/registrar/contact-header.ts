/**
 * Contact header values as a registrar reads them (RFC 3261 §10.3, §20.10): `*`, or comma-separated
 * name-addr / addr-spec entries with header parameters (`expires`, `+sip.instance`, `reg-id`, `q`).
 */

/** One entry of a Contact header. */
export interface ContactEntry {
  uri: string;
  params: Record<string, string>;
}

/** Result of parsing: the wildcard, a list, or a description of what is wrong. */
export type ContactParse = { ok: true; wildcard: true } | { ok: true; wildcard: false; contacts: ContactEntry[] } | { ok: false; error: string };

/** Splits on commas that are outside quotes and angle brackets. */
function splitTop(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '<') depth++;
    else if (!quoted && c === '>') depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && c === ',') {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  out.push(value.slice(start));
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

function parseParams(s: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const p of s.split(';')) {
    const t = p.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    const k = (eq < 0 ? t : t.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? '' : t.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    params[k] = v;
  }
  return params;
}

/** Parses a Contact header value (srf joins repeated headers with commas). At most `max` entries. */
export function parseContactHeader(value: string, max = 20): ContactParse {
  if (value.trim() === '*') return { ok: true, wildcard: true };
  const entries = splitTop(value);
  if (entries.length > max) return { ok: false, error: `${entries.length} contacts > ${max}` };
  const contacts: ContactEntry[] = [];
  for (const e of entries) {
    if (e === '*') return { ok: false, error: 'Contact * mixed with other contacts' };
    const lt = e.indexOf('<');
    if (lt >= 0) {
      const gt = e.indexOf('>', lt);
      if (gt < 0) return { ok: false, error: `unterminated name-addr: ${e.slice(0, 80)}` };
      contacts.push({ uri: e.slice(lt + 1, gt).trim(), params: parseParams(e.slice(gt + 1)) });
    } else {
      const semi = e.indexOf(';');
      contacts.push({ uri: (semi < 0 ? e : e.slice(0, semi)).trim(), params: semi < 0 ? {} : parseParams(e.slice(semi + 1)) });
    }
    if (!/^sips?:/i.test(contacts[contacts.length - 1]!.uri)) return { ok: false, error: `not a SIP URI: ${e.slice(0, 80)}` };
  }
  return { ok: true, wildcard: false, contacts };
}
