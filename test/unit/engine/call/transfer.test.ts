import { describe, expect, it } from 'vitest';
import { parseReferTo, parseReplaces } from '../../../../src/engine/call/transfer.js';

describe('Refer-To parsing for blind transfer', () => {
  it('MUST read the number of an extension, an E.164 number (with user=phone) or a tel: URI', () => {
    expect(parseReferTo('<sip:1002@switchboard.local>')).toEqual({ number: '1002', replaces: null });
    expect(parseReferTo('"Sales" <sip:+61299998888@pbx;user=phone>')).toEqual({ number: '+61299998888', replaces: null });
    expect(parseReferTo('sip:1003@pbx')).toEqual({ number: '1003', replaces: null });
    expect(parseReferTo('<tel:+61400000000;phone-context=+61>')).toEqual({ number: '+61400000000', replaces: null });
    expect(parseReferTo('<sip:%2B61299998888@pbx>')).toEqual({ number: '+61299998888', replaces: null });
  });

  it('MUST read the Replaces of an attended transfer, with or without a number in the URI', () => {
    expect(parseReferTo('<sip:1002@pbx?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>')).toEqual({ number: '1002', replaces: 'abc@h;to-tag=1;from-tag=2' });
    expect(parseReferTo('<sip:bob@10.0.0.5:5062;transport=tcp?Replaces=x%3Bfrom-tag%3Da%3Bto-tag%3Db&Require=replaces>'))
      .toEqual({ number: null, replaces: 'x;from-tag=a;to-tag=b' });
  });

  it('MUST refuse a Refer-To that names no number and has no Replaces', () => {
    for (const v of [undefined, '', '<mailto:a@b>', '<sip:alice@pbx>', '<sip:pbx>', '<sip:%ZZ@pbx>', `<sip:${'1'.repeat(40)}@pbx>`, '<sip:1@pbx?Replaces=%ZZ>']) expect(parseReferTo(v)).toBeUndefined();
  });
});

describe('Replaces header parsing (RFC 3891 §6.1)', () => {
  it('MUST read the Call-ID, both tags in any order and early-only', () => {
    expect(parseReplaces('abc@h;to-tag=1;from-tag=2')).toEqual({ callId: 'abc@h', toTag: '1', fromTag: '2', earlyOnly: false });
    expect(parseReplaces('abc ; from-tag=2 ; to-tag=1 ; early-only')).toEqual({ callId: 'abc', toTag: '1', fromTag: '2', earlyOnly: true });
  });

  it('MUST refuse a value without both tags', () => {
    for (const v of [undefined, '', 'abc', 'abc;to-tag=1', ';to-tag=1;from-tag=2', 'abc;to-tag=;from-tag=2']) expect(parseReplaces(v)).toBeUndefined();
  });
});
