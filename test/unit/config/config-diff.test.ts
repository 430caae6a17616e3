import { describe, expect, it } from 'vitest';
import { configDiff, deepFreeze } from '../../../src/config/config-diff.js';

describe('configDiff', () => {
  it('is empty for equal values, whatever the key order', () => {
    expect(configDiff({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 })).toEqual([]);
  });

  it('lists changed leaves by path, in document order', () => {
    expect(configDiff(
      { users: [{ name: 'A', devices: [{ password: 'p' }] }], api: { api_key: 'k' } },
      { users: [{ name: 'B', devices: [{ password: 'q' }] }], api: { api_key: 'k' } },
    )).toEqual(['users[0].name', 'users[0].devices[0].password']);
  });

  it('names an added or removed list item and key', () => {
    expect(configDiff({ users: [{ a: 1 }], x: 1 }, { users: [{ a: 1 }, { a: 2 }], y: 2 })).toEqual(['users[1]', 'x', 'y']);
    expect(configDiff({ users: [1, 2] }, { users: [1] })).toEqual(['users[1]']);
  });

  it('reports a type change at its path and a root change as (root)', () => {
    expect(configDiff({ next: 'a' }, { next: { busy: 'a' } })).toEqual(['next']);
    expect(configDiff(1, 2)).toEqual(['(root)']);
  });
});

describe('deepFreeze', () => {
  it('freezes nested objects and arrays', () => {
    const v = deepFreeze({ a: [{ b: 1 }] });
    expect(Object.isFrozen(v.a)).toBe(true);
    expect(Object.isFrozen(v.a[0])).toBe(true);
  });
});
