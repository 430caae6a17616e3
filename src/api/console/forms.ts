/**
 * The console's edit forms are drawn from the configuration's own schema table (PBX_SCHEMA), so each field has
 * its label, help text, type, choices and default from the same source the server validates with, and a new
 * key shows up in the form the day it is added. `GET /console/api/forms` hands the item shapes of the edited
 * sections to the page, as plain JSON (format checks stay on the server: its 400 names the field).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PBX_SCHEMA, type Shape } from '../../config/index.js';

type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** A shape as the page sees it: the table entry without its check functions; `format` names the check. */
export type FormShape =
  | { kind: 'string'; doc: string; default?: unknown; nullable?: boolean; allowEmpty?: boolean; oneOf?: readonly string[]; digits?: boolean; secret?: boolean; format?: string }
  | { kind: 'int'; doc: string; default?: unknown; min?: number; max?: number; nullable?: boolean }
  | { kind: 'bool'; doc: string; default?: unknown }
  | { kind: 'list'; doc: string; default?: unknown; item: FormShape; minItems?: number }
  | { kind: 'object'; doc: string; default?: unknown; fields: Record<string, FormShape> }
  | { kind: 'map'; doc: string; default?: unknown; value: FormShape }
  | { kind: 'union'; doc: string; default?: unknown; tag: string; variants: Record<string, Record<string, FormShape>> }
  | { kind: 'next'; doc: string; default?: unknown; keys: readonly string[] };

const fieldsOf = (fields: Readonly<Record<string, Shape>>): Record<string, FormShape> =>
  Object.fromEntries(Object.entries(fields).map(([k, s]) => [k, toFormShape(s)]));

/** A schema-table entry as plain JSON. */
export function toFormShape(shape: Shape): FormShape {
  const base = { doc: shape.doc, ...('default' in shape && shape.default !== undefined ? { default: shape.default } : {}) };
  switch (shape.kind) {
    case 'string': {
      const { check, kind: _k, doc: _d, default: _df, ...rest } = shape;
      return { kind: 'string', ...base, ...rest, ...(check ? { format: check.name } : {}) };
    }
    case 'int': {
      const { kind: _k, doc: _d, default: _df, ...rest } = shape;
      return { kind: 'int', ...base, ...rest };
    }
    case 'bool':
      return { kind: 'bool', ...base };
    case 'list':
      return { kind: 'list', ...base, item: toFormShape(shape.item), ...(shape.minItems ? { minItems: shape.minItems } : {}) };
    case 'object':
      return { kind: 'object', ...base, fields: fieldsOf(shape.fields) };
    case 'map':
      return { kind: 'map', ...base, value: toFormShape(shape.value) };
    case 'union':
      return { kind: 'union', ...base, tag: shape.tag, variants: Object.fromEntries(Object.entries(shape.variants).map(([t, f]) => [t, fieldsOf(f)])) };
    case 'next':
      return { kind: 'next', ...base, keys: shape.keys };
  }
}

/** The sections the console edits with forms, by their admin API path. */
const FORM_SECTIONS = { users: 'users', numbers: 'numbers', flows: 'flows', queues: 'queues', 'ring-groups': 'ring_groups', trunks: 'trunks' } as const;

/** Item shape of each edited section. */
export function formShapes(): Record<string, FormShape> {
  const out: Record<string, FormShape> = {};
  for (const [path, section] of Object.entries(FORM_SECTIONS)) {
    const shape = PBX_SCHEMA.fields[section];
    if (shape?.kind === 'list') out[path] = toFormShape(shape.item);
  }
  return out;
}

/** Registers `GET /console/api/forms`. */
export function registerFormRoutes(app: FastifyInstance, session: PreHandler): void {
  const shapes = formShapes();
  app.get('/console/api/forms', { config: { auth: 'ip' as const }, schema: { hide: true }, preHandler: session }, async () => ({
    code: 200, status: 'success', message: 'OK', data: shapes,
  }));
}
