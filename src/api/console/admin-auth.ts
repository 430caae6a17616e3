/**
 * INTERIM SEAM (issue 11, scoped keys): who may sign in to the console. Until the admin keys of issue 11 are on
 * main, the admin API is opened by the one configured key (`api.api_key`), so that is the admin credential the
 * console accepts. When issue 11 lands, `authenticateAdmin(key)` from its admin-key module replaces
 * {@link interimAuthenticateAdmin} in app.ts and this file goes.
 */
import type { PbxConfig } from '../../config/index.js';
import { keyMatches } from '../auth.js';
import type { AdminPrincipal } from './sessions.js';

/** Checks an admin key; resolves to who it is, or null when it opens nothing. */
export type AuthenticateAdmin = (key: string) => Promise<AdminPrincipal | null>;

/** INTERIM: the configured API key is today's admin credential. */
export function interimAuthenticateAdmin(getConfig: () => PbxConfig): AuthenticateAdmin {
  return async (key) => (keyMatches(key, getConfig().api.api_key) ? { key_id: null, name: 'configured key' } : null);
}
