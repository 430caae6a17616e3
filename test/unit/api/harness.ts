/**
 * Test harness for the API: the real SQLite store (in memory), real configuration versions over it, and a small
 * fake EngineFacade (the engine is another module; the facade is an interface, so a test double is allowed).
 */
import { ManualClock } from '../../../src/common/clock.js';
import { createLogger } from '../../../src/common/log.js';
import { createConfigVersions, validateConfig, type ConfigVersions, type PbxConfig } from '../../../src/config/index.js';
import { OriginateError, type EngineFacade, type OriginateRequest, type OriginateResult, type SystemStatus } from '../../../src/engine/facade.js';
import { createSqliteStore, type Store } from '../../../src/store/index.js';
import { createDispatcher, createWebhookAdmin, type Dispatcher } from '../../../src/events/index.js';
import { buildApp, type ApiDeps } from '../../../src/api/index.js';
import type { FastifyInstance } from 'fastify';

export const API_KEY = 'test-api-key';
/** The bootstrap admin key of {@link testConfig} (`Authorization: Bearer`, /api/admin/* only). */
export const ADMIN_KEY = 'test-admin-key-0123456789';

/** A minimal valid configuration: two users, a queue, a ring group, a trunk; Melbourne time. */
export function testConfig(over: (c: Record<string, any>) => void = () => {}): PbxConfig {
  const raw: Record<string, any> = {
    pbx: { name: 'Test PBX', time_zone: 'Australia/Melbourne', domain: 'test.local' },
    users: [
      { name: 'Alice Smith', number: '1001', devices: [{ username: 'alice-desk', password: 'pw1' }] },
      { name: 'Bob Jones', number: '1002', devices: [{ username: 'bob-desk', password: 'pw2' }] },
    ],
    numbers: [{ number: '+61390000000', flow: 'main' }],
    flows: [{ id: 'main', nodes: [{ id: 'ring', type: 'user', user: '1001' }] }],
    queues: [{ name: 'Support', agents: ['1001', '1002'] }],
    ring_groups: [{ name: 'Sales', members: ['1001', '1002'] }],
    trunks: [{ name: 'main', host: '127.0.0.1', port: 5090 }],
    api: { api_key: API_KEY, admin_key: ADMIN_KEY, whitelisted_ips: ['127.0.0.1/8', '::1'], rate_limit_per_min: 100000, auth_failures_per_min: 100000 },
  };
  over(raw);
  const r = validateConfig(raw, 'test');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

/** What the fake engine was asked, and what it answers. */
export interface FakeEngine extends EngineFacade {
  originated: OriginateRequest[];
  originateImpl: (req: OriginateRequest) => Promise<OriginateResult>;
  statusImpl: () => Promise<SystemStatus>;
}

function fakeEngine(config: ConfigVersions): FakeEngine {
  const engine: FakeEngine = {
    originated: [],
    config,
    originateImpl: async (req) => {
      const user = config.live().config.users.find((u) => u.number === req.user_number);
      if (!user) throw new OriginateError('user_not_found', `User ${req.user_number} not found`);
      if (user.number === '1002') throw new OriginateError('no_registered_device', `User ${req.user_number} has no registered device`);
      return { unique_call_id: '17001234567890001', user_name: user.name, user_number: user.number, caller_id: req.caller_id ?? '+61390000000', dest_number: req.number_to_call };
    },
    statusImpl: async () => ({ version: '0.1.0', uptime_s: 42.7, registered_devices: 3, active_calls: 1, config_version: config.live().version }),
    originate(req) {
      engine.originated.push(req);
      return engine.originateImpl(req);
    },
    status() {
      return engine.statusImpl();
    },
  };
  return engine;
}

export interface Harness {
  app: FastifyInstance;
  store: Store;
  engine: FakeEngine;
  versions: ConfigVersions;
  clock: ManualClock;
  deps: ApiDeps;
  /** The real dispatcher, never started (nothing is sent); the admin functions run over it. */
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

/** Builds the app over a fresh in-memory store seeded with `config`. */
export async function makeHarness(config: PbxConfig = testConfig(), extra: Partial<ApiDeps> = {}): Promise<Harness> {
  const store = await createSqliteStore({ file: ':memory:' });
  const clock = new ManualClock(Date.parse('2026-11-28T00:00:00.000Z'));
  const log = createLogger({ level: 'silent', pretty: false });
  const versions = await createConfigVersions({ store, initial: config, clock, log });
  const engine = fakeEngine(versions);
  const getConfig = () => versions.live().config;
  const dispatcher = createDispatcher({ store, getConfig, clock, log, version: '0.1.0-test' });
  const webhooksAdmin = createWebhookAdmin({ store, dispatcher, getConfig, clock });
  const deps: ApiDeps = { engine, store, getConfig, webhooksAdmin, log, clock, version: '0.1.0-test', startedAt: clock.now(), ...extra };
  const app = buildApp(deps);
  await app.ready();
  return {
    app, store, engine, versions, clock, deps, dispatcher,
    async close() {
      await app.close();
      await dispatcher.stop();
      await store.close();
    },
  };
}

/** Headers of an authenticated request. */
export const auth = { token: API_KEY };
/** Headers of an admin request. */
export const adminAuth = { authorization: `Bearer ${ADMIN_KEY}` };
