/**
 * JSON Schemas for the admin API, generated from the configuration's own schema table (`PBX_SCHEMA` in
 * src/config), so request validation, defaults, the OpenAPI document and `validateConfig` never drift apart.
 *
 * Format checks of the table (E.164, host, URL, time zone, IP/CIDR) become named ajv formats; the full
 * configuration, references included, is validated again by the engine at apply.
 */
import { PBX_SCHEMA } from '../../config/index.js';
import { DIGITS_PATTERN, type JsonSchema } from '../schemas.js';
import { namesField, SECRET_FIELDS } from './secrets.js';

/** One entry of the config schema table (derived, so the API needs no deep import of config internals). */
type Shape = (typeof PBX_SCHEMA)['fields'][string];
type ObjectShape = typeof PBX_SCHEMA;
type Check = (v: string) => string | null;

/** Our format names for the config module's checks (keyed by the check function's name); hints live in FORMAT_HINTS. */
const FORMAT_NAMES: Record<string, string> = {
  checkE164: 'e164',
  checkDigits: 'digits',
  checkIpOrCidr: 'ip-or-cidr',
  checkHost: 'host',
  checkHttpUrl: 'http-url',
  checkTimeZone: 'time-zone',
};

/** The ajv formats the generated schemas use: name → validator. */
export function configFormats(): Record<string, (v: string) => boolean> {
  const out: Record<string, (v: string) => boolean> = {};
  const visit = (shape: Shape): void => {
    switch (shape.kind) {
      case 'string':
        if (shape.check) out[formatName(shape.check)] = (v: string) => v === '' || shape.check!(v) === null;
        return;
      case 'list':
        return visit(shape.item);
      case 'map':
        return visit(shape.value);
      case 'object':
        return Object.values(shape.fields).forEach(visit);
      case 'union':
        return Object.values(shape.variants).forEach((fields) => Object.values(fields).forEach(visit));
      default:
        return;
    }
  };
  visit(PBX_SCHEMA);
  return out;
}

function formatName(check: Check): string {
  return FORMAT_NAMES[check.name] ?? (check.name || 'config-check');
}

/** Options: `defaults` copies the table's defaults (ajv fills them in); `required` keeps required keys. */
export interface ConvertOptions {
  defaults: boolean;
  required: boolean;
}

function isOptional(shape: Shape): boolean {
  return 'default' in shape || shape.kind === 'object' || isSecret(shape);
}

/**
 * Write-only fields are never required by a body schema and get no default there: a replacing write that leaves one
 * out keeps the stored value (secrets.ts `keepSecrets`), and `completeSecrets` then asks for it only where there is
 * none (a new device's password).
 */
function isSecret(shape: Shape): boolean {
  return (shape.kind === 'string' || shape.kind === 'map') && shape.secret === true;
}

function fieldsSchema(fields: Readonly<Record<string, Shape>>, opts: ConvertOptions, nested: ConvertOptions): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [key, shape] of Object.entries(fields)) {
    properties[key] = toJsonSchema(shape, nested);
    if (opts.required && !isOptional(shape)) required.push(key);
  }
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}), additionalProperties: false };
}

/**
 * Converts one shape. Top-level `opts` apply to this level only; nested objects always keep their required keys
 * and defaults (a PATCH replaces nested objects whole).
 */
export function toJsonSchema(shape: Shape, opts: ConvertOptions = { defaults: true, required: true }): JsonSchema {
  const nested: ConvertOptions = { defaults: opts.defaults, required: true };
  const base: JsonSchema = { description: shape.doc };
  if (opts.defaults && 'default' in shape && shape.default !== undefined && !isSecret(shape)) base.default = shape.default;
  switch (shape.kind) {
    case 'string': {
      const s: JsonSchema = { ...base, type: shape.nullable ? ['string', 'null'] : 'string' };
      if (!shape.allowEmpty) s.minLength = 1;
      if (shape.oneOf) s.enum = shape.nullable ? [...shape.oneOf, null] : [...shape.oneOf];
      if (shape.digits) s.pattern = DIGITS_PATTERN;
      if (shape.check) s.format = formatName(shape.check);
      return s;
    }
    case 'int':
      return {
        ...base, type: shape.nullable ? ['integer', 'null'] : 'integer',
        ...(shape.min !== undefined ? { minimum: shape.min } : {}), ...(shape.max !== undefined ? { maximum: shape.max } : {}),
      };
    case 'bool':
      return { ...base, type: 'boolean' };
    case 'list':
      return { ...base, type: 'array', items: toJsonSchema(shape.item, nested), ...(shape.minItems ? { minItems: shape.minItems } : {}) };
    case 'map':
      return { ...base, type: 'object', additionalProperties: toJsonSchema(shape.value, nested) };
    case 'object':
      return { ...(opts.defaults ? { default: {} } : {}), ...base, ...fieldsSchema(shape.fields, opts, nested) };
    case 'union':
      return {
        ...base,
        type: 'object',
        required: [shape.tag],
        discriminator: { propertyName: shape.tag },
        oneOf: Object.entries(shape.variants).map(([tag, fields]) => {
          const f = fieldsSchema(fields, nested, nested) as { properties: Record<string, JsonSchema>; required?: string[] };
          return { ...f, properties: { [shape.tag]: { const: tag }, ...f.properties }, required: [shape.tag, ...(f.required ?? [])] };
        }),
      };
    case 'next': {
      const outcomes = Object.fromEntries(shape.keys.map((k) => [k, { type: ['string', 'null'], minLength: 1 }]));
      return { ...base, type: ['string', 'object', 'null'], minLength: 1, properties: outcomes, additionalProperties: false };
    }
  }
}

