/**
 * Devices: nested under their user (`/users/:number/devices/:username`) and by username (`/devices/:username`;
 * usernames are unique across the PBX). Edits go to the staged configuration.
 */
import type { FastifyInstance } from 'fastify';
import type { DeviceConfig, PbxConfig, UserConfig } from '../../config/index.js';
import { ApiError, ok } from '../errors.js';
import { envelope, responses, type JsonSchema } from '../schemas.js';
import { bodySchema, deviceShape, responseSchema, schemaRef } from './config-schema.js';
import { indexOf, items } from './collections.js';
import type { Staging } from './staging.js';
import { completeSecrets, keepSecrets } from './secrets.js';

const USER_SPEC = { key: 'number', noun: 'user' } as const;

function userOf(config: PbxConfig, number: string): UserConfig {
  const list = items(config, 'users');
  return list[indexOf(list, USER_SPEC, number)] as unknown as UserConfig;
}

/** Where a device lives, or a 404 naming it. */
function findDevice(config: PbxConfig, username: string): { user: UserConfig; index: number } {
  for (const user of config.users) {
    const index = user.devices.findIndex((d) => d.username === username);
    if (index >= 0) return { user, index };
  }
  throw new ApiError(404, `Device '${username}' not found`);
}

function assertFree(config: PbxConfig, username: string): void {
  const owner = config.users.find((u) => u.devices.some((d) => d.username === username));
  if (owner) throw new ApiError(409, `Device '${username}' already exists (user ${owner.number})`);
}

/** Replaces device `index` of `user` by `next`, checking that a new username is free. */
function replace(config: PbxConfig, user: UserConfig, index: number, next: DeviceConfig): DeviceConfig {
  if (next.username !== user.devices[index]!.username) assertFree(config, next.username);
  const kept = completeSecrets(keepSecrets(user.devices[index], next) as DeviceConfig, deviceShape());
  user.devices[index] = kept;
  return kept;
}

