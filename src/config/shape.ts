/**
 * A small declarative schema: every configuration key is a {@link Shape} with its type, default and doc, so one
 * table drives validation, defaults and `docs/configuration.md`. {@link readShape} turns raw YAML/JSON into a
 * typed value with defaults filled in, collecting every problem as a {@link ConfigIssue} instead of stopping.
 */
import { editDistance } from './formats.js';
import type { ConfigIssue } from './errors.js';

interface ShapeBase {
  doc: string;
  /** Present = the key is optional and this is its value when absent (or null, unless `nullable`). */
  default?: unknown;
}

/** A string; `digits` also accepts a YAML integer (`number: 1001`) and turns it into "1001". */
export interface StringShape extends ShapeBase {
  kind: 'string';
  nullable?: boolean;
  allowEmpty?: boolean;
  oneOf?: readonly string[];
  digits?: boolean;
  check?: (v: string) => string | null;
  /**
   * Write-only (a password, token, signing secret or key): never returned by the admin API (which shows
   * `<key>_set: true` instead), never logged, redacted in the audit log; a PATCH without it keeps the old value.
   */
  secret?: boolean;
}
export interface IntShape extends ShapeBase { kind: 'int'; min?: number; max?: number; nullable?: boolean }
export interface BoolShape extends ShapeBase { kind: 'bool' }
export interface ListShape extends ShapeBase { kind: 'list'; item: Shape; minItems?: number }
/** A fixed set of keys; an absent object is read as `{}` so its defaults apply. */
export interface ObjectShape extends ShapeBase { kind: 'object'; fields: Readonly<Record<string, Shape>> }
/**
 * Free-form keys (custom HTTP headers) with values of one shape. `secret`: the values are write-only (a webhook
 * object's headers carry CRM credentials): the admin API shows the keys only, and a write without the map keeps it.
 */
export interface MapShape extends ShapeBase { kind: 'map'; value: Shape; secret?: boolean }
/** An object whose `tag` key picks one of several key sets (flow nodes by `type`). */
export interface UnionShape extends ShapeBase { kind: 'union'; tag: string; variants: Readonly<Record<string, Readonly<Record<string, Shape>>>> }
/** A node reference: a node id, or a map of outcome → node id (`keys`), or null. */
export interface NextShape extends ShapeBase { kind: 'next'; keys: readonly string[] }

export type Shape = StringShape | IntShape | BoolShape | ListShape | ObjectShape | MapShape | UnionShape | NextShape;

/** Where issues go while reading. */
export interface ReadContext {
  file: string;
  issues: ConfigIssue[];
}

