/**
 * Single-object settings of the staged configuration: the PBX itself, the global webhook, delivery tuning, API
 * access (whitelist, trusted proxies, rate limit) and the API key (regenerated, shown once, never read back).
 */
import type { FastifyInstance } from 'fastify';
import type { PbxConfig } from '../../config/index.js';
import { randomToken } from '../../common/index.js';
import { isValidBlock } from '../auth.js';
import { ApiError, ok } from '../errors.js';
import { envelope, responses, type JsonSchema } from '../schemas.js';
import { schemaRef, sectionShape } from './config-schema.js';
import { completeSecrets, keepSecrets } from './secrets.js';
import type { Staging } from './staging.js';

type Singleton = 'pbx' | 'webhook' | 'delivery';
type Item = Record<string, unknown>;

const tags = ['admin: configuration'];
const security = [{ adminKey: [] }];

/** GET, PUT (replace) and PATCH (merge top-level fields) for one settings object. */
function registerSingleton(app: FastifyInstance, staging: Staging, section: Singleton, noun: string, schema: string): void {
  const out = schemaRef(schema, 'out');
  app.get(`/${section}`, {
    schema: { tags, security, summary: `Get the ${noun} settings (staged)`, response: responses(envelope(out), []) },
  }, async () => ok((await staging.read())[section]));
  app.put(`/${section}`, {
    schema: { tags, security, summary: `Replace the ${noun} settings (staged)`, body: schemaRef(schema, 'full'), response: responses(envelope(out), [400]) },
  }, async (req) => ok(await staging.edit((draft) => {
    const d = draft as unknown as Record<Singleton, Item>;
    d[section] = completeSecrets(keepSecrets(d[section], req.body) as Item, sectionShape(section));
    return draft[section];
  }), `${noun} settings replaced (staged)`));
  app.patch(`/${section}`, {
    schema: { tags, security, summary: `Update fields of the ${noun} settings (staged)`, body: schemaRef(schema, 'patch'), response: responses(envelope(out), [400]) },
  }, async (req) => ok(await staging.edit((draft) => {
    const d = draft as unknown as Record<Singleton, Item>;
    d[section] = completeSecrets(keepSecrets(d[section], { ...d[section], ...(req.body as Item) }) as Item, sectionShape(section));
    return d[section];
  }), `${noun} settings updated (staged)`));
}

/** Rejects list entries that are not addresses or CIDR blocks, naming the first bad one. */
function checkBlocks(field: string, entries: readonly string[]): void {
  const bad = entries.findIndex((e) => !isValidBlock(e));
  if (bad >= 0) throw new ApiError(400, `Invalid field '${field}/${bad}': '${entries[bad]}' is not an IP address or CIDR block`);
}

const ipList: JsonSchema = { type: 'array', maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 64 } };
const WHITELIST_OUT: JsonSchema = { type: 'object', properties: { whitelisted_ips: { type: 'array', items: { type: 'string' } } } };
const ACCESS_OUT: JsonSchema = {
  type: 'object',
  properties: {
    whitelisted_ips: { type: 'array', items: { type: 'string' } },
    trusted_proxies: { type: 'array', items: { type: 'string' } },
    rate_limit_per_min: { type: 'integer' },
  },
};

function access(config: PbxConfig) {
  const { whitelisted_ips, trusted_proxies, rate_limit_per_min } = config.api;
  return { whitelisted_ips, trusted_proxies, rate_limit_per_min };
}

