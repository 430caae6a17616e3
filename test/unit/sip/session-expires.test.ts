import { describe, expect, it } from 'vitest';
import { hasTag, parseMinSe, parseSessionExpires } from '../../../src/sip/session-expires.js';

describe('Session-Expires and Min-SE (RFC 4028 §4, §5)', () => {
  it('reads delta-seconds and the refresher, case-insensitively, with LWS around the parameters', () => {
    expect(parseSessionExpires('1800')).toEqual({ deltaS: 1800, refresher: undefined });
    expect(parseSessionExpires(' 4000 ;refresher=UAC')).toEqual({ deltaS: 4000, refresher: 'uac' });
    expect(parseSessionExpires('90;foo;refresher = uas ;bar=1')).toEqual({ deltaS: 90, refresher: 'uas' });
  });
  it('ignores a refresher that is neither uac nor uas, and keeps the interval', () => {
    expect(parseSessionExpires('1800;refresher=proxy')).toEqual({ deltaS: 1800, refresher: undefined });
  });
  it('is undefined for what is not a Session-Expires value', () => {
    for (const bad of [undefined, '', 'abc', ';refresher=uac', '1800 x', '1800;;', '12345678901', '-5']) expect(parseSessionExpires(bad), String(bad)).toBeUndefined();
  });
  it('reads Min-SE delta-seconds with generic parameters, and nothing else', () => {
    expect(parseMinSe('90')).toBe(90);
    expect(parseMinSe(' 120 ;x=y')).toBe(120);
    for (const bad of [undefined, '', 'ninety', '90 abc']) expect(parseMinSe(bad), String(bad)).toBeUndefined();
  });
});

describe('option tags (RFC 3261 §20.37, §20.32)', () => {
  it('finds a tag in one value or several, whatever the case and spacing', () => {
    expect(hasTag('100rel, Timer', 'timer')).toBe(true);
    expect(hasTag(['replaces', ' path ,TIMER '], 'timer')).toBe(true);
    expect(hasTag('timers, xtimer', 'timer')).toBe(false);
    expect(hasTag(undefined, 'timer')).toBe(false);
    expect(hasTag([], '100rel')).toBe(false);
  });
});
