/**
 * Who may sign in to the console: the admin credential check, given to the console by app.ts (issue 11's
 * `authenticateAdmin` from the admin-key module). The integration key never opens it.
 */
import type { AdminPrincipal } from './sessions.js';

/** Checks an admin key; resolves to who it is, or null when it opens nothing. */
export type AuthenticateAdmin = (key: string) => Promise<AdminPrincipal | null>;
