/**
 * Structural comparison of configurations: {@link configDiff} lists the paths that differ (for the admin API's
 * live-vs-staged view and for startup logs), and {@link deepFreeze} makes a version immutable.
 */
import { keyPath } from './shape.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function walk(a: unknown, b: unknown, path: string, out: string[]): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (i >= a.length || i >= b.length) out.push(`${path}[${i}]`);
      else walk(a[i], b[i], `${path}[${i}]`, out);
    }
    return;
  }
  if (isObject(a) && isObject(b)) {
    const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !Object.hasOwn(a, k))];
    for (const k of keys) {
      // An absent key and an undefined one are the same configuration.
      if (a[k] === undefined && b[k] === undefined) continue;
      walk(a[k], b[k], keyPath(path, k), out);
    }
    return;
  }
  if (!Object.is(a, b)) out.push(path === '' ? '(root)' : path);
}

/**
 * Paths where `b` differs from `a`, in document order: `users[1].devices[0].password`, or `users[2]` for an
 * item present in only one of them. Lists are compared by position. Empty when equal.
 */
export function configDiff(a: unknown, b: unknown): string[] {
  const out: string[] = [];
  walk(a, b, '', out);
  return out;
}

/** Freezes `v` and everything reachable from it; returns it typed as deeply read-only. */
export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}
