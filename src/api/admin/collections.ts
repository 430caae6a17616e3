/**
 * CRUD over the list sections of the staged configuration (users, numbers, flows, queues, ring groups, trunks),
 * one generic set of routes per section, keyed by the item's natural key.
 */
import type { FastifyInstance } from 'fastify';
import type { PbxConfig } from '../../config/index.js';
import { ApiError, ok } from '../errors.js';
import { envelope, responses } from '../schemas.js';
import { itemShape, schemaRef } from './config-schema.js';
import { completeSecrets, keepSecrets } from './secrets.js';
import type { Staging } from './staging.js';

/** The list sections of the configuration and how their items are keyed. */
export type Section = 'users' | 'numbers' | 'flows' | 'queues' | 'ring_groups' | 'trunks';

/** One CRUD collection. */
export interface CollectionSpec {
  section: Section;
  /** URL segment (`ring-groups`). */
  path: string;
  /** The item's key field. */
  key: 'number' | 'id' | 'name';
  /** Singular noun for messages (`ring group`). */
  noun: string;
  /** Name of its shared schema (`RingGroup`). */
  schema: string;
}

/** The six collections of the admin API. */
export const COLLECTIONS: readonly CollectionSpec[] = [
  { section: 'users', path: 'users', key: 'number', noun: 'user', schema: 'User' },
  { section: 'numbers', path: 'numbers', key: 'number', noun: 'number', schema: 'Number' },
  { section: 'flows', path: 'flows', key: 'id', noun: 'flow', schema: 'Flow' },
  { section: 'queues', path: 'queues', key: 'name', noun: 'queue', schema: 'Queue' },
  { section: 'ring_groups', path: 'ring-groups', key: 'name', noun: 'ring group', schema: 'RingGroup' },
  { section: 'trunks', path: 'trunks', key: 'name', noun: 'trunk', schema: 'Trunk' },
];

type Item = Record<string, unknown>;

/** The items of a section, typed loosely (each route validates its own body). */
export function items(config: PbxConfig, section: Section): Item[] {
  return config[section] as unknown as Item[];
}

/** Index of the item whose key is `value`, or a 404 naming it. */
export function indexOf(list: Item[], spec: Pick<CollectionSpec, 'key' | 'noun'>, value: string): number {
  const i = list.findIndex((it) => it[spec.key] === value);
  if (i < 0) throw new ApiError(404, `${capitalize(spec.noun)} '${value}' not found`);
  return i;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Registers GET (list, one), POST, PUT, PATCH and DELETE for one collection. */
export function registerCollection(app: FastifyInstance, staging: Staging, spec: CollectionSpec): void {
  const tags = ['admin: configuration'];
  const security = [{ adminKey: [] }];
  const itemOut = schemaRef(spec.schema, 'out');
  const full = schemaRef(spec.schema, 'full');
  const partial = schemaRef(spec.schema, 'patch');
  const params = { type: 'object', required: [spec.key], properties: { [spec.key]: { type: 'string', minLength: 1 } } };
  const base = `/${spec.path}`;
  const one = `${base}/:${spec.key}`;
  const keyOf = (p: unknown): string => (p as Record<string, string>)[spec.key]!;
  const shape = itemShape(spec.section);
  const conflict = (list: Item[], value: unknown): void => {
    if (list.some((it) => it[spec.key] === value)) throw new ApiError(409, `${capitalize(spec.noun)} '${String(value)}' already exists`);
  };

  app.get(base, {
    schema: { tags, security, summary: `List ${spec.noun}s (staged)`, response: responses(envelope({ type: 'array', items: itemOut }), []) },
  }, async () => ok(items(await staging.read(), spec.section)));

  app.get(one, {
    schema: { tags, security, summary: `Get a ${spec.noun} (staged)`, params, response: responses(envelope(itemOut), [404]) },
  }, async (request) => {
    const list = items(await staging.read(), spec.section);
    return ok(list[indexOf(list, spec, keyOf(request.params))]);
  });

  app.post(base, {
    schema: { tags, security, summary: `Create a ${spec.noun} (staged)`, body: full, response: responses(envelope(itemOut), [400, 409], 201) },
  }, async (request, reply) => {
    const item = request.body as Item;
    await staging.edit((draft) => {
      const list = items(draft, spec.section);
      conflict(list, item[spec.key]);
      list.push(completeSecrets(item, shape));
    });
    return reply.code(201).send(ok(item, `${capitalize(spec.noun)} created (staged)`, 201));
  });

  app.put(one, {
    schema: { tags, security, summary: `Replace a ${spec.noun} (staged); a different key in the body renames it`, params, body: full, response: responses(envelope(itemOut), [400, 404, 409]) },
  }, async (request) => {
    const item = await staging.edit((draft) => {
      const body = request.body as Item;
      const list = items(draft, spec.section);
      const i = indexOf(list, spec, keyOf(request.params));
      if (body[spec.key] !== keyOf(request.params)) conflict(list, body[spec.key]);
      list[i] = completeSecrets(keepSecrets(list[i], body) as Item, shape);
      return list[i];
    });
    return ok(item, `${capitalize(spec.noun)} replaced (staged)`);
  });

  app.patch(one, {
    schema: { tags, security, summary: `Update fields of a ${spec.noun} (staged); nested objects are replaced whole`, params, body: partial, response: responses(envelope(itemOut), [400, 404, 409]) },
  }, async (request) => {
    const patch = request.body as Item;
    const merged = await staging.edit((draft) => {
      const list = items(draft, spec.section);
      const i = indexOf(list, spec, keyOf(request.params));
      if (spec.key in patch && patch[spec.key] !== keyOf(request.params)) conflict(list, patch[spec.key]);
      list[i] = completeSecrets(keepSecrets(list[i], { ...list[i], ...patch }) as Item, shape);
      return list[i];
    });
    return ok(merged, `${capitalize(spec.noun)} updated (staged)`);
  });

  app.delete(one, {
    schema: { tags, security, summary: `Delete a ${spec.noun} (staged)`, params, response: responses(envelope(itemOut), [404]) },
  }, async (request) => {
    const removed = await staging.edit((draft) => {
      const list = items(draft, spec.section);
      return list.splice(indexOf(list, spec, keyOf(request.params)), 1)[0];
    });
    return ok(removed, `${capitalize(spec.noun)} deleted (staged)`);
  });
}
