/**
 * The configuration versions (SPEC.md §1 "apply configuration"): read live and staged, their diff, discard the
 * staged edits, and apply (validate the whole staged configuration; make it live as a new version).
 */
import type { FastifyInstance } from 'fastify';
import type { EngineFacade } from '../../engine/index.js';
import { ApiError, ok } from '../errors.js';
import { envelope, responses, type JsonSchema } from '../schemas.js';
import { diffConfig, maskSecrets } from './diff.js';
import type { Staging } from './staging.js';

const tags = ['admin: apply'];
const security = [{ adminKey: [] }];
const CONFIG: JsonSchema = { type: 'object', additionalProperties: true, description: 'A whole PbxConfig (see docs/configuration.md); api.api_key is masked.' };
const VERSION: JsonSchema = {
  type: 'object',
  properties: { version: { type: 'integer' }, created_at: { type: 'string' }, config: CONFIG },
};
const CHANGE: JsonSchema = {
  type: 'object',
  properties: { path: { type: 'string' }, op: { type: 'string', enum: ['added', 'removed', 'changed'] }, live: {}, staged: {} },
};

/** Registers `config/live`, `config/staged` (GET, DELETE), `config/diff` and `apply`. */
export function registerConfigRoutes(app: FastifyInstance, engine: EngineFacade, staging: Staging): void {
  app.get('/config/live', {
    schema: { tags, security, summary: 'The live configuration version', response: responses(envelope(VERSION), []) },
  }, async () => {
    const live = engine.config.live();
    return ok({ version: live.version, created_at: live.created_at, config: maskSecrets(live.config) });
  });

  app.get('/config/staged', {
    schema: { tags, security, summary: 'The staged configuration (what apply would make live)', response: responses(envelope(CONFIG), []) },
  }, async () => ok(maskSecrets(await staging.read())));

  app.delete('/config/staged', {
    schema: { tags, security, summary: 'Discard staged edits (staged := live)', response: responses(envelope(CONFIG), []) },
  }, async () => {
    await staging.reset();
    return ok(maskSecrets(await staging.read()), 'Staged edits discarded');
  });

  app.get('/config/diff', {
    schema: {
      tags, security, summary: 'Changes from live to staged',
      response: responses(envelope({ type: 'object', properties: { live_version: { type: 'integer' }, changes: { type: 'array', items: CHANGE } } }), []),
    },
  }, async () => {
    const live = engine.config.live();
    return ok({ live_version: live.version, changes: diffConfig(live.config, await staging.read()) });
  });

  app.post('/apply', {
    schema: {
      tags, security,
      summary: 'Validate the staged configuration and make it live as a new version',
      description: 'Atomic: on any error nothing changes and the 400 lists every error in data.errors. Calls in progress finish on their version.',
      response: responses(envelope({ type: 'object', properties: { version: { type: 'integer' } } }), [400]),
    },
  }, async () => {
    const result = await staging.exclusive(() => engine.config.apply());
    if (!result.ok) {
      throw new ApiError(400, `Staged configuration is invalid (${result.errors.length} error${result.errors.length === 1 ? '' : 's'}); live configuration unchanged`, { errors: result.errors });
    }
    return ok({ version: result.version }, `Configuration version ${result.version} is live`);
  });
}
