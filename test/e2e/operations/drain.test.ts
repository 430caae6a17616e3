/**
 * Operations over real sockets (issue 16): a Switchboard started like `npm start` (src/main.ts in a child process)
 * answers /health, /ready and /metrics without a key and without secrets or personal data; on SIGTERM it drains —
 * /ready turns 503, a new INVITE gets 503 with Retry-After, a call in progress finishes on its own, the one still up
 * at pbx.drain_timeout_s is hung up (BYE, hangup_cause drain-timeout) — and exits 0. A second SIGTERM exits at once.
 * Callers are SIPp, the answering devices are test phones registered over UDP.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { TestPhone } from '../../../src/sip/phone/index.js';
import { eventually, runTracedSipp, sippOk, type TracedSipp } from '../../support/integration-pbx.js';
import { freePort, killAllSipp, runSipp } from '../../support/sipp.js';
import { killAllSbProcesses, metricValue, startSbProcess, type SbProcess } from '../../support/sb-process.js';

const TIMERS = { t1: 100, t2: 400, t4: 500 };
const dir = mkdtempSync(join(tmpdir(), 'sb-ops-'));
const phones: TestPhone[] = [];
const traced: TracedSipp[] = [];
const SECRETS = ['ops-api-key-0123', 'ops-admin-key-0123456789', 'alice-pw-9876', 'bob-pw-9876', 'alice-desk', 'bob-desk', 'Alice Example', '61390000000'];

afterAll(async () => {
  await killAllSbProcesses();
  killAllSipp();
  await Promise.all(phones.map((p) => p.close()));
  for (const t of traced) t.cleanup();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

interface Pbx { proc: SbProcess; sipPort: number; http: string; dataDir: string }

async function startPbx(name: string, drainTimeoutS: number): Promise<Pbx> {
  const [sipPort, httpPort] = [await freePort(), await freePort()];
  const config = {
    pbx: { name: 'Ops test', domain: 'switchboard.local', drain_timeout_s: drainTimeoutS },
    users: [
      { name: 'Alice Example', number: '1001', devices: [{ username: 'alice-desk', password: 'alice-pw-9876' }] },
      { name: 'Bob Example', number: '1002', devices: [{ username: 'bob-desk', password: 'bob-pw-9876' }] },
    ],
    numbers: [{ number: '+61390000000', flow: 'to-alice' }, { number: '+61390000001', flow: 'to-bob' }],
    flows: [
      { id: 'to-alice', nodes: [{ id: 'ring', type: 'user', user: '1001', ring_timeout_s: 30 }] },
      { id: 'to-bob', nodes: [{ id: 'ring', type: 'user', user: '1002', ring_timeout_s: 30 }] },
    ],
    queues: [{ name: 'Support', agents: ['1001'] }],
    api: { api_key: 'ops-api-key-0123', admin_key: 'ops-admin-key-0123456789' },
    media: { driver: 'none' },
  };
  const configFile = join(dir, `${name}.yaml`);
  writeFileSync(configFile, stringify(config));
  const dataDir = join(dir, name);
  const proc = startSbProcess('src/main.ts', {
    SWITCHBOARD_CONFIG: configFile, SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SIP_PORT: String(sipPort), SWITCHBOARD_HTTP_PORT: String(httpPort),
  });
  await proc.waitForLog('ready:');
  return { proc, sipPort, http: `http://127.0.0.1:${httpPort}`, dataDir };
}

async function phone(pbx: Pbx, username: string, password: string): Promise<TestPhone> {
  const p = await TestPhone.create({
    transport: 'udp', username, password, domain: 'switchboard.local', timers: TIMERS,
    registrar: { transport: 'udp', address: '127.0.0.1', port: pbx.sipPort }, onIncoming: (c) => c.answer({ afterMs: 50 }),
  });
  phones.push(p);
  expect((await p.register({ expires: 600 })).ok).toBe(true);
  return p;
}

const metrics = async (pbx: Pbx): Promise<string> => (await fetch(`${pbx.http}/metrics`)).text();
const ready = async (pbx: Pbx): Promise<{ status: number; body: Record<string, unknown> }> => {
  const r = await fetch(`${pbx.http}/ready`);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

describe('operations: health, readiness, metrics and drain', () => {
  it('serves /health, /ready and /metrics without a key; on SIGTERM refuses new calls with 503 + Retry-After, lets a call finish, hangs up the last at the drain timeout, exits 0', async () => {
    const pbx = await startPbx('drain', 20);
    const health = await fetch(`${pbx.http}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(await ready(pbx)).toEqual({ status: 200, body: { status: 'ready', store: true, sip: true, draining: false } });
    // The integration API still wants its key: only the ops paths are open.
    expect((await fetch(`${pbx.http}/api/integration/v2/get-system-status`)).status).toBe(401);

    await phone(pbx, 'alice-desk', 'alice-pw-9876');
    await phone(pbx, 'bob-desk', 'bob-pw-9876');
    const idle = await metrics(pbx);
    expect(metricValue(idle, 'switchboard_registered_devices')).toBe(2);
    expect(metricValue(idle, 'switchboard_registrations')).toBe(2);
    expect(metricValue(idle, 'switchboard_calls_active', { direction: 'inbound' })).toBe(0);
    expect(metricValue(idle, 'switchboard_queue_waiting', { queue: 'Support' })).toBe(0);
    expect(metricValue(idle, 'switchboard_webhook_backlog', { kind: 'pending' })).toBe(0);
    expect(metricValue(idle, 'switchboard_draining')).toBe(0);
    expect(metricValue(idle, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);

    // A finishes by itself 10 s after its answer; B waits for the PBX's BYE.
    const a = await runSipp({ scenario: 'engine-uac-did.xml', target: `127.0.0.1:${pbx.sipPort}`, calls: 1, timeoutS: 90, extra: ['-s', '61390000000', '-d', '10000'] });
    const b = await runTracedSipp({ scenario: 'uac-invite-remote-bye.xml', target: `127.0.0.1:${pbx.sipPort}`, calls: 1, timeoutS: 90, extra: ['-s', '61390000001'] });
    traced.push(b);
    let aEndedAt = 0;
    const aDone = a.done.then((r) => { aEndedAt = Date.now(); return r; });
    await eventually(async () => metricValue(await metrics(pbx), 'switchboard_calls_active', { direction: 'inbound' }) === 2, 'two calls connected', 30_000);
    // The calls' steps commit off the SIP path (the store's worker), so the first commit may land just after both
    // calls show as connected: wait for it, then check the scrape that has it.
    await eventually(async () => (metricValue(await metrics(pbx), 'switchboard_store_commit_seconds_count', { result: 'ok' }) ?? 0) > 0, 'a store commit observed', 10_000);
    const during = await metrics(pbx);
    expect(metricValue(during, 'switchboard_store_commit_seconds_count', { result: 'ok' })).toBeGreaterThan(0);
    for (const s of SECRETS) expect(during, `/metrics must not show ${s}`).not.toContain(s);

    const termAt = Date.now();
    pbx.proc.child.kill('SIGTERM');
    await eventually(async () => (await ready(pbx)).status === 503, '/ready 503 while draining', 10_000);
    expect((await ready(pbx)).body).toMatchObject({ status: 'not ready', draining: true, store: true });
    expect(metricValue(await metrics(pbx), 'switchboard_draining')).toBe(1);

    const refused = await runTracedSipp({ scenario: 'ops-uac-refused.xml', target: `127.0.0.1:${pbx.sipPort}`, calls: 1, timeoutS: 20, extra: ['-s', '61390000000'] });
    traced.push(refused);
    sippOk(await refused.done, 'a new INVITE while draining gets 503 with Retry-After');
    const retryAfter = Number(/\nRetry-After:\s*(\d+)/i.exec(refused.messages())?.[1]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);

    sippOk(await aDone, 'call A ended by its caller during the drain');
    expect(aEndedAt).toBeGreaterThan(termAt);
    await eventually(async () => metricValue(await metrics(pbx), 'switchboard_calls_total', { direction: 'inbound', outcome: 'answered' }) === 1, 'call A counted as answered', 10_000);
    sippOk(await b.done, 'call B hung up by the PBX at the drain timeout');
    expect(await pbx.proc.exited).toBe(0);
    // Under load the BYE may come later than 20 s, never sooner.
    expect(Date.now() - termAt).toBeGreaterThanOrEqual(19_000);

    const db = new Database(join(pbx.dataDir, 'switchboard.sqlite'), { readonly: true });
    try {
      const rows = db.prepare('SELECT dest_number, status, hangup_cause, ended_at FROM calls ORDER BY dest_number').all() as Array<Record<string, unknown>>;
      expect(rows).toHaveLength(2);
      expect(rows.map((r) => r.status)).toEqual(['answered', 'answered']);
      expect(rows.every((r) => r.ended_at !== null)).toBe(true);
      expect(rows.find((r) => String(r.dest_number).endsWith('61390000001'))!.hangup_cause).toBe('drain-timeout');
      expect(rows.find((r) => String(r.dest_number).endsWith('61390000000'))!.hangup_cause).not.toBe('drain-timeout');
    } finally {
      db.close();
    }
  }, 180_000);

  it('a second SIGTERM during the drain exits at once', async () => {
    const pbx = await startPbx('twice', 120);
    await phone(pbx, 'bob-desk', 'bob-pw-9876');
    const b = await runSipp({ scenario: 'uac-invite-remote-bye.xml', target: `127.0.0.1:${pbx.sipPort}`, calls: 1, timeoutS: 60, extra: ['-s', '61390000001'] });
    await eventually(async () => metricValue(await metrics(pbx), 'switchboard_calls_active', { direction: 'inbound' }) === 1, 'the call connected', 30_000);
    pbx.proc.child.kill('SIGTERM');
    await eventually(async () => (await ready(pbx)).status === 503, '/ready 503 while draining', 10_000);
    const at = Date.now();
    pbx.proc.child.kill('SIGTERM');
    expect(await pbx.proc.exited).toBe(143);
    expect(Date.now() - at).toBeLessThan(10_000);
    b.kill();
  }, 120_000);
});
