/**
 * src/sip/syntax.ts: the pure SIP grammar the engine shares with the core (Contact lists, name-addr, the user part
 * of SIP URIs, display names, identities we send, the status map), and the rule that every function is linear:
 * each one reads a 60 KiB pathological header in about as long as a 6 KiB one, ten times shorter.
 */
import { describe, expect, it } from 'vitest';
import {
  displayNameOf, identityNameAddr, parseContactList, parseNameAddr, reasonPhrase, sipUriUser, splitHeaderList, Status, uriPartOf,
} from '../../../src/sip/syntax.js';
import { Status as CoreStatus } from '../../../src/sip/index.js';

describe('Contact header (RFC 3261 §20.10)', () => {
  it('parses name-addrs with params, bare URIs, and the wildcard', () => {
    expect(parseContactList('"A, B" <sip:a@h:5060;transport=tcp>;expires=60;+sip.instance="<urn:uuid:1>", sip:b@h;q=0.5')).toEqual({
      ok: true, wildcard: false,
      contacts: [{ uri: 'sip:a@h:5060;transport=tcp', params: { expires: '60', '+sip.instance': '<urn:uuid:1>' } }, { uri: 'sip:b@h', params: { q: '0.5' } }],
    });
    expect(parseContactList(' * ')).toEqual({ ok: true, wildcard: true });
  });
  it('rejects garbage, * mixed with contacts, and too many entries', () => {
    expect(parseContactList('<http://x>')).toEqual({ ok: false, error: 'not a SIP URI: <http://x>' });
    expect(parseContactList('<sip:a@h>, *')).toEqual({ ok: false, error: 'Contact * mixed with other contacts' });
    expect(parseContactList('<sip:a@h', 5)).toEqual({ ok: false, error: 'malformed contact: <sip:a@h' });
    expect(parseContactList(Array.from({ length: 30 }, (_, i) => `<sip:${i}@h>`).join(','), 20)).toEqual({ ok: false, error: '30 contacts > 20' });
  });
  it('splits lists only at commas outside quotes and angle brackets', () => {
    expect(splitHeaderList('"a, \\"b\\"" <sip:x@h;lr>, <sip:y@h;a=b,c>,sip:z@h')).toEqual(['"a, \\"b\\"" <sip:x@h;lr>', '<sip:y@h;a=b,c>', 'sip:z@h']);
  });
});

describe('name-addr pieces', () => {
  it('reads quoted and token display names', () => {
    expect(displayNameOf('"Alice \\"A\\" Smith" <sip:a@x>;tag=1')).toBe('Alice "A" Smith');
    expect(displayNameOf('  Bob Jones <sip:b@x>')).toBe('Bob Jones');
    expect(displayNameOf('<sip:c@x>')).toBeNull();
    expect(displayNameOf('sip:c@x')).toBeNull();
  });
  it('reads the user of a SIP URI in a URI, a name-addr or an addr-spec, %-decoded, and never one in the display name', () => {
    expect(sipUriUser('sip:%2B61400000000@pbx;user=phone')).toBe('+61400000000');
    expect(sipUriUser('"sip:evil@x" <sips:1001@pbx>;tag=9')).toBe('1001');
    expect(sipUriUser('Bob <sip:bob:secret@h>')).toBe('bob:secret');
    expect(sipUriUser('sip:1001@pbx;tag=1')).toBe('1001');
    expect(sipUriUser('sip:pbx.example;lr')).toBeUndefined();
    expect(sipUriUser('tel:+614')).toBeUndefined();
    expect(sipUriUser('sip:%zz@h')).toBeUndefined();
    expect(sipUriUser(`sip:${'1'.repeat(129)}@h`)).toBeUndefined();
    expect(uriPartOf('"A <b>" <sip:a@h;transport=tcp>;expires=60')).toBe('sip:a@h;transport=tcp');
  });
  it('writes identities without quotes, backslashes or line breaks in the name and only number/token characters in the user', () => {
    expect(identityNameAddr('+614 00', 'Al "x"\\\r\nSmith', 'pbx.local')).toBe('"Al xSmith" <sip:+61400@pbx.local>');
    expect(identityNameAddr(null, null, 'pbx.local')).toBe('<sip:anonymous@pbx.local>');
  });
});

describe('status map', () => {
  it('is the SIP core\'s one map: names as RFC 3261 §21 spells them', () => {
    expect(Status).toBe(CoreStatus);
    expect([Status.OK, Status.CallTransactionDoesNotExist, Status.BusyHere]).toEqual([200, 481, 486]);
    expect(reasonPhrase(Status.CallTransactionDoesNotExist)).toBe('Call/Transaction Does Not Exist');
  });
});

/** Median of a few timed runs, in ms. */
function timeMs(fn: () => void): number {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < 20; k++) fn();
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return runs.sort((a, b) => a - b)[2]!;
}

describe('linear time (issue 11: no backtracking on hostile headers)', () => {
  const shapes: Record<string, (n: number) => string> = {
    'spaces with no <': (n) => `a${' '.repeat(n)}`,
    'open quote never closed': (n) => `"${' '.repeat(n)}`,
    'many commas then a quote': (n) => `${',"'.repeat(n / 2)}`,
    'many < never closed': (n) => '<'.repeat(n),
    'params without end': (n) => `<sip:a@h>${';a'.repeat(n / 2)}`,
    'sip: repeated without @': (n) => 'sip:'.repeat(n / 4),
  };
  const parsers: Record<string, (v: string) => unknown> = {
    parseContactList: (v) => parseContactList(v, 1_000_000), parseNameAddr, displayNameOf, sipUriUser, splitHeaderList, uriPartOf,
  };
  for (const [shape, make] of Object.entries(shapes)) {
    it(`MUST read a 60 KiB header of ${shape} in time linear in its length`, () => {
      const small = make(6 * 1024);
      const large = make(60 * 1024);
      for (const [name, parse] of Object.entries(parsers)) {
        const tSmall = timeMs(() => parse(small));
        const tLarge = timeMs(() => parse(large));
        // Linear: 10× the input costs about 10× (quadratic would be 100×). The slack absorbs GC and a loaded box.
        expect(tLarge, `${name} on ${shape}: ${tSmall.toFixed(2)} ms → ${tLarge.toFixed(2)} ms`).toBeLessThan(Math.max(tSmall * 40, 25 * 20));
      }
    });
  }
});