/** `a.b`, `a[0]`, or `headers["X-Foo"]` for keys that are not identifiers. */
export function keyPath(parent: string, key: string): string {
  if (!/^[A-Za-z_][\w-]*$/.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string '${v}'`;
  return `${typeof v === 'number' ? 'the number' : typeof v} ${String(v)}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function structuredCopy<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function issue(ctx: ReadContext, path: string, message: string): undefined {
  ctx.issues.push({ file: ctx.file, path, message });
  return undefined;
}

/** Reads the keys of `fields` from `raw`, reporting unknown keys (with a "did you mean" hint). */
function readFields(fields: Readonly<Record<string, Shape>>, raw: Record<string, unknown>, path: string, ctx: ReadContext, variant?: { tag: string; value: string }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (key === variant?.tag || Object.hasOwn(fields, key)) continue;
    const near = Object.keys(fields).filter((k) => editDistance(k, key) <= Math.max(1, Math.floor(k.length / 4)));
    const hint = near.length > 0 ? ` (did you mean '${near[0]}'?)` : variant ? ` (not used by ${variant.tag} ${variant.value})` : '';
    issue(ctx, keyPath(path, key), `unknown key '${key}'${hint}`);
  }
  for (const [key, shape] of Object.entries(fields)) {
    const v = readShape(shape, raw[key], keyPath(path, key), ctx);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function readString(s: StringShape, raw: unknown, path: string, ctx: ReadContext): unknown {
  let v = raw;
  if (s.digits && typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) v = String(v);
  if (typeof v !== 'string') return issue(ctx, path, `expected a string, got ${describe(raw)}`);
  if (v === '' && !s.allowEmpty) return issue(ctx, path, 'must not be empty');
  if (s.oneOf && !s.oneOf.includes(v)) return issue(ctx, path, `must be one of ${s.oneOf.join(', ')}; got '${v}'`);
  const problem = v === '' ? null : s.check?.(v);
  return problem ? issue(ctx, path, problem) : v;
}

function readInt(s: IntShape, raw: unknown, path: string, ctx: ReadContext): unknown {
  const min = s.min ?? Number.MIN_SAFE_INTEGER;
  const max = s.max ?? Number.MAX_SAFE_INTEGER;
  const range = s.max === undefined ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    return issue(ctx, path, `must be ${range}, got ${describe(raw)}`);
  }
  return raw;
}

function readNext(s: NextShape, raw: unknown, path: string, ctx: ReadContext): unknown {
  if (typeof raw === 'string') return raw === '' ? issue(ctx, path, 'must not be empty') : raw;
  if (!isPlainObject(raw)) return issue(ctx, path, `expected a node id or a map of outcome to node id, got ${describe(raw)}`);
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(raw)) {
    const p = keyPath(path, key);
    if (!s.keys.includes(key)) issue(ctx, p, `unknown outcome '${key}' (one of ${s.keys.join(', ')})`);
    else if (v === null || v === undefined) continue;
    else if (typeof v !== 'string' || v === '') issue(ctx, p, `expected a node id, got ${describe(v)}`);
    else out[key] = v;
  }
  return out;
}

/**
 * Reads `raw` as `shape` at `path`. Returns the typed value with defaults applied, or undefined after recording
 * an issue. Absent (or null, for a non-nullable key) takes the default; with no default the key is required.
 */
export function readShape(shape: Shape, raw: unknown, path: string, ctx: ReadContext): unknown {
  const nullable = 'nullable' in shape && shape.nullable === true;
  if (raw === null && nullable) return null;
  if (raw === undefined || raw === null) {
    if ('default' in shape) return structuredCopy(shape.default);
    if (shape.kind === 'object') return readShape(shape, {}, path, ctx);
    return issue(ctx, path, 'required key is missing');
  }
  switch (shape.kind) {
    case 'string':
      return readString(shape, raw, path, ctx);
    case 'int':
      return readInt(shape, raw, path, ctx);
    case 'bool':
      return typeof raw === 'boolean' ? raw : issue(ctx, path, `expected true or false, got ${describe(raw)}`);
    case 'next':
      return readNext(shape, raw, path, ctx);
    case 'list': {
      if (!Array.isArray(raw)) return issue(ctx, path, `expected a list, got ${describe(raw)}`);
      if (raw.length < (shape.minItems ?? 0)) return issue(ctx, path, `must have at least ${shape.minItems} item(s)`);
      return raw.map((item, i) => readShape(shape.item, item, `${path}[${i}]`, ctx));
    }
    case 'map': {
      if (!isPlainObject(raw)) return issue(ctx, path, `expected a map of names to values, got ${describe(raw)}`);
      return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, readShape(shape.value, v, keyPath(path, k), ctx)]));
    }
    case 'object':
      return isPlainObject(raw) ? readFields(shape.fields, raw, path, ctx) : issue(ctx, path, `expected an object, got ${describe(raw)}`);
    case 'union': {
      if (!isPlainObject(raw)) return issue(ctx, path, `expected an object, got ${describe(raw)}`);
      const tag = raw[shape.tag];
      const kinds = Object.keys(shape.variants);
      if (typeof tag !== 'string' || !Object.hasOwn(shape.variants, tag)) {
        return issue(ctx, keyPath(path, shape.tag), `must be one of ${kinds.join(', ')}; got ${tag === undefined ? 'nothing' : describe(tag)}`);
      }
      return { [shape.tag]: tag, ...readFields(shape.variants[tag]!, raw, path, ctx, { tag: shape.tag, value: tag }) };
    }
  }
}
