/**
 * Admin credentials (issue 11). The admin API (`/api/admin/*`) takes admin keys only, sent as
 * `Authorization: Bearer <key>`; the integration key (`token` header) never opens it. Keys are the configured
 * bootstrap key (`api.admin_key` / SWITCHBOARD_ADMIN_KEY) and keys created through `POST /api/admin/admin-keys`,
 * which are random (`sbadm_` + 40 characters, ≈ 206 bits), shown once and stored as their SHA-256 digest only: for
 * keys this long a fast hash is as good as a slow one, and a lookup by digest leaks nothing useful by its timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { randomToken } from '../common/index.js';
import type { Clock } from '../common/index.js';
import type { PbxConfig } from '../config/index.js';
import type { AdminKeyRecord, Store } from '../store/index.js';
import { keyMatches } from './auth.js';

/** Who made an admin request: a stored key, or the configured bootstrap key (`key_id` null). */
export interface AdminIdentity {
  key_id: string | null;
  name: string;
}

/** An admin key as the API lists it: never the key nor its digest. */
export type AdminKeyView = Omit<AdminKeyRecord, 'key_hash'>;

/** The admin-key seam: the API's auth hook and the console sign-in both use {@link AdminKeys.authenticateAdmin}. */
export interface AdminKeys {
  /** The identity `key` belongs to, or null (missing, wrong or revoked). */
  authenticateAdmin(key: string | undefined): Promise<AdminIdentity | null>;
  /** Creates a key; the only time the key itself is returned. */
  create(name: string): Promise<AdminKeyView & { key: string }>;
  list(): Promise<AdminKeyView[]>;
  /** Revokes a key: `'revoked'`, `'unknown'`, or `'last'` (it is the only way in left: no bootstrap key, no other key). */
  revoke(keyId: string): Promise<'revoked' | 'unknown' | 'last'>;
}

/** The name the bootstrap key has in the audit log. */
export const BOOTSTRAP_NAME = 'bootstrap (api.admin_key)';

/** last_used_at is written at most this often per key, so an admin GET is not a store write. */
const TOUCH_EVERY_MS = 60_000;

function digest(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function view(r: AdminKeyRecord): AdminKeyView {
  const { key_hash: _hash, ...rest } = r;
  return rest;
}

/** The `Bearer` credentials of an Authorization header (RFC 6750 §2.1), or undefined. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  return m ? m[1] : undefined;
}

/** Builds the admin keys over the store. */
export function createAdminKeys(deps: { store: Store; getConfig: () => PbxConfig; clock: Clock }): AdminKeys {
  const { store, getConfig, clock } = deps;
  const touched = new Map<string, number>();
  return {
    async authenticateAdmin(key) {
      if (typeof key !== 'string' || key.length === 0 || key.length > 512) return null;
      const bootstrap = getConfig().api.admin_key;
      if (bootstrap != null && keyMatches(key, bootstrap)) return { key_id: null, name: BOOTSTRAP_NAME };
      const hash = digest(key);
      const found = await store.findAdminKey(hash);
      if (!found || !timingSafeEqual(Buffer.from(found.key_hash), Buffer.from(hash))) return null;
      const now = clock.now();
      if (now - (touched.get(found.key_id) ?? -Infinity) >= TOUCH_EVERY_MS) {
        touched.set(found.key_id, now);
        await store.touchAdminKey(found.key_id, now);
      }
      return { key_id: found.key_id, name: found.name };
    },
    async create(name) {
      const key = `sbadm_${randomToken(40)}`;
      const record: AdminKeyRecord = { key_id: `adk_${randomToken(16)}`, name, key_hash: digest(key), created_at: clock.now(), last_used_at: null, revoked_at: null };
      await store.insertAdminKey(record);
      return { ...view(record), key };
    },
    async list() {
      return (await store.listAdminKeys()).map(view);
    },
    async revoke(keyId) {
      const active = (await store.listAdminKeys()).filter((k) => k.revoked_at === null);
      if (!active.some((k) => k.key_id === keyId)) return 'unknown';
      if (active.length === 1 && getConfig().api.admin_key == null) return 'last';
      return (await store.revokeAdminKey(keyId, clock.now())) ? 'revoked' : 'unknown';
    },
  };
}
