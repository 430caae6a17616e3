/**
 * The engine composed in-process for e2e tests: drachtio-lite on free ports, a real drachtio-srf connected to
 * it, a temp SQLite store, configuration versions seeded from config/default.yaml (or a mutated copy), and the
 * engine. Test phones register to `sip` like real devices.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Srf from 'drachtio-srf';
import { pino, type Logger } from 'pino';
import { systemClock } from '../../src/common/clock.js';
import { createConfigVersions, loadConfigFile, type ConfigVersions, type PbxConfig } from '../../src/config/index.js';
import { createDrachtioLite, type DrachtioLite } from '../../src/drachtio-lite/index.js';
import { createEngine, type Engine, type EngineOptions } from '../../src/engine/index.js';
import { TestPhone, type IncomingPolicy } from '../../src/sip/phone/index.js';
import type { Endpoint } from '../../src/sip/index.js';
import { createSqliteStore } from '../../src/store/index.js';
import type { OutboxEvent, Store } from '../../src/store/store.js';

const SECRET = 'engine-harness';
export const DEFAULT_CONFIG = resolve(import.meta.dirname, '../../config/default.yaml');

/** A quiet logger, or a debug one when ENGINE_DEBUG is set. */
export function harnessLogger(): Logger {
  // eslint-disable-next-line no-restricted-properties -- test-only switch for debugging output
  const level = process.env['ENGINE_DEBUG'] ? 'debug' : 'silent';
  return pino({ level });
}

/** The demo configuration, deep-copied, for tests to change. */
export function demoConfig(): PbxConfig {
  return structuredClone(loadConfigFile(DEFAULT_CONFIG, { apiKeyOverride: null }));
}

/** Options of {@link startEngineHarness}. */
export interface EngineHarnessOptions {
  config?: PbxConfig;
  /** Reuse a database (restart tests); default a new temp file. */
  dbFile?: string;
  t1?: number;
  /** SQLite `synchronous` of the store (bench/cps-inbound.ts compares them); default the store's. */
  sqliteSynchronous?: 'normal' | 'full';
  engine?: Partial<Omit<EngineOptions, 'srf' | 'store' | 'config' | 'clock' | 'log' | 'version'>>;
}

/** A running engine with its parts. */
export interface EngineHarness {
  lite: DrachtioLite;
  srf: Srf;
  store: Store;
  engine: Engine;
  config: ConfigVersions;
  dbFile: string;
  /** The PBX's UDP SIP endpoint. */
  sip: Endpoint;
  sipTcp: Endpoint;
  domain: string;
  log: Logger;
  /** Number of times `onCommitted` was called. */
  commits(): number;
  /** A test phone for a device (not registered yet). */
  phone(username: string, password?: string, opts?: { transport?: 'udp' | 'tcp'; onIncoming?: IncomingPolicy }): Promise<TestPhone>;
  /** Every outbox event of a call, in sequence order. */
  events(uniqueCallId: string): Promise<OutboxEvent[]>;
  /** Every outbox event so far. */
  allEvents(): Promise<OutboxEvent[]>;
  /** Stops the engine, srf and drachtio-lite; keeps the database unless `removeDb`. */
  close(opts?: { removeDb?: boolean }): Promise<void>;
}

/** Starts the parts and resolves when srf is connected and its routes are installed. */
export async function startEngineHarness(opts: EngineHarnessOptions = {}): Promise<EngineHarness> {
  const log = harnessLogger();
  const t1 = opts.t1 ?? 100;
  const dir = opts.dbFile ? null : mkdtempSync(join(tmpdir(), 'sb-engine-'));
  const dbFile = opts.dbFile ?? join(dir!, 'switchboard.db');
  const store = await createSqliteStore({ file: dbFile, log, ...(opts.sqliteSynchronous ? { synchronous: opts.sqliteSynchronous } : {}) });
  const config = await createConfigVersions({ store, initial: opts.config ?? demoConfig(), log });
  const lite = await createDrachtioLite({
    sip: { listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }, { transport: 'tcp', address: '127.0.0.1', port: 0 }], timers: { t1, t2: 4 * t1, t4: 5 * t1 } },
    control: { address: '127.0.0.1', port: 0 },
    secret: SECRET,
    log,
  });
  const srf = new Srf();
  let commits = 0;
  const engine = createEngine({
    srf, store, config, clock: systemClock, log, version: 'test',
    onCommitted: () => void commits++, ...opts.engine,
  });
  await engine.start();
  await new Promise<void>((res, rej) => {
    srf.on('connect', (err: Error | null) => (err ? rej(err) : res()));
    srf.on('error', (err: Error) => rej(err));
    srf.connect({ host: '127.0.0.1', port: lite.controlPort, secret: SECRET, reconnect: { maxAttempts: 1 } } as never);
  });
  for (const verb of ['invite', 'register', 'options']) {
    for (let i = 0; i < 200 && lite.server.routedBy(verb) < 1; i++) await new Promise((r) => setTimeout(r, 5));
  }
  const sip = lite.sipEndpoints.find((e) => e.transport === 'udp')!;
  const sipTcp = lite.sipEndpoints.find((e) => e.transport === 'tcp')!;
  const domain = config.live().config.pbx.domain;
  const phones: TestPhone[] = [];
  return {
    lite, srf, store, engine, config, dbFile, sip, sipTcp, domain, log,
    commits: () => commits,
    async phone(username, password, o = {}) {
      const transport = o.transport ?? 'udp';
      const p = await TestPhone.create({
        transport, username, ...(password !== undefined ? { password } : {}), domain,
        registrar: transport === 'udp' ? sip : sipTcp, timers: { t1, t2: 4 * t1, t4: 5 * t1 }, log,
        ...(o.onIncoming ? { onIncoming: o.onIncoming } : {}),
      });
      phones.push(p);
      return p;
    },
    async events(uniqueCallId) {
      return (await store.listUndispatchedEvents(100_000)).filter((e) => e.unique_call_id === uniqueCallId).sort((a, b) => a.sequence - b.sequence);
    },
    async allEvents() {
      return store.listUndispatchedEvents(100_000);
    },
    async close(c = {}) {
      await engine.stop();
      for (const p of phones) await p.close().catch(() => undefined);
      try {
        srf.disconnect();
      } catch { /* gone */ }
      await lite.close();
      await store.close();
      if (c.removeDb && dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { eventually } from './eventually.js';
