import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/common/clock.js';
import { readCookie } from '../../../../src/api/console/guard.js';
import { SessionStore } from '../../../../src/api/console/sessions.js';

const limits = { idleMs: 1000, absoluteMs: 5000, max: 3 };
const who = { key_id: null, name: 'test' };

describe('console sessions', () => {
  it('gives every session its own random id and CSRF token', () => {
    const store = new SessionStore(new ManualClock(0), limits);
    const a = store.create(who);
    const b = store.create(who);
    expect(a.id).not.toBe(b.id);
    expect(a.csrfToken).not.toBe(a.id);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('ends a session after the idle time, and keeps one that is used', () => {
    const clock = new ManualClock(0);
    const store = new SessionStore(clock, limits);
    const used = store.create(who);
    const idle = store.create(who);
    clock.advance(800);
    expect(store.get(used.id)).toBe(used);
    clock.advance(800);
    expect(store.get(idle.id)).toBeUndefined();
    expect(store.get(used.id)).toBe(used);
  });

  it('ends every session at the absolute limit however often it is used', () => {
    const clock = new ManualClock(0);
    const store = new SessionStore(clock, limits);
    const s = store.create(who);
    for (let t = 0; t < 4900; t += 700) {
      clock.advance(700);
      store.get(s.id);
    }
    clock.advance(200);
    expect(store.get(s.id)).toBeUndefined();
  });

  it('forgets a destroyed session and drops the oldest beyond the maximum', () => {
    const store = new SessionStore(new ManualClock(0), limits);
    const first = store.create(who);
    const s = [store.create(who), store.create(who)];
    store.create(who);
    expect(store.get(first.id)).toBeUndefined();
    store.destroy(s[0]!.id);
    expect(store.get(s[0]!.id)).toBeUndefined();
    expect(store.get(s[1]!.id)).toBe(s[1]);
  });

  it('reads one cookie out of a Cookie header', () => {
    expect(readCookie('a=1; sb_console=xyz; b=2', 'sb_console')).toBe('xyz');
    expect(readCookie('sb_consolex=1', 'sb_console')).toBeUndefined();
    expect(readCookie(undefined, 'sb_console')).toBeUndefined();
  });
});
