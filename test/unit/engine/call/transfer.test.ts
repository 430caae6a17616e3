import { describe, expect, it } from 'vitest';
import { parseReferTo } from '../../../../src/engine/call/transfer.js';

describe('Refer-To parsing for blind transfer', () => {
  it('MUST read the number of an extension, an E.164 number (with user=phone) or a tel: URI', () => {
    expect(parseReferTo('<sip:1002@switchboard.local>')).toEqual({ number: '1002', replaces: false });
    expect(parseReferTo('"Sales" <sip:+61299998888@pbx;user=phone>')).toEqual({ number: '+61299998888', replaces: false });
    expect(parseReferTo('sip:1003@pbx')).toEqual({ number: '1003', replaces: false });
    expect(parseReferTo('<tel:+61400000000;phone-context=+61>')).toEqual({ number: '+61400000000', replaces: false });
    expect(parseReferTo('<sip:%2B61299998888@pbx>')).toEqual({ number: '+61299998888', replaces: false });
  });

  it('MUST flag a Refer-To carrying Replaces (attended transfer)', () => {
    expect(parseReferTo('<sip:1002@pbx?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>')).toEqual({ number: '1002', replaces: true });
  });

  it('MUST refuse a Refer-To that names no number', () => {
    for (const v of [undefined, '', '<mailto:a@b>', '<sip:alice@pbx>', '<sip:pbx>', '<sip:%ZZ@pbx>', `<sip:${'1'.repeat(40)}@pbx>`]) expect(parseReferTo(v)).toBeUndefined();
  });
});
