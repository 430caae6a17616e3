/**
 * Crash recovery end to end (issue 11): a child-process Switchboard bridges a click-to-call between Alice's desk
 * phone and a SIPp trunk (a UAS that answers and then expects a BYE), with the global webhook pointed at a real
 * receiver. The child is killed with SIGKILL mid-call and started again on the same data directory. The restarted
 * Switchboard closes the call in the store (hangup_cause `engine-restart`), sends `user_outbound_completed` to the
 * receiver as a normal end would, and hangs up the trunk leg with a BYE rebuilt from the saved dialog.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createOffer, TestPhone, type IncomingCall } from '../../../src/sip/phone/index.js';
import { startHookReceiver, type HookReceiver } from '../../support/integration-receiver.js';
import { eventually, runTracedSipp, sippOk, tracedRequests, type TracedSipp } from '../../support/integration-pbx.js';
import { freePort, killAllSipp } from '../../support/sipp.js';
import { DEMO_CONFIG_FILE } from '../../support/switchboard.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const CHILD = join(ROOT, 'test/support/switchboard-child.ts');
const TIMERS = { t1: 100, t2: 400, t4: 500 };
const dir = mkdtempSync(join(tmpdir(), 'sb-crash-recovery-'));
const children: ChildProcess[] = [];
let receiver: HookReceiver | undefined;
let phone: TestPhone | undefined;
let trunk: TracedSipp | undefined;
const childLog: string[] = [];

afterAll(async () => {
  for (const c of children) if (c.pid && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  await phone?.close();
  await receiver?.close();
  killAllSipp();
  trunk?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the child and resolves once it logs its ready line. */
function startChild(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`child not ready: ${err}`)), 90_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      childLog.push(c.toString());
      if (out.includes('"msg":"ready:')) { clearTimeout(t); res(child); }
    });
    child.once('exit', (code) => { clearTimeout(t); rej(new Error(`child exited ${code}: ${err}`)); });
  });
}

describe('crash recovery', () => {
  it('after kill -9 mid-call and a restart: the call is closed with engine-restart, its completed event is sent, the trunk gets a BYE', async () => {
    receiver = await startHookReceiver();
    const [sipPort, httpPort, trunkPort] = [await freePort(), await freePort(), await freePort()];
    const config = parse(readFileSync(DEMO_CONFIG_FILE, 'utf8')) as Record<string, any>;
    config.trunks[0].port = trunkPort;
    config.webhook = { ...config.webhook, url: receiver.url('/webhook'), enabled: true };
    const configFile = join(dir, 'config.yaml');
    writeFileSync(configFile, stringify(config));
    const dataDir = join(dir, 'data');
    const env = { SWITCHBOARD_CONFIG: configFile, SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SIP_PORT: String(sipPort), SWITCHBOARD_HTTP_PORT: String(httpPort), SWITCHBOARD_LOG_LEVEL: 'info' };
    const first = await startChild(env);

    phone = await TestPhone.create({
      transport: 'udp', username: 'alice-desk', password: 'alice-desk-pw', domain: 'switchboard.local',
      registrar: { transport: 'udp', address: '127.0.0.1', port: sipPort }, timers: TIMERS, onIncoming: (c: IncomingCall) => c.answer({ afterMs: 100, sdp: createOffer({ address: '127.0.0.1', port: 31000 }) }),
    });
    expect((await phone.register({ expires: 600 })).ok).toBe(true);
    trunk = await runTracedSipp({ scenario: 'uas-answer.xml', port: trunkPort, calls: 1, timeoutS: 150, extra: ['-d', '100'] });
    const r = await fetch(`http://127.0.0.1:${httpPort}/api/integration/v2/call-to-number`, {
      method: 'POST', headers: { token: 'demo-api-key', 'content-type': 'application/json' }, body: JSON.stringify({ user_number: '1001', number_to_call: '+61288887777' }),
    });
    expect(r.status).toBe(200);
    const id = ((await r.json()) as { data: { unique_call_id: string } }).data.unique_call_id;
    await eventually(() => tracedRequests(trunk!.messages(), 'ACK').length > 0, 'the trunk leg answered and ACKed', 60_000)
      .catch((err: unknown) => { throw new Error(`${String(err)}\ntrunk:\n${trunk!.messages().slice(-2000)}\nchild:\n${childLog.join('').slice(-4000)}`); });
    await receiver.waitFor((h) => h.body?.type === 'user_outbound_answered', 1, 'user_outbound_answered before the crash', 60_000);
    // Long enough for a heartbeat after the answer (every 5 s).
    await new Promise((res) => setTimeout(res, 5500));

    process.kill(first.pid!, 'SIGKILL');
    await new Promise((res) => first.once('exit', res));
    expect(tracedRequests(trunk.messages(), 'BYE')).toHaveLength(0);
    expect(receiver.hooks.some((h) => h.body?.type === 'user_outbound_completed')).toBe(false);

    await startChild(env);
    sippOk(await trunk.done, 'trunk UAS (answers, then expects the BYE)');
    const bye = tracedRequests(trunk.messages(), 'BYE')[0]!;
    const invite = tracedRequests(trunk.messages(), 'INVITE')[0]!;
    const header = (msg: string, name: string) => new RegExp(`\\n${name}:\\s*([^\\r\\n]*)`, 'i').exec(msg)?.[1]?.trim();
    expect(header(bye, 'Call-ID')).toBe(header(invite, 'Call-ID'));
    expect(header(bye, 'From')).toBe(header(invite, 'From'));

    const [completed] = await receiver.waitFor((h) => h.body?.type === 'user_outbound_completed' && h.body?.unique_call_id === id, 1, 'user_outbound_completed after the restart', 90_000);
    expect(completed!.body).toMatchObject({ unique_call_id: id, user_number: '1001', dest_number: '61288887777' });
    // Durations count to the crashed run's last heartbeat (every 5 s): at most the 5.5 s of talk before the kill.
    const talk = completed!.body!.conversation_duration as number;
    expect(talk).toBeGreaterThanOrEqual(0);
    expect(talk).toBeLessThanOrEqual(6);
    expect(completed!.body!.connected_at).not.toBeNull();
    const db = new Database(join(dataDir, 'switchboard.sqlite'), { readonly: true });
    try {
      const row = db.prepare('SELECT hangup_cause, ended_at, status FROM calls WHERE unique_call_id = ?').get(id) as Record<string, unknown>;
      expect(row).toMatchObject({ hangup_cause: 'engine-restart', status: 'answered' });
      expect(row.ended_at).not.toBeNull();
      expect(db.prepare('SELECT type FROM user_calls WHERE unique_call_id = ?').all(id)).toEqual([{ type: 'user_outbound_answered' }]);
      expect(db.prepare('SELECT count(*) AS n FROM leg_dialogs').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  }, 300_000);
});