/** API access: whitelist, trusted proxies, rate limit and key regeneration. */
function registerApiAccess(app: FastifyInstance, staging: Staging): void {
  app.get('/whitelist', {
    schema: { tags, security, summary: 'Get the IP whitelist (staged)', response: responses(envelope(WHITELIST_OUT), []) },
  }, async () => ok({ whitelisted_ips: (await staging.read()).api.whitelisted_ips }));

  app.put('/whitelist', {
    schema: {
      tags, security, summary: 'Replace the IP whitelist (staged). Takes effect on apply: keep your own address in it.',
      body: { type: 'object', required: ['whitelisted_ips'], additionalProperties: false, properties: { whitelisted_ips: ipList } },
      response: responses(envelope(WHITELIST_OUT), [400]),
    },
  }, async (req) => {
    const list = (req.body as { whitelisted_ips: string[] }).whitelisted_ips;
    checkBlocks('whitelisted_ips', list);
    return ok({ whitelisted_ips: await staging.edit((d) => (d.api.whitelisted_ips = [...list])) }, 'Whitelist replaced (staged)');
  });

  const entryBody = { type: 'object', required: ['ip'], additionalProperties: false, properties: { ip: { type: 'string', minLength: 1, maxLength: 64, description: 'Address or CIDR block.' } } };
  app.post('/whitelist', {
    schema: { tags, security, summary: 'Add an address or CIDR block to the whitelist (staged)', body: entryBody, response: responses(envelope(WHITELIST_OUT), [400]) },
  }, async (req) => {
    const { ip } = req.body as { ip: string };
    checkBlocks('ip', [ip]);
    const list = await staging.edit((d) => {
      if (!d.api.whitelisted_ips.includes(ip)) d.api.whitelisted_ips = [...d.api.whitelisted_ips, ip];
      return d.api.whitelisted_ips;
    });
    return ok({ whitelisted_ips: list }, 'Whitelist entry added (staged)');
  });

  app.delete('/whitelist', {
    schema: {
      tags, security, summary: 'Remove an entry from the whitelist (staged); the entry goes in the query: ?ip=10.0.0.0/8',
      querystring: { type: 'object', required: ['ip'], properties: { ip: { type: 'string', minLength: 1 } } },
      response: responses(envelope(WHITELIST_OUT), [400, 404]),
    },
  }, async (req) => {
    const { ip } = req.query as { ip: string };
    const list = await staging.edit((d) => {
      if (!d.api.whitelisted_ips.includes(ip)) throw new ApiError(404, `Whitelist entry '${ip}' not found`);
      d.api.whitelisted_ips = d.api.whitelisted_ips.filter((e) => e !== ip);
      return d.api.whitelisted_ips;
    });
    return ok({ whitelisted_ips: list }, 'Whitelist entry removed (staged)');
  });

  app.get('/api-access', {
    schema: { tags, security, summary: 'Get API access settings (staged; the key is never shown)', response: responses(envelope(ACCESS_OUT), []) },
  }, async () => ok(access(await staging.read())));

  app.patch('/api-access', {
    schema: {
      tags, security, summary: 'Update whitelist, trusted proxies or rate limit (staged)',
      body: {
        type: 'object', additionalProperties: false,
        properties: { whitelisted_ips: ipList, trusted_proxies: ipList, rate_limit_per_min: { type: 'integer', minimum: 1 } },
      },
      response: responses(envelope(ACCESS_OUT), [400]),
    },
  }, async (req) => {
    const body = req.body as Partial<ReturnType<typeof access>>;
    if (body.whitelisted_ips) checkBlocks('whitelisted_ips', body.whitelisted_ips);
    if (body.trusted_proxies) checkBlocks('trusted_proxies', body.trusted_proxies);
    return ok(await staging.edit((d) => {
      d.api = { ...d.api, ...body };
      return access(d);
    }), 'API access updated (staged)');
  });

  app.post('/api-key/regenerate', {
    config: { showsSecret: true },
    schema: {
      tags, security,
      summary: 'Generate a new API key (staged; shown only in this response). The old key works until apply.',
      response: responses(envelope({ type: 'object', properties: { api_key: { type: 'string' } } }), [], 201),
    },
  }, async (_req, reply) => {
    const key = `sb_${randomToken(40)}`;
    await staging.edit((d) => (d.api.api_key = key));
    return reply.code(201).send(ok({ api_key: key }, 'API key regenerated (staged): store it now, it is not shown again', 201));
  });
}

/** Registers every settings route. */
export function registerSettings(app: FastifyInstance, staging: Staging): void {
  registerSingleton(app, staging, 'pbx', 'PBX', 'PbxSettings');
  registerSingleton(app, staging, 'webhook', 'Webhook', 'WebhookSettings');
  registerSingleton(app, staging, 'delivery', 'Delivery', 'DeliverySettings');
  registerApiAccess(app, staging);
}
