/**
 * Write-only secrets (issue 11): device and trunk passwords, webhook tokens and signing secrets, the API and admin
 * keys. The admin API never returns them: every admin answer passes through {@link redactSecrets}, which replaces
 * each secret field by `<field>_set: true|false`. The names come from the configuration schema's `secret` flags, so
 * a new secret key is covered the day it is added.
 */
import { PBX_SCHEMA } from '../../config/index.js';

type Shape = (typeof PBX_SCHEMA)['fields'][string];

function collect(shape: Shape, key: string | null, out: Set<string>): void {
  switch (shape.kind) {
    case 'string':
      if (shape.secret && key) out.add(key);
      return;
    case 'list':
      return collect(shape.item, key, out);
    case 'map':
      return collect(shape.value, null, out);
    case 'object':
      for (const [k, s] of Object.entries(shape.fields)) collect(s, k, out);
      return;
    case 'union':
      for (const fields of Object.values(shape.variants)) for (const [k, s] of Object.entries(fields)) collect(s, k, out);
      return;
    default:
      return;
  }
}

/** Field names that hold a secret anywhere in the configuration (`password`, `secret_token`, …). */
export const SECRET_FIELDS: ReadonlySet<string> = (() => {
  const out = new Set<string>();
  collect(PBX_SCHEMA, null, out);
  return out;
})();

/** What a secret shows as where a bare value must stand (a diff entry naming the secret itself). */
export const MASKED_SECRET = '********';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A deep copy of `value` with each secret field `k` replaced by `k_set` (whether it has a non-empty value). A
 * diff entry (`{ path, live, staged }`) whose path ends at a secret shows `********` for each side that has one.
 */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  const diffOfSecret = typeof value.path === 'string' && SECRET_FIELDS.has(value.path.slice(value.path.lastIndexOf('/') + 1));
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_FIELDS.has(k)) out[`${k}_set`] = typeof v === 'string' && v !== '';
    else if (diffOfSecret && (k === 'live' || k === 'staged')) out[k] = v == null || v === '' ? v : MASKED_SECRET;
    else out[k] = redactSecrets(v);
  }
  return out;
}

/**
 * For a replacing write (PUT, or a PATCH that replaces a nested list whole): the secrets `next` leaves out are kept
 * from `prev`, matching list items by their natural key, so a client that never saw a password can still edit
 * the object holding it.
 */
export function keepSecrets(prev: unknown, next: unknown): unknown {
  if (Array.isArray(prev) && Array.isArray(next)) {
    const keyOf = (it: unknown): string | undefined => {
      if (!isObject(it)) return undefined;
      for (const k of ['username', 'number', 'id', 'name']) if (typeof it[k] === 'string') return `${k}:${it[k] as string}`;
      return undefined;
    };
    const old = new Map(prev.map((it) => [keyOf(it), it]));
    return next.map((it) => {
      const k = keyOf(it);
      return k !== undefined && old.has(k) ? keepSecrets(old.get(k), it) : it;
    });
  }
  if (!isObject(prev) || !isObject(next)) return next;
  const out: Record<string, unknown> = { ...next };
  for (const [k, v] of Object.entries(prev)) {
    if (SECRET_FIELDS.has(k)) {
      if (!(k in next)) out[k] = v;
    } else if (k in next) {
      out[k] = keepSecrets(v, next[k]);
    }
  }
  return out;
}
