/**
 * The outbox dispatched by every engine (issue 16): two dispatchers, each with its own PostgreSQL pool, on one
 * schema, sending to one real HTTP receiver on 127.0.0.1. Every event fans out once (ON CONFLICT) and every
 * delivery is claimed by one of them (FOR UPDATE SKIP LOCKED plus a lease): the receiver sees each webhook-id once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/common/index.js';
import type { PbxConfig } from '../../../src/config/types.js';
import { createDispatcher } from '../../../src/events/dispatcher.js';
import { createPostgresStore, type Store } from '../../../src/store/index.js';
import { eventually } from '../../support/eventually.js';
import { callEvent, captureLog, testConfig } from './fixtures.js';

const PG_URL = process.env['SWITCHBOARD_TEST_PG_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/test';
const schema = `two_disp_${process.pid}_${Date.now().toString(36)}`;
let admin: pg.Client;
let server: Server;
const seen: string[] = [];

beforeAll(async () => {
  admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(String(req.headers['webhook-id']));
      // A little latency, so both dispatchers have deliveries in flight at once.
      setTimeout(() => res.writeHead(200).end(), 5);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

describe('two dispatchers on one PostgreSQL database', () => {
  it('send every delivery exactly once between them', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const config: PbxConfig = testConfig({ webhook: { url }, delivery: { concurrency: 8, per_endpoint_concurrency: 8 } });
    const stores: Store[] = [];
    for (let i = 0; i < 2; i++) stores.push(await createPostgresStore({ connectionString: PG_URL, schema, maxConnections: 4 }));
    const events = 300;
    // Committed by "engine A" in batches, while both dispatchers run (as engines commit during calls).
    const dispatchers = stores.map((store) => createDispatcher({ store, getConfig: () => config, clock: systemClock, log: captureLog('warn').log, version: 'test', pollIntervalMs: 20, jitter: 0 }));
    for (const d of dispatchers) d.start();
    try {
      for (let c = 0; c < events / 3; c++) {
        await stores[0]!.commit({ events: [1, 2, 3].map((s) => callEvent(`call-${c}`, s)) });
        if (c % 10 === 0) for (const d of dispatchers) d.wake();
      }
      for (const d of dispatchers) d.wake();
      await eventually(async () => (await stores[1]!.countPendingDeliveries()) === 0 && (await stores[1]!.countUndispatchedEvents()) === 0 && seen.length >= events, 'every delivery sent', 60_000, 50);
      // Give a double send the chance to show up.
      await new Promise((r) => setTimeout(r, 300));
      expect(seen).toHaveLength(events);
      expect(new Set(seen).size).toBe(events);
      const rows = await admin.query(`SELECT status, count(*)::int AS n, sum(attempts)::int AS attempts FROM ${schema}.deliveries GROUP BY status`);
      expect(rows.rows).toEqual([{ status: 'succeeded', n: events, attempts: events }]);
      // Both took part (each sent some).
      const sent = dispatchers.map((d) => d.stats().sent);
      expect(sent.every((n) => n > 0), `sent per dispatcher: ${sent.join(', ')}`).toBe(true);
    } finally {
      for (const d of dispatchers) await d.stop();
      for (const s of stores) await s.close();
    }
  }, 90_000);
});
