/**
 * Engine identity on a shared PostgreSQL store (issue 16). Engines are src/main.ts child processes on one database,
 * each with its own SWITCHBOARD_NODE_ID: every unique_call_id ends in its engine's node id; with one
 * SWITCHBOARD_NONCE_SECRET a digest challenge issued by one engine verifies at another (and not at an engine with
 * another secret); an engine starting with a node id a live engine uses is refused; after kill -9 of two engines
 * mid-call, each one restarted closes only its own call (hangup_cause engine-restart, BYE to the caller).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { TestPhone } from '../../../src/sip/phone/index.js';
import { eventually, sippOk } from '../../support/integration-pbx.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-db.js';
import { registerAcross } from '../../support/raw-register.js';
import { freePort, killAllSipp, runSipp } from '../../support/sipp.js';
import { killAllSbProcesses, startSbProcess, type SbProcess } from '../../support/sb-process.js';

const TIMERS = { t1: 100, t2: 400, t4: 500 };
const SECRET = 'shared-nonce-secret-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'sb-identity-'));
const configFile = join(dir, 'config.yaml');
const phones: TestPhone[] = [];
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('sb_identity');
  writeFileSync(configFile, stringify({
    pbx: { name: 'Identity test', domain: 'switchboard.local' },
    users: [
      { name: 'Alice', number: '1001', devices: [{ username: 'alice-desk', password: 'alice-pw-9876' }] },
      { name: 'Bob', number: '1002', devices: [{ username: 'bob-desk', password: 'bob-pw-9876' }] },
    ],
    numbers: [{ number: '+61390000000', flow: 'to-alice' }, { number: '+61390000001', flow: 'to-bob' }],
    flows: [
      { id: 'to-alice', nodes: [{ id: 'ring', type: 'user', user: '1001', ring_timeout_s: 30 }] },
      { id: 'to-bob', nodes: [{ id: 'ring', type: 'user', user: '1002', ring_timeout_s: 30 }] },
    ],
    api: { api_key: 'identity-api-key', admin_key: 'identity-admin-key-0123456789' },
    media: { driver: 'none' },
  }));
});

afterAll(async () => {
  await killAllSbProcesses();
  killAllSipp();
  await Promise.all(phones.map((p) => p.close()));
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

interface Engine { proc: SbProcess; sipPort: number; env: Record<string, string> }

async function engineEnv(nodeId: number, secret = SECRET): Promise<Record<string, string>> {
  return {
    SWITCHBOARD_CONFIG: configFile, DATABASE_URL: db.url, SWITCHBOARD_NODE_ID: String(nodeId), SWITCHBOARD_NONCE_SECRET: secret,
    SWITCHBOARD_DATA_DIR: join(dir, `node-${nodeId}`), SWITCHBOARD_SIP_PORT: String(await freePort()), SWITCHBOARD_HTTP_PORT: String(await freePort()),
  };
}

async function start(env: Record<string, string>): Promise<Engine> {
  const proc = startSbProcess('src/main.ts', env);
  const ready = await proc.waitForLog('ready:');
  expect(ready.node_id).toBe(Number(env.SWITCHBOARD_NODE_ID));
  return { proc, sipPort: Number(env.SWITCHBOARD_SIP_PORT), env };
}

async function phone(e: Engine, username: string): Promise<TestPhone> {
  const p = await TestPhone.create({
    transport: 'udp', username, password: username.replace('-desk', '-pw-9876'), domain: 'switchboard.local', timers: TIMERS,
    registrar: { transport: 'udp', address: '127.0.0.1', port: e.sipPort }, onIncoming: (c) => c.answer({ afterMs: 50 }),
  });
  phones.push(p);
  expect((await p.register({ expires: 600 })).ok).toBe(true);
  return p;
}

const openCalls = async () => db.query<{ unique_call_id: string }>('SELECT unique_call_id FROM calls WHERE ended_at IS NULL ORDER BY unique_call_id');

describe('engine identity on a shared store', () => {
  let one: Engine;
  let two: Engine;

  it('distinct node ids end every unique_call_id; a challenge from one engine verifies at the other with the shared nonce secret, not at one with another secret', async () => {
    one = await start(await engineEnv(1));
    two = await start(await engineEnv(2));
    for (const [e, did] of [[one, '61390000000'], [two, '61390000001']] as const) {
      const r = await runSipp({ scenario: 'int-uac-unanswered.xml', target: `127.0.0.1:${e.sipPort}`, calls: 1, timeoutS: 30, extra: ['-s', did] });
      sippOk(await r.done, `unanswered call through node ${e.env.SWITCHBOARD_NODE_ID}`);
    }
    const ids = await eventually(async () => {
      const rows = await db.query<{ unique_call_id: string; dest_number: string }>('SELECT unique_call_id, dest_number FROM calls WHERE ended_at IS NOT NULL ORDER BY dest_number');
      return rows.length === 2 ? rows : null;
    }, 'both calls stored', 20_000);
    expect(ids[0]!.unique_call_id).toMatch(/^\d{17}01$/);
    expect(ids[1]!.unique_call_id).toMatch(/^\d{17}02$/);

    const across = await registerAcross(one.sipPort, two.sipPort, { username: 'alice-desk', password: 'alice-pw-9876', domain: 'switchboard.local' });
    expect(across.challenge.status).toBe(401);
    expect(across.answer.status).toBe(200);

    const other = await start(await engineEnv(3, 'another-nonce-secret-987654'));
    const refused = await registerAcross(one.sipPort, other.sipPort, { username: 'alice-desk', password: 'alice-pw-9876', domain: 'switchboard.local' });
    expect(refused.challenge.status).toBe(401);
    expect(refused.answer.status).toBe(401);
    other.proc.child.kill('SIGTERM');
    expect(await other.proc.exited).toBe(0);
  }, 180_000);

  it('an engine starting with a node id a live engine uses is refused with an error naming it', async () => {
    const dup = startSbProcess('src/main.ts', await engineEnv(1));
    expect(await dup.exited).toBe(1);
    expect(dup.stderr()).toContain('node id 1 is in use by another engine');
    // The engine that holds node 1 is unaffected.
    expect((await registerAcross(one.sipPort, one.sipPort, { username: 'bob-desk', password: 'bob-pw-9876', domain: 'switchboard.local' })).answer.status).toBe(200);
  }, 120_000);

  it('after kill -9 of both engines mid-call, each restarted engine closes only its own call', async () => {
    await phone(one, 'alice-desk');
    await phone(two, 'bob-desk');
    const a = await runSipp({ scenario: 'uac-invite-remote-bye.xml', target: `127.0.0.1:${one.sipPort}`, calls: 1, timeoutS: 150, extra: ['-s', '61390000000'] });
    const b = await runSipp({ scenario: 'uac-invite-remote-bye.xml', target: `127.0.0.1:${two.sipPort}`, calls: 1, timeoutS: 150, extra: ['-s', '61390000001'] });
    const open = await eventually(async () => {
      const rows = await db.query<{ unique_call_id: string; connected_at: string | null }>('SELECT unique_call_id, connected_at FROM calls WHERE ended_at IS NULL ORDER BY unique_call_id');
      return rows.length === 2 && rows.every((r) => r.connected_at !== null) ? rows.map((r) => r.unique_call_id) : null;
    }, 'two connected calls stored', 30_000);
    const [ofOne, ofTwo] = [open.find((id) => id.endsWith('01'))!, open.find((id) => id.endsWith('02'))!];
    expect(ofOne && ofTwo).toBeTruthy();
    // A heartbeat after the answers, then both crash.
    await new Promise((r) => setTimeout(r, 5500));
    for (const e of [one, two]) e.proc.child.kill('SIGKILL');
    await Promise.all([one.proc.exited, two.proc.exited]);

    one = await start(one.env);
    sippOk(await a.done, 'caller of node 1 gets the BYE of the restarted node 1');
    expect((await openCalls()).map((r) => r.unique_call_id)).toEqual([ofTwo]);
    const [closed] = await db.query<{ hangup_cause: string }>('SELECT hangup_cause FROM calls WHERE unique_call_id = $1', [ofOne]);
    expect(closed!.hangup_cause).toBe('engine-restart');

    two = await start(two.env);
    sippOk(await b.done, 'caller of node 2 gets the BYE of the restarted node 2');
    expect(await openCalls()).toEqual([]);
  }, 240_000);
});