/** The shape of a top-level section of the configuration (`users`, `webhook`, …). */
export function sectionShape(key: keyof ObjectShape['fields'] & string): Shape {
  const shape = PBX_SCHEMA.fields[key];
  if (!shape) throw new TypeError(`no configuration section '${key}'`);
  return shape;
}

/** The item shape of a list section (`users` → user). */
export function itemShape(key: string): ObjectShape {
  const shape = sectionShape(key);
  if (shape.kind !== 'list' || shape.item.kind !== 'object') throw new TypeError(`configuration section '${key}' is not a list of objects`);
  return shape.item;
}

/** Body schema of a create/replace (`full`) or a PATCH (`partial`: nothing required, no defaults). */
export function bodySchema(shape: Shape, mode: 'full' | 'partial'): JsonSchema {
  const { default: _rootDefault, ...schema } = toJsonSchema(shape, mode === 'full' ? { defaults: true, required: true } : { defaults: false, required: false });
  return schema;
}

/** Response schema of a config object: no defaults, no required keys; each secret `k` shown as `k_set` (secrets.ts). */
export function responseSchema(shape: Shape): JsonSchema {
  return setFlags(strip(toJsonSchema(shape, { defaults: false, required: false })));
}

/** Renames each secret property `k` of a response schema to a boolean `k_set`. */
function setFlags(s: unknown): JsonSchema {
  if (Array.isArray(s)) return s.map(setFlags) as unknown as JsonSchema;
  if (s === null || typeof s !== 'object') return s as JsonSchema;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k !== 'properties') {
      out[k] = setFlags(v);
      continue;
    }
    out[k] = Object.fromEntries(Object.entries(v as object).flatMap(([pk, pv]): Array<[string, unknown]> => {
      if (!SECRET_FIELDS.has(pk)) return [[pk, setFlags(pv)]];
      const flag: [string, unknown] = [`${pk}_set`, { type: 'boolean', description: `Whether ${pk} is set (write-only: never returned).` }];
      // A secret map (a webhook object's headers) also shows its key names.
      return (pv as JsonSchema).type === 'object'
        ? [flag, [namesField(pk), { type: 'array', items: { type: 'string' }, description: `The names of ${pk} (their values are write-only).` }]]
        : [flag];
    }));
  }
  return out;
}

/** Removes `required`, `default`, `discriminator` and `minLength` deeply (response schemas only describe). */
function strip(s: unknown): JsonSchema {
  if (Array.isArray(s)) return s.map(strip) as unknown as JsonSchema;
  if (s === null || typeof s !== 'object') return s as JsonSchema;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'required' || k === 'default' || k === 'discriminator') continue;
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, strip(pv)])) : strip(v);
  }
  return out;
}

/** The device shape (an item of `users[].devices`). */
export function deviceShape(): Shape {
  const devices = itemShape('users').fields.devices;
  if (!devices || devices.kind !== 'list') throw new TypeError('users[].devices is not a list');
  return devices.item;
}

/** Named configuration objects: one shared schema each (compiled once, one OpenAPI component each). */
const NAMED: ReadonlyArray<readonly [string, () => Shape]> = [
  ['User', () => itemShape('users')],
  ['Device', deviceShape],
  ['Number', () => itemShape('numbers')],
  ['Flow', () => itemShape('flows')],
  ['Queue', () => itemShape('queues')],
  ['RingGroup', () => itemShape('ring_groups')],
  ['Trunk', () => itemShape('trunks')],
  ['PbxSettings', () => sectionShape('pbx')],
  ['WebhookSettings', () => sectionShape('webhook')],
  ['DeliverySettings', () => sectionShape('delivery')],
];

/** A schema variant: the create/replace body, the PATCH body, or the response. */
export type Variant = 'full' | 'patch' | 'out';
const SUFFIX: Record<Variant, string> = { full: '', patch: 'Patch', out: 'Out' };

/** `{ $ref }` to a shared schema, e.g. `schemaRef('User', 'patch')` → `UserPatch#`. */
export function schemaRef(name: string, variant: Variant): JsonSchema {
  return { $ref: `${name}${SUFFIX[variant]}#` };
}

/** Every shared configuration schema, with its `$id`, for `app.addSchema`. */
export function sharedConfigSchemas(): JsonSchema[] {
  return NAMED.flatMap(([name, shape]) => [
    { $id: `${name}`, ...bodySchema(shape(), 'full') },
    { $id: `${name}Patch`, ...bodySchema(shape(), 'partial') },
    { $id: `${name}Out`, ...responseSchema(shape()) },
  ]);
}