/** Registers the device routes. */
export function registerDevices(app: FastifyInstance, staging: Staging): void {
  const tags = ['admin: configuration'];
  const security = [{ adminKey: [] }];
  const deviceOut = responseSchema(deviceShape());
  const out = schemaRef('Device', 'out');
  const flatOut: JsonSchema = { ...deviceOut, properties: { user_number: { type: 'string' }, ...(deviceOut.properties as object) } };
  const full = schemaRef('Device', 'full');
  const partial = schemaRef('Device', 'patch');
  const fullInline = bodySchema(deviceShape(), 'full');
  const userParam = { type: 'object', required: ['number'], properties: { number: { type: 'string', minLength: 1 } } };
  const bothParams = { type: 'object', required: ['number', 'username'], properties: { number: { type: 'string' }, username: { type: 'string' } } };
  const nameParam = { type: 'object', required: ['username'], properties: { username: { type: 'string', minLength: 1 } } };
  type P = Record<string, string>;
  const flat = (user: UserConfig, d: DeviceConfig) => ({ user_number: user.number, ...d });

  app.get('/users/:number/devices', {
    schema: { tags, security, summary: 'List a user\'s devices (staged)', params: userParam, response: responses(envelope({ type: 'array', items: out }), [404]) },
  }, async (req) => ok(userOf(await staging.read(), (req.params as P).number!).devices));

  app.post('/users/:number/devices', {
    schema: { tags, security, summary: 'Add a device to a user (staged)', params: userParam, body: full, response: responses(envelope(out), [400, 404, 409], 201) },
  }, async (req, reply) => {
    const device = req.body as DeviceConfig;
    await staging.edit((draft) => {
      const user = userOf(draft, (req.params as P).number!);
      assertFree(draft, device.username);
      user.devices.push(completeSecrets(device, deviceShape()));
    });
    return reply.code(201).send(ok(device, 'Device created (staged)', 201));
  });

  const nested = (method: 'get' | 'put' | 'patch' | 'delete', body?: JsonSchema) => ({
    schema: {
      tags, security, params: bothParams, ...(body ? { body } : {}),
      summary: `${method.toUpperCase()} one device of a user (staged)`,
      response: responses(envelope(out), body ? [400, 404, 409] : [404]),
    },
  });
  const located = (config: PbxConfig, p: P) => {
    const user = userOf(config, p.number!);
    const index = user.devices.findIndex((d) => d.username === p.username);
    if (index < 0) throw new ApiError(404, `Device '${p.username}' not found on user ${p.number}`);
    return { user, index };
  };

  app.get('/users/:number/devices/:username', nested('get'), async (req) => {
    const { user, index } = located(await staging.read(), req.params as P);
    return ok(user.devices[index]);
  });
  app.put('/users/:number/devices/:username', nested('put', full), async (req) => ok(await staging.edit((draft) => {
    const { user, index } = located(draft, req.params as P);
    return replace(draft, user, index, req.body as DeviceConfig);
  }), 'Device replaced (staged)'));
  app.patch('/users/:number/devices/:username', nested('patch', partial), async (req) => ok(await staging.edit((draft) => {
    const { user, index } = located(draft, req.params as P);
    return replace(draft, user, index, { ...user.devices[index]!, ...(req.body as Partial<DeviceConfig>) });
  }), 'Device updated (staged)'));
  app.delete('/users/:number/devices/:username', nested('delete'), async (req) => ok(await staging.edit((draft) => {
    const { user, index } = located(draft, req.params as P);
    return user.devices.splice(index, 1)[0];
  }), 'Device deleted (staged)'));

  // By username.
  app.get('/devices', {
    schema: { tags, security, summary: 'List every device with its user_number (staged)', response: responses(envelope({ type: 'array', items: flatOut }), []) },
  }, async () => ok((await staging.read()).users.flatMap((u) => u.devices.map((d) => flat(u, d)))));

  app.post('/devices', {
    schema: {
      tags, security, summary: 'Add a device to the user named by user_number (staged)',
      body: { ...fullInline, required: ['user_number', ...((fullInline.required as string[]) ?? [])], properties: { user_number: { type: 'string', minLength: 1 }, ...(fullInline.properties as object) } },
      response: responses(envelope(flatOut), [400, 404, 409], 201),
    },
  }, async (req, reply) => {
    const { user_number, ...device } = req.body as DeviceConfig & { user_number: string };
    await staging.edit((draft) => {
      const user = userOf(draft, user_number);
      assertFree(draft, device.username);
      user.devices.push(completeSecrets(device, deviceShape()));
    });
    return reply.code(201).send(ok({ user_number, ...device }, 'Device created (staged)', 201));
  });

  const byName = (method: string, body?: JsonSchema) => ({
    schema: {
      tags, security, params: nameParam, ...(body ? { body } : {}),
      summary: `${method} a device by username (staged)`,
      response: responses(envelope(flatOut), body ? [400, 404, 409] : [404]),
    },
  });
  app.get('/devices/:username', byName('Get'), async (req) => {
    const { user, index } = findDevice(await staging.read(), (req.params as P).username!);
    return ok(flat(user, user.devices[index]!));
  });
  app.put('/devices/:username', byName('Replace', full), async (req) => ok(await staging.edit((draft) => {
    const { user, index } = findDevice(draft, (req.params as P).username!);
    return flat(user, replace(draft, user, index, req.body as DeviceConfig));
  }), 'Device replaced (staged)'));
  app.patch('/devices/:username', byName('Update', partial), async (req) => ok(await staging.edit((draft) => {
    const { user, index } = findDevice(draft, (req.params as P).username!);
    return flat(user, replace(draft, user, index, { ...user.devices[index]!, ...(req.body as Partial<DeviceConfig>) }));
  }), 'Device updated (staged)'));
  app.delete('/devices/:username', byName('Delete'), async (req) => ok(await staging.edit((draft) => {
    const { user, index } = findDevice(draft, (req.params as P).username!);
    return flat(user, user.devices.splice(index, 1)[0]!);
  }), 'Device deleted (staged)'));
}
