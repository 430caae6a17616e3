/**
 * Server-side console sessions: an opaque random id in an HttpOnly, SameSite=Strict cookie, a per-session CSRF
 * token the page sends back in a header on every state-changing request, an idle and an absolute expiry. The admin
 * key itself is checked once at sign-in and never kept, neither here nor in the browser.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../common/index.js';

/** Who signed in (from the admin-key seam). */
export interface AdminPrincipal {
  /** The admin key's id (null for the configured bootstrap key). */
  key_id: string | null;
  name: string;
}

/** One signed-in browser. */
export interface ConsoleSession {
  readonly id: string;
  readonly csrfToken: string;
  readonly principal: AdminPrincipal;
  readonly createdMs: number;
  lastSeenMs: number;
}

/** Session lifetimes, in ms. */
export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
  /** Sessions kept at once; the oldest is dropped beyond it. */
  max: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { idleMs: 30 * 60_000, absoluteMs: 12 * 3600_000, max: 1000 };

/** Constant-time string comparison (both hashed to equal length first). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** The session table. */
export class SessionStore {
  readonly #clock: Clock;
  readonly #limits: SessionLimits;
  readonly #sessions = new Map<string, ConsoleSession>();

  constructor(clock: Clock, limits: SessionLimits = DEFAULT_SESSION_LIMITS) {
    this.#clock = clock;
    this.#limits = limits;
  }

  /** Starts a session for `principal`. */
  create(principal: AdminPrincipal): ConsoleSession {
    const now = this.#clock.now();
    if (this.#sessions.size >= this.#limits.max) this.#sessions.delete(this.#sessions.keys().next().value as string);
    const s: ConsoleSession = { id: randomBytes(32).toString('base64url'), csrfToken: randomBytes(32).toString('base64url'), principal, createdMs: now, lastSeenMs: now };
    this.#sessions.set(s.id, s);
    return s;
  }

  /** The live session of `id` (touched), or undefined when unknown or expired (an expired one is forgotten). */
  get(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    const now = this.#clock.now();
    if (now - s.lastSeenMs > this.#limits.idleMs || now - s.createdMs > this.#limits.absoluteMs) {
      this.#sessions.delete(id);
      return undefined;
    }
    s.lastSeenMs = now;
    return s;
  }

  /** When the session ends at the latest (epoch ms), if nothing touches it again. */
  expiresAt(s: ConsoleSession): number {
    return Math.min(s.lastSeenMs + this.#limits.idleMs, s.createdMs + this.#limits.absoluteMs);
  }

  destroy(id: string): void {
    this.#sessions.delete(id);
  }
}
