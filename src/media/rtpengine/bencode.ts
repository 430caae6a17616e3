/**
 * Binary-safe bencode (BEP 3), the body format of rtpengine's ng protocol.
 *
 * Byte strings decode to `Buffer`s and are never turned into text here: a caller decides which values are text
 * (an SDP is UTF-8 per RFC 8866 §5) and which are bytes (a `blob` for `play media`). Dictionary keys are decoded as
 * latin1, which maps every byte to one char and back, so no key can be mangled either.
 *
 * ```
 * value   = integer | string | list | dict
 * integer = "i" ( "0" | ["-"] nonzero-digit *digit ) "e"      (no "-0", no leading zeros)
 * string  = length ":" <length bytes>                         (length: "0" | nonzero-digit *digit)
 * list    = "l" *value "e"
 * dict    = "d" *(string value) "e"                           (keys unique; BEP 3 wants them sorted)
 * ```
 */

/** A decoded value: byte strings are Buffers, integers numbers (safe range only). */
export type BencodeValue = Buffer | number | BencodeValue[] | BencodeDict;
/** A decoded dictionary (null prototype, keys in wire order). */
export interface BencodeDict { [key: string]: BencodeValue }

/** What {@link encode} accepts: strings are encoded as UTF-8; `undefined` dictionary entries are left out. */
export type BencodeInput = Buffer | Uint8Array | string | number | bigint | boolean | readonly BencodeInput[] | { readonly [key: string]: BencodeInput | undefined };

/** A failed decode: what went wrong and at which byte offset. */
export interface BencodeError { message: string; position: number }
export type DecodeResult = { ok: true; value: BencodeValue } | { ok: false; error: BencodeError };

/** Limits that keep hostile input from costing unbounded memory or stack. */
export interface DecodeLimits { maxDepth?: number }
const DEFAULT_MAX_DEPTH = 32;

const I = 0x69, L = 0x6c, D = 0x64, E = 0x65, COLON = 0x3a, MINUS = 0x2d, ZERO = 0x30, NINE = 0x39;

class Fail { constructor(readonly message: string, readonly position: number) {} }

/** Decodes exactly one value spanning all of `buf`; trailing bytes are an error. Never throws on bad input. */
export function decode(buf: Buffer, limits: DecodeLimits = {}): DecodeResult {
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  let pos = 0;

  const digits = (end: number, what: string): number => {
    const start = pos;
    let neg = false;
    if (buf[pos] === MINUS) { neg = true; pos++; }
    const first = pos;
    while (pos < buf.length && buf[pos]! >= ZERO && buf[pos]! <= NINE) pos++;
    if (pos === first) throw new Fail(pos >= buf.length ? `${what} ends at byte ${pos} with no digits` : `expected a digit in ${what}, got 0x${buf[pos]!.toString(16).padStart(2, '0')}`, pos);
    if (buf[first] === ZERO && pos - first > 1) throw new Fail(`${what} has a leading zero`, first);
    if (neg && pos - first === 1 && buf[first] === ZERO) throw new Fail(`${what} is "-0"`, start);
    if (pos >= buf.length) throw new Fail(`${what} is not terminated (input ends at byte ${buf.length})`, pos);
    if (buf[pos] !== end) throw new Fail(`expected '${String.fromCharCode(end)}' after ${what}, got 0x${buf[pos]!.toString(16).padStart(2, '0')}`, pos);
    const n = Number(buf.toString('latin1', start, pos));
    if (!Number.isSafeInteger(n)) throw new Fail(`${what} ${buf.toString('latin1', start, pos)} is outside the safe integer range`, start);
    pos++; // the terminator
    return n;
  };

  const string = (): Buffer => {
    const at = pos;
    if (buf[pos] === MINUS) throw new Fail('string length is negative', pos);
    const len = digits(COLON, 'string length');
    if (len > buf.length - pos) throw new Fail(`string length ${len} > ${buf.length - pos} bytes left`, at);
    const out = buf.subarray(pos, pos + len);
    pos += len;
    return out;
  };

  const value = (depth: number): BencodeValue => {
    if (pos >= buf.length) throw new Fail('unexpected end of input, expected a value', pos);
    const c = buf[pos]!;
    if (c === I) { pos++; return digits(E, 'integer'); }
    if (c >= ZERO && c <= NINE) return Buffer.from(string()); // a copy, so a value never pins a whole datagram
    if (c === L || c === D) {
      if (depth >= maxDepth) throw new Fail(`nesting deeper than ${maxDepth}`, pos);
      const open = pos++;
      if (c === L) {
        const list: BencodeValue[] = [];
        for (;;) {
          if (pos >= buf.length) throw new Fail(`list opened at byte ${open} is not terminated`, pos);
          if (buf[pos] === E) { pos++; return list; }
          list.push(value(depth + 1));
        }
      }
      const dict = Object.create(null) as BencodeDict;
      for (;;) {
        if (pos >= buf.length) throw new Fail(`dictionary opened at byte ${open} is not terminated`, pos);
        if (buf[pos] === E) { pos++; return dict; }
        const keyAt = pos;
        if (buf[pos]! < ZERO || buf[pos]! > NINE) throw new Fail('dictionary key is not a string', pos);
        const key = string().toString('latin1');
        if (Object.prototype.hasOwnProperty.call(dict, key)) throw new Fail(`duplicate dictionary key "${key}"`, keyAt);
        dict[key] = value(depth + 1);
      }
    }
    throw new Fail(`unexpected byte 0x${c.toString(16).padStart(2, '0')}, expected a value`, pos);
  };

  try {
    const v = value(0);
    if (pos !== buf.length) return { ok: false, error: { message: `${buf.length - pos} trailing bytes after the value`, position: pos } };
    return { ok: true, value: v };
  } catch (err) {
    if (err instanceof Fail) return { ok: false, error: { message: `${err.message} (at byte ${err.position})`, position: err.position } };
    throw err;
  }
}

