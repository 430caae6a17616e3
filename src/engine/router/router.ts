/**
 * Decides where an INVITE goes (SPEC.md §2): the Request-URI user is looked up as a DID (with or without '+'),
 * then as an extension, and anything else from an authenticated device goes out through the trunk. The router
 * is pure: authentication is the caller's business, and the result says whether it is required.
 */
import type { FlowConfig, NumberConfig, PbxConfig, UserConfig } from '../../config/index.js';

/** Where a call goes. */
export type Route =
  | { kind: 'did'; number: NumberConfig; flow: FlowConfig }
  | { kind: 'extension'; user: UserConfig }
  | { kind: 'outbound'; number: string }
  | { kind: 'not-found'; why: string };

/** Digits of a number without '+' (and visual separators). */
export function bareNumber(n: string): string {
  return n.replace(/^\+/, '').replace(/[\s().-]/g, '');
}

/** Routes a dialled string against a configuration. DIDs need no authentication; the other kinds do. */
export function route(config: PbxConfig, dialled: string): Route {
  const bare = bareNumber(dialled);
  const did = config.numbers.find((n) => bareNumber(n.number) === bare);
  if (did) {
    const flow = config.flows.find((f) => f.id === did.flow);
    return flow ? { kind: 'did', number: did, flow } : { kind: 'not-found', why: `number ${did.number} names unknown flow ${did.flow}` };
  }
  const user = config.users.find((u) => u.number === dialled || u.number === bare);
  if (user) return { kind: 'extension', user };
  if (/^\+?[0-9*#]{2,32}$/.test(dialled)) return { kind: 'outbound', number: dialled };
  return { kind: 'not-found', why: `nothing matches ${JSON.stringify(dialled.slice(0, 40))}` };
}

/** True when a route may only be used by an authenticated device. */
export function requiresAuth(r: Route): boolean {
  return r.kind !== 'did';
}
