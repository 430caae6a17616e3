/**
 * kill -9 of one engine under load (issue 16): three engines (`npm run engine`, node ids 1–3) behind one drachtio-lite
 * edge (`npm run edge`), on one PostgreSQL store and one Redis. SIPp callers dial a DID at a steady rate; the flow
 * rings a SIPp device, registered once before the load through engine 1 (then the only engine); every call holds up to
 * 60 s. While calls are connected on all three engines, engine 1 is killed with SIGKILL and started again at once.
 * Checked:
 *   - routing relies on Redis: the engine that took the REGISTER is dead, the device never registers again, and the
 *     calls engines 2 and 3 take meanwhile still reach it;
 *   - the other engines' calls are unaffected: every call whose record ends in 02 or 03 succeeded at its caller and
 *     was hung up by the caller (no failed call among them); a failed call is engine 1's or never reached a store;
 *   - engine 1's calls still up at the kill are closed when it restarts: the record ends with hangup_cause
 *     engine-restart and the caller gets the BYE;
 *   - no webhook is lost: a real HTTP receiver counts the events of every call — user_inbound and
 *     user_inbound_completed for each, user_inbound_answered for each that connected — at least once each.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { eventually, sippOk } from '../../support/integration-pbx.js';
import { startHookReceiver, type HookReceiver } from '../../support/integration-receiver.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-db.js';
import { freePort, killAllSipp, runSipp, type SippRun } from '../../support/sipp.js';
import { killAllSbProcesses, startSbProcess, type SbProcess } from '../../support/sb-process.js';

const SECRET = 'crash-edge-secret-0123456789';
const CALLS = 60;
const RATE = 3;
const dir = mkdtempSync(join(tmpdir(), 'sb-crash-'));
const configFile = join(dir, 'config.yaml');
let db: TestDatabase;
let hooks: HookReceiver;
let redis: ChildProcess | undefined;

/** Our own Redis on a free port of 127.0.0.1, nothing saved to disk; killed by PID in afterAll. */
async function startRedis(): Promise<string> {
  const port = await freePort();
  redis = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((res, rej) => {
    redis!.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('Ready to accept connections')) res(); });
    redis!.once('error', (e) => rej(new Error(`redis-server could not start (${e.message}): apt-get install redis-server`)));
    redis!.once('exit', (c) => rej(new Error(`redis-server exited (${c}): ${out.slice(-2000)}`)));
  });
  return `redis://127.0.0.1:${port}`;
}

beforeAll(async () => {
  db = await createTestDatabase('sb_crash');
  hooks = await startHookReceiver();
  writeFileSync(configFile, stringify({
    pbx: { name: 'Crash test', domain: 'switchboard.local' },
    // An INVITE handed to the engine that died is answered 408 by the edge soon, not after 3 minutes.
    sip: { invite_reaper_s: 10 },
    users: [{ name: 'Alice', number: '1001', devices: [{ username: 'alice-desk', password: 'alice-pw-9876' }] }],
    numbers: [{ number: '+61390000000', flow: 'to-alice' }],
    flows: [{ id: 'to-alice', nodes: [{ id: 'ring', type: 'user', user: '1001', ring_timeout_s: 30 }] }],
    webhook: { url: hooks.url('/hook'), secret_token: 'crash-token', events: ['user_inbound', 'user_inbound_answered', 'user_inbound_completed'], enabled: true },
    delivery: { refuse_private_targets: false },
    api: { api_key: 'crash-api-key', admin_key: 'crash-admin-key-0123456789' },
    media: { driver: 'none' },
  }));
});

afterAll(async () => {
  killAllSipp();
  await killAllSbProcesses();
  if (redis?.pid && redis.exitCode === null) process.kill(redis.pid, 'SIGKILL');
  await hooks?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

/** `k` distinct free ports. */
async function ports(k: number): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < k) out.add(await freePort());
  return [...out];
}

