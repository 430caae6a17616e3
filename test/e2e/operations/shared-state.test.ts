/**
 * State shared between engines (issue 16): one edge (`npm run edge`), three engines (`npm run engine`) on one
 * PostgreSQL database and one Redis (a private redis-server, so the last test can kill it). SIPp registers devices
 * and calls through the edge, which hands each new request to the engines in turn:
 * - a device registered through one engine is reached by calls every engine handles;
 * - the binding's expiry is held in Redis, and an unregister through one engine is seen by all;
 * - an agent in a queue is never offered two calls at once, though callers wait at all three engines;
 * - an apply at engine 1 changes routing at engines 2 and 3;
 * - Redis killed mid-run: every engine logs it once and keeps running, calls to devices they know still connect,
 *   a REGISTER gets 500; after Redis is back they re-sync and registering works again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sippOk } from '../../support/integration-pbx.js';
import { eventually } from '../../support/eventually.js';
import { redisClient } from '../../support/redis.js';
import { startCluster, type Cluster } from '../../support/scale-cluster.js';
import { freePort, killAllSipp, runSipp } from '../../support/sipp.js';

const DOMAIN = 'switchboard.local';
let cluster: Cluster;
/** Where bob-desk's SIPp registered in the apply test (the DID rings bob from then on). */
let bobPort = 0;

beforeAll(async () => {
  cluster = await startCluster({
    name: 'shared', redis: 'private', engines: 3,
    config: {
      pbx: { name: 'Shared state test', domain: DOMAIN },
      users: [
        { name: 'Alice', number: '1001', devices: [{ username: 'alice-desk', password: 'alice-pw-9876' }] },
        { name: 'Bob', number: '1002', devices: [{ username: 'bob-desk', password: 'bob-pw-98765' }] },
        { name: 'Agent', number: '1003', devices: [{ username: 'agent-desk', password: 'agent-pw-9876' }] },
      ],
      numbers: [{ number: '+61390000000', flow: 'to-alice' }, { number: '+61390000001', flow: 'to-sales' }],
      flows: [
        { id: 'to-alice', nodes: [{ id: 'ring', type: 'user', user: '1001', ring_timeout_s: 30 }] },
        { id: 'to-bob', nodes: [{ id: 'ring', type: 'user', user: '1002', ring_timeout_s: 30 }] },
        { id: 'to-sales', nodes: [{ id: 'q', type: 'queue', queue: 'Sales' }] },
      ],
      queues: [{ name: 'Sales', agents: ['1003'], strategy: 'ringall', wrap_up_s: 1, max_wait_s: 120, agent_timeout_s: 20 }],
      media: { driver: 'none' },
    },
  });
}, 300_000);

afterAll(async () => {
  killAllSipp();
  await cluster?.stop();
}, 120_000);

/** Registers `device` from a SIPp on `port` through the edge (challenge and answer may go to different engines). */
async function registerDevice(device: string, password: string, port: number, expires = 600): Promise<void> {
  const run = await runSipp({ scenario: 'engine-register.xml', target: cluster.sipTarget, port, calls: 1, extra: ['-key', 'user', device, '-au', device, '-ap', password, '-key', 'domain', DOMAIN, '-auth_uri', DOMAIN, '-key', 'expires', String(expires)] });
  sippOk(await run.done, `${device} registers`);
}

/** Calls to `did` through the edge, answered by the device SIPp on `devicePort`; resolves once both ran. */
async function callsAnswered(did: string, devicePort: number, calls: number, extra: string[] = ['-r', '5', '-l', '3']): Promise<void> {
  const uas = await runSipp({ scenario: 'engine-uas-device.xml', port: devicePort, calls, timeoutS: 90 });
  const uac = await runSipp({ scenario: 'engine-uac-did.xml', target: cluster.sipTarget, calls, timeoutS: 90, extra: ['-s', did.replace('+', ''), '-d', '200', ...extra] });
  const [a, b] = await Promise.all([uac.done, uas.done]);
  sippOk(a, `${calls} calls to ${did}`);
  sippOk(b, `the device answers ${calls} calls`);
}

