/**
 * Write-only secrets (issue 11): device and trunk passwords, webhook tokens and signing secrets, the API and admin
 * keys, a webhook object's custom headers. The admin API never returns them: every admin answer passes through
 * {@link redactSecrets}, which replaces each secret field by `<field>_set: true|false` (a secret map, the headers,
 * also by the names of its keys: `header_names`). The names come from the configuration schema's `secret` flags, so
 * a new secret key is covered the day it is added. Writes need not send them again ({@link keepSecrets},
 * {@link completeSecrets}).
 */
import { PBX_SCHEMA } from '../../config/index.js';
import { ApiError } from '../errors.js';

type Shape = (typeof PBX_SCHEMA)['fields'][string];

function collect(shape: Shape, key: string | null, out: Set<string>): void {
  switch (shape.kind) {
    case 'string':
      if (shape.secret && key) out.add(key);
      return;
    case 'list':
      return collect(shape.item, key, out);
    case 'map':
      if (shape.secret && key) {
        out.add(key);
        SECRET_MAPS.add(key);
      }
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

/** Secret fields that are maps (`headers`): their key names are shown, their values never. */
const SECRET_MAPS = new Set<string>();

/** `headers` → `header_names`: where a secret map's key names are shown. */
export function namesField(key: string): string {
  return `${key.replace(/s$/, '')}_names`;
}

/** Field names that hold a secret anywhere in the configuration (`password`, `secret_token`, `headers`, …). */
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
  // A diff entry at a secret or inside one (`/flows/1/nodes/0/headers/X-Crm-Key`).
  const diffOfSecret = typeof value.path === 'string' && value.path.split('/').some((seg) => SECRET_FIELDS.has(seg));
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_MAPS.has(k) && isObject(v)) {
      out[`${k}_set`] = Object.keys(v).length > 0;
      out[namesField(k)] = Object.keys(v);
    } else if (SECRET_FIELDS.has(k)) out[`${k}_set`] = typeof v === 'string' && v !== '';
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

/**
 * After {@link keepSecrets}: a secret still missing (the schemas never require one, so that a replacing write need
 * not send it again) takes its default, or — when it has none, as for a new device's password — is a 400 naming
 * the field, worded as the schema's own errors are. Works on `value` in place and returns it.
 */
export function completeSecrets<T>(value: T, shape: Shape, path = ''): T {
  const at = (k: string | number): string => (path ? `${path}/${k}` : String(k));
  const fields = (v: Record<string, unknown>, defs: Readonly<Record<string, Shape>>): void => {
    for (const [k, s] of Object.entries(defs)) {
      const secret = (s.kind === 'string' || s.kind === 'map') && s.secret === true;
      if (secret && v[k] === undefined) {
        if (!('default' in s) || s.default === undefined) throw new ApiError(400, `Missing field '${at(k)}'`);
        v[k] = structuredClone(s.default);
      } else if (v[k] !== undefined) {
        completeSecrets(v[k], s, at(k));
      }
    }
  };
  switch (shape.kind) {
    case 'list':
      if (Array.isArray(value)) value.forEach((it, i) => completeSecrets(it, shape.item, at(i)));
      break;
    case 'object':
      if (isObject(value)) fields(value, shape.fields);
      break;
    case 'union':
      if (isObject(value)) {
        const variant = shape.variants[String(value[shape.tag])];
        if (variant) fields(value, variant);
      }
      break;
    default:
      break;
  }
  return value;
}
