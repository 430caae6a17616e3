/**
 * The difference between two configurations, as a list of changes with JSON-Pointer-like paths. List sections
 * are matched by their items' keys (`/users/1001/ring_timeout_s`), so inserting a user does not show every
 * later user as changed; other lists are compared whole.
 */
import type { PbxConfig } from '../../config/index.js';

/** One change: `added` (only in staged), `removed` (only in live) or `changed`. */
export interface ConfigChange {
  path: string;
  op: 'added' | 'removed' | 'changed';
  live?: unknown;
  staged?: unknown;
}

/** Key of the items of each keyed list section. */
const ITEM_KEYS: Record<string, string> = { users: 'number', numbers: 'number', flows: 'id', queues: 'name', ring_groups: 'name', trunks: 'name' };

/** The value shown for the API key in any configuration the admin API returns. */
export const MASKED_KEY = '********';

/** A copy of `config` with the API key masked (it is shown once, when generated). */
export function maskSecrets(config: PbxConfig): PbxConfig {
  return { ...config, api: { ...config.api, api_key: MASKED_KEY } };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function escape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function diffValue(path: string, live: unknown, staged: unknown, out: ConfigChange[]): void {
  if (same(live, staged)) return;
  if (live === undefined) {
    out.push({ path, op: 'added', staged });
    return;
  }
  if (staged === undefined) {
    out.push({ path, op: 'removed', live });
    return;
  }
  if (isObject(live) && isObject(staged)) {
    const keys = new Set([...Object.keys(live), ...Object.keys(staged)]);
    for (const k of keys) diffValue(`${path}/${escape(k)}`, live[k], staged[k], out);
    return;
  }
  out.push({ path, op: 'changed', live, staged });
}

function diffKeyedList(path: string, key: string, live: unknown[], staged: unknown[], out: ConfigChange[]): void {
  const index = (list: unknown[]) => new Map(list.filter(isObject).map((it) => [String(it[key]), it]));
  const a = index(live);
  const b = index(staged);
  for (const [k, item] of a) diffValue(`${path}/${escape(k)}`, item, b.get(k), out);
  for (const [k, item] of b) if (!a.has(k)) out.push({ path: `${path}/${escape(k)}`, op: 'added', staged: item });
}

/** Every difference from `live` to `staged`, in section order. The API key is compared but never shown. */
export function diffConfig(live: PbxConfig, staged: PbxConfig): ConfigChange[] {
  const out: ConfigChange[] = [];
  const a = live as unknown as Record<string, unknown>;
  const b = staged as unknown as Record<string, unknown>;
  for (const section of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const key = ITEM_KEYS[section];
    if (key && Array.isArray(a[section]) && Array.isArray(b[section])) diffKeyedList(`/${section}`, key, a[section], b[section], out);
    else diffValue(`/${section}`, a[section], b[section], out);
  }
  return out.map((c) => (c.path === '/api/api_key' ? { path: c.path, op: c.op, ...(c.live !== undefined ? { live: MASKED_KEY } : {}), ...(c.staged !== undefined ? { staged: MASKED_KEY } : {}) } : c));
}