/** Calls per engine node ("01".."03") among calls answered by `device`, since `sinceIso`. */
async function answeredByNode(device: string, sinceIso: string, total: number): Promise<Record<string, number>> {
  return eventually(async () => {
    const rows = await cluster.db.query<{ node: string; n: string }>(
      `SELECT right(l.unique_call_id, 2) AS node, count(DISTINCT l.unique_call_id) AS n FROM legs l JOIN calls c USING (unique_call_id)
       WHERE l.device = $1 AND l.answered_at IS NOT NULL AND c.ended_at IS NOT NULL AND c.call_start_at >= $2 GROUP BY 1 ORDER BY 1`, [device, sinceIso]);
    const n = rows.reduce((s, r) => s + Number(r.n), 0);
    return n === total ? Object.fromEntries(rows.map((r) => [r.node, Number(r.n)])) : null;
  }, `${total} answered calls of ${device} stored`, 30_000);
}

describe('three engines sharing Redis and PostgreSQL', () => {
  it('a device registered through one engine is reached by calls handled by every engine', async () => {
    const port = await freePort();
    await registerDevice('alice-desk', 'alice-pw-9876', port);
    // Every engine lists the binding, though only one of them took the REGISTER.
    for (const e of cluster.engines) {
      const status = await eventually(async () => {
        const r = await cluster.api(e, 'get-system-status');
        return (r.body['data'] as { registered_devices: number }).registered_devices === 1 ? r : null;
      }, `engine ${e.node} sees alice-desk`);
      expect(status.status).toBe(200);
    }
    const since = new Date().toISOString();
    await callsAnswered('+61390000000', port, 6);
    expect(await answeredByNode('alice-desk', since, 6)).toEqual({ '01': 2, '02': 2, '03': 2 });
  }, 180_000);

  it('holds the expiry in Redis, and an unregister through one engine is seen by all', async () => {
    const port = await freePort();
    const before = Date.now();
    await registerDevice('bob-desk', 'bob-pw-98765', port, 120);
    const r = await redisClient(cluster.redisUrl);
    try {
      const members = await r.zrange(`${cluster.redisPrefix}reg-expiry`, 0, -1, 'WITHSCORES');
      const i = members.findIndex((m) => m.startsWith('bob-desk\n'));
      expect(i).toBeGreaterThanOrEqual(0);
      const expiresAt = Number(members[i + 1]);
      expect(expiresAt).toBeGreaterThanOrEqual(before + 120_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 120_000);
      expect(await r.pttl(`${cluster.redisPrefix}reg:bob-desk`)).toBeGreaterThan(120_000 - (Date.now() - before));
      // Expires: 0 (SIPp's register scenario with expires 0), through whichever engine the edge picks.
      await registerDevice('bob-desk', 'bob-pw-98765', port, 0);
      expect(await r.exists(`${cluster.redisPrefix}reg:bob-desk`)).toBe(0);
      for (const e of cluster.engines) {
        await eventually(async () => {
          const s = await cluster.api(e, 'get-system-status');
          return (s.body['data'] as { registered_devices: number }).registered_devices === 1; // alice only
        }, `engine ${e.node} dropped bob-desk`);
      }
    } finally {
      r.disconnect();
    }
  }, 120_000);

  it('never offers one queue agent two calls at once, though callers wait at all three engines', async () => {
    const port = await freePort();
    await registerDevice('agent-desk', 'agent-pw-9876', port);
    const since = new Date().toISOString();
    const calls = 6;
    // Six callers at once: two wait at each engine; the agent takes them one after the other.
    await callsAnswered('+61390000001', port, calls, ['-r', '20', '-l', String(calls)]);
    const byNode = await answeredByNode('agent-desk', since, calls);
    expect(Object.keys(byNode)).toEqual(['01', '02', '03']);
    const legs = await cluster.db.query<{ started_at: string; ended_at: string; unique_call_id: string }>(
      `SELECT l.started_at, l.ended_at, l.unique_call_id FROM legs l JOIN calls c USING (unique_call_id)
       WHERE l.device = 'agent-desk' AND c.call_start_at >= $1 ORDER BY l.started_at`, [since]);
    // Only answered offers: one leg per call, and none begins before the previous one ended.
    expect(legs).toHaveLength(calls);
    for (let i = 1; i < legs.length; i++) {
      expect(legs[i]!.started_at >= legs[i - 1]!.ended_at, `${legs[i]!.unique_call_id} rang while ${legs[i - 1]!.unique_call_id} held the agent`).toBe(true);
    }
  }, 180_000);

  it('an apply at engine 1 changes routing at engines 2 and 3', async () => {
    const [one, two, three] = cluster.engines as [typeof cluster.engines[0], typeof cluster.engines[0], typeof cluster.engines[0]];
    const port = (bobPort = await freePort());
    await registerDevice('bob-desk', 'bob-pw-98765', port);
    const live = ((await cluster.admin(two, 'GET', '/config/live')).body['data'] as { version: number }).version;
    expect((await cluster.admin(one, 'PATCH', '/numbers/+61390000000', { flow: 'to-bob' })).status).toBe(200);
    const applied = await cluster.admin(one, 'POST', '/apply');
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    const version = (applied.body['data'] as { version: number }).version;
    expect(version).toBe(live + 1);
    for (const e of [two, three]) {
      await eventually(async () => ((await cluster.admin(e, 'GET', '/config/live')).body['data'] as { version: number }).version === version, `engine ${e.node} runs version ${version}`);
      expect(e.proc.lines.some((l) => l['msg'] === 'configuration applied at another engine' && l['config_version'] === version)).toBe(true);
    }
    const since = new Date().toISOString();
    await callsAnswered('+61390000000', port, 3, ['-r', '5', '-l', '3']);
    expect(await answeredByNode('bob-desk', since, 3)).toEqual({ '01': 1, '02': 1, '03': 1 });
  }, 180_000);

  it('Redis down mid-run: engines log it and keep running, known devices are still called; after Redis is back they re-sync', async () => {
    const server = cluster.redisServer!;
    await server.kill();
    for (const e of cluster.engines) await e.proc.waitForLog('redis unreachable', 30_000);
    // Calls go on from each engine's cached bindings (the DID rings bob-desk since the apply), at every engine.
    const since = new Date().toISOString();
    await callsAnswered('+61390000000', bobPort, 3, ['-r', '5', '-l', '3']);
    expect(await answeredByNode('bob-desk', since, 3)).toEqual({ '01': 1, '02': 1, '03': 1 });
    // A REGISTER cannot be stored: 500 at once (no hanging on a queue of commands).
    const newPort = await freePort();
    const refused = await runSipp({ scenario: 'engine-register.xml', target: cluster.sipTarget, port: newPort, calls: 1, extra: ['-key', 'user', 'alice-desk', '-au', 'alice-desk', '-ap', 'alice-pw-9876', '-key', 'domain', DOMAIN, '-auth_uri', DOMAIN, '-key', 'expires', '600'] });
    expect((await refused.done).code).not.toBe(0);
    await eventually(() => cluster.engines.some((e) => e.proc.lines.some((l) => l['msg'] === 'REGISTER processing failed')), 'an engine answered 500');
    for (const e of cluster.engines) expect(e.proc.child.exitCode).toBeNull();
    await server.restart(); // empty: it kept nothing, as this machine's Redis keeps nothing on disk
    for (const e of cluster.engines) await e.proc.waitForLog('redis reachable again', 30_000);
    // The restarted Redis lost every binding: the engines re-read it, and phones re-register as they do anyway.
    for (const e of cluster.engines) {
      await eventually(async () => ((await cluster.api(e, 'get-system-status')).body['data'] as { registered_devices: number }).registered_devices === 0, `engine ${e.node} re-synced`, 15_000);
    }
    await registerDevice('alice-desk', 'alice-pw-9876', newPort);
    for (const e of cluster.engines) {
      await eventually(async () => ((await cluster.api(e, 'get-system-status')).body['data'] as { registered_devices: number }).registered_devices === 1, `engine ${e.node} sees alice-desk again`, 15_000);
    }
    for (const e of cluster.engines) expect(e.proc.child.exitCode).toBeNull();
  }, 180_000);
});