/**
 * Encodes a value. Dictionary keys are sorted by their bytes (BEP 3). A non-integer or unsafe number, a key outside
 * latin1, a cycle or an unsupported type is a caller bug: `TypeError`.
 */
export function encode(value: BencodeInput): Buffer {
  const parts: Buffer[] = [];
  const seen = new Set<object>();
  const put = (v: BencodeInput, path: string): void => {
    if (Buffer.isBuffer(v)) { parts.push(Buffer.from(`${v.length}:`, 'latin1'), v); return; }
    if (v instanceof Uint8Array) { put(Buffer.from(v.buffer, v.byteOffset, v.byteLength), path); return; }
    if (typeof v === 'string') { put(Buffer.from(v, 'utf8'), path); return; }
    if (typeof v === 'boolean') { put(v ? 1 : 0, path); return; }
    if (typeof v === 'bigint') { parts.push(Buffer.from(`i${v}e`, 'latin1')); return; }
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new TypeError(`bencode: ${path} is ${v}, not a safe integer`);
      parts.push(Buffer.from(`i${v}e`, 'latin1'));
      return;
    }
    if (v === null || typeof v !== 'object') throw new TypeError(`bencode: ${path} has unsupported type ${v === null ? 'null' : typeof v}`);
    if (seen.has(v)) throw new TypeError(`bencode: ${path} is a cycle`);
    seen.add(v);
    if (Array.isArray(v)) {
      parts.push(Buffer.from('l'));
      (v as readonly BencodeInput[]).forEach((x, i) => put(x, `${path}[${i}]`));
    } else {
      parts.push(Buffer.from('d'));
      const entries = Object.entries(v as { [k: string]: BencodeInput | undefined }).filter((e): e is [string, BencodeInput] => e[1] !== undefined);
      const keyed = entries.map(([k, x]) => {
        if (/[^\x00-\xff]/.test(k)) throw new TypeError(`bencode: key "${k}" in ${path} is not latin1`);
        return [Buffer.from(k, 'latin1'), x, k] as const;
      }).sort((a, b) => Buffer.compare(a[0], b[0]));
      for (const [kb, x, k] of keyed) { parts.push(Buffer.from(`${kb.length}:`, 'latin1'), kb); put(x, `${path}.${k}`); }
    }
    parts.push(Buffer.from('e'));
    seen.delete(v);
  };
  put(value, 'value');
  return Buffer.concat(parts);
}

/** True when `v` is a decoded dictionary. */
export function isDict(v: BencodeValue | undefined): v is BencodeDict {
  return typeof v === 'object' && v !== null && !Buffer.isBuffer(v) && !Array.isArray(v);
}