interface CallRow { unique_call_id: string; caller_id: string; connected_at: string | null; ended_at: string | null; hangup_cause: string | null }
const node = (r: CallRow) => r.unique_call_id.slice(-2);
/** The SIPp call number of a record: the caller dials from 61400000<call_number>. */
const callNumber = (r: CallRow) => Number(r.caller_id.replace(/^\+?61400000/, ''));

describe('kill -9 of one engine under load', () => {
  it('calls on the other engines are unaffected, the killed engine closes its calls on restart, no webhook is lost', async () => {
    const redisUrl = await startRedis();
    const [sipPort, controlPort, devicePort, ...httpPorts] = await ports(6);
    const edge = startSbProcess('src/edge.ts', { SWITCHBOARD_CONFIG: configFile, SWITCHBOARD_SIP_PORT: String(sipPort), DRACHTIO_PORT: String(controlPort), DRACHTIO_SECRET: SECRET });
    await edge.waitForLog('ready: edge');
    const envOf = (n: number): Record<string, string> => ({
      SWITCHBOARD_CONFIG: configFile, DATABASE_URL: db.url, SWITCHBOARD_REDIS_URL: redisUrl, SWITCHBOARD_NODE_ID: String(n),
      SWITCHBOARD_NONCE_SECRET: 'crash-nonce-secret-0123456', SWITCHBOARD_DATA_DIR: join(dir, `node-${n}`), SWITCHBOARD_HTTP_PORT: String(httpPorts[n - 1]),
      DRACHTIO_HOST: '127.0.0.1', DRACHTIO_PORT: String(controlPort), DRACHTIO_SECRET: SECRET,
    });
    const start = async (n: number): Promise<SbProcess> => {
      const p = startSbProcess('src/main.ts', envOf(n), ['--engine']);
      await p.waitForLog('ready:');
      return p;
    };
    const engines: SbProcess[] = [await start(1)];
    // The device registers while engine 1 is the only one (so it takes the REGISTER); engines 2 and 3 read the
    // binding from Redis when they start. It never registers again: after engine 1 dies, Redis is how 2 and 3 find it.
    const reg = await runSipp({
      scenario: 'engine-register.xml', target: `127.0.0.1:${sipPort}`, port: devicePort, calls: 1, timeoutS: 30,
      extra: ['-key', 'user', 'alice-desk', '-key', 'domain', 'switchboard.local', '-key', 'expires', '3600', '-au', 'alice-desk', '-ap', 'alice-pw-9876', '-auth_uri', 'switchboard.local'],
    });
    sippOk(await reg.done, 'alice-desk registers');
    engines.push(await start(2), await start(3));

    const device: SippRun = await runSipp({ scenario: 'engine-uas-device.xml', port: devicePort, timeoutS: 400, extra: ['-m', String(CALLS * 2)] });
    const callers = await runSipp({
      scenario: 'ops-uac-hold.xml', target: `127.0.0.1:${sipPort}`, calls: CALLS, timeoutS: 300,
      extra: ['-s', '61390000000', '-r', String(RATE), '-l', String(CALLS), '-trace_logs'],
    });

    const openOf = async (n: string) => db.query<CallRow>("SELECT * FROM calls WHERE right(unique_call_id, 2) = $1 AND ended_at IS NULL ORDER BY unique_call_id", [n]);
    // Mid-load: every engine has calls connected, and more are still being placed.
    await eventually(async () => {
      const rows = await db.query<{ node: string; n: string }>("SELECT right(unique_call_id, 2) AS node, count(*) AS n FROM calls WHERE connected_at IS NOT NULL AND ended_at IS NULL GROUP BY 1");
      const by = Object.fromEntries(rows.map((r) => [r.node, Number(r.n)]));
      return ['01', '02', '03'].every((k) => (by[k] ?? 0) >= 3) ? by : null;
    }, 'three connected calls on every engine', 60_000);
    const killedAt = new Date().toISOString();
    engines[0]!.child.kill('SIGKILL');
    expect(await engines[0]!.exited).toBe('SIGKILL');
    const orphaned = await openOf('01');
    expect(orphaned.filter((r) => r.connected_at !== null).length).toBeGreaterThanOrEqual(3);
    // With the registering engine gone, engines 2 and 3 keep connecting new calls to the device (its binding in Redis).
    await eventually(async () => {
      const rows = await db.query<{ n: string }>("SELECT count(*) AS n FROM calls WHERE right(unique_call_id, 2) IN ('02', '03') AND call_start_at > $1 AND connected_at IS NOT NULL", [killedAt]);
      return Number(rows[0]!.n) >= 3;
    }, 'calls placed after the kill connected through engines 2 and 3', 30_000);
    engines[0] = await start(1);

    const run = await callers.done;
    const logged = new Map<number, string>();
    for (const f of readdirSync(callers.dir).filter((x) => x.endsWith('_logs.log'))) {
      for (const m of readFileSync(join(callers.dir, f), 'utf8').matchAll(/(local|remote)-bye (\d+)/g)) logged.set(Number(m[2]), m[1]!);
    }
    const calls = await eventually(async () => {
      const rows = await db.query<CallRow>('SELECT * FROM calls ORDER BY unique_call_id');
      return rows.length > 0 && rows.every((r) => r.ended_at !== null) ? rows : null;
    }, 'every call record ended', 60_000);
    const summary = `callers: ${run.stdout.slice(-1500)}\nerrors: ${run.errors.slice(-1500)}`;

    // The other engines: every call succeeded and was ended by its caller.
    const survivors = calls.filter((r) => node(r) !== '01');
    expect(new Set(survivors.map(node))).toEqual(new Set(['02', '03']));
    for (const r of survivors) {
      expect(logged.get(callNumber(r)), `call ${callNumber(r)} (${r.unique_call_id}) on node ${node(r)}\n${summary}`).toBe('local');
      expect(r.connected_at, r.unique_call_id).not.toBeNull();
      expect(r.hangup_cause, r.unique_call_id).not.toBe('engine-restart');
    }
    // A failed call belongs to the killed engine (or its INVITE never reached a store: handed to engine 2 as it died).
    const byNumber = new Map(calls.map((r) => [callNumber(r), r]));
    const unstored: number[] = [];
    for (let n = 1; n <= CALLS; n++) {
      if (logged.has(n)) continue;
      const r = byNumber.get(n);
      if (r === undefined) unstored.push(n);
      else expect(node(r), `failed call ${n}: ${r.unique_call_id}\n${summary}`).toBe('01');
    }
    // The edge hands nothing to a closed connection: only an INVITE in flight to engine 1 as it died goes unstored.
    expect(unstored.length, `failed calls without a record: ${unstored.join(', ')}\n${summary}`).toBeLessThanOrEqual(2);
    // Engine 1's calls up at the kill: closed by the restarted engine, the caller got its BYE.
    for (const o of orphaned) {
      const r = calls.find((c) => c.unique_call_id === o.unique_call_id)!;
      expect(r.hangup_cause, r.unique_call_id).toBe('engine-restart');
      if (o.connected_at !== null) expect(logged.get(callNumber(r)), `caller of ${r.unique_call_id}`).toBe('remote');
    }

    // No webhook lost: each call's started, answered (when it connected) and completed reached the receiver.
    const want = calls.flatMap((r) => [
      `${r.unique_call_id} user_inbound`, `${r.unique_call_id} user_inbound_completed`,
      ...(r.connected_at !== null ? [`${r.unique_call_id} user_inbound_answered`] : []),
    ]);
    const seen = () => new Set(hooks.hooks.map((h) => `${String(h.body.unique_call_id)} ${String(h.body.type)}`));
    let missing = want;
    for (const deadline = Date.now() + 90_000; missing.length > 0 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 250));
      const got = seen();
      missing = want.filter((w) => !got.has(w));
    }
    expect(missing).toEqual([]);
    device.kill();
  }, 400_000);
});
