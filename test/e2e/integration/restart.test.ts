/**
 * The integration surface across a restart (SPEC.md §1 apply configuration, §4 history): Switchboard is stopped and
 * started again on the same data directory with the same configuration file. The version applied through the
 * admin API stays live (the file only seeded version 1 and has not changed), the call history is still there, and
 * new calls get unique_call_ids that sort after the old ones.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile, loadSettings } from '../../../src/config/index.js';
import { startSwitchboard, type Switchboard } from '../../../src/switchboard.js';
import { TestPhone, type IncomingCall } from '../../../src/sip/phone/index.js';
import { freePort } from '../../support/sipp.js';
import { DEMO_CONFIG_FILE } from '../../support/switchboard.js';
import { ADMIN, apiClient, V2, type ApiClient } from '../../support/integration-http.js';
import { eventually } from '../../support/integration-pbx.js';

const TIMERS = { t1: 100, t2: 400, t4: 500 };

interface Running { sb: Switchboard; api: ApiClient; sipPort: number; close(): Promise<void> }

async function start(dataDir: string): Promise<Running> {
  const sipPort = await freePort();
  const settings = loadSettings({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SIP_PORT: String(sipPort), SWITCHBOARD_HTTP_PORT: String(await freePort()) });
  const config = structuredClone(loadConfigFile(DEMO_CONFIG_FILE, settings));
  const sb = await startSwitchboard({ settings, config, log: pino({ level: 'silent' }), sipTimers: TIMERS, dispatcher: { pollIntervalMs: 50, jitter: 0 } });
  const api = apiClient(`http://127.0.0.1:${sb.http.port}`);
  return { sb, api, sipPort, async close() { await api.close(); await sb.close(); } };
}

/** One DID call answered by a fresh alice-desk phone; returns once the caller has hung up. */
async function answeredCall(r: Running): Promise<void> {
  const registrar = { transport: 'udp' as const, address: '127.0.0.1', port: r.sipPort };
  const desk = await TestPhone.create({ transport: 'udp', username: 'alice-desk', password: 'alice-desk-pw', domain: 'switchboard.local', registrar, timers: TIMERS, onIncoming: (c: IncomingCall) => c.answer({ afterMs: 100 }) });
  const caller = await TestPhone.create({ transport: 'udp', username: '61400777999', domain: 'switchboard.local', registrar, timers: TIMERS });
  try {
    expect((await desk.register({ expires: 600 })).ok).toBe(true);
    const out = caller.call('sip:+61390000000@switchboard.local');
    await out.waitFor('answered', 8000);
    await out.bye();
    await desk.unregister();
  } finally {
    await desk.close();
    await caller.close();
  }
}

describe('restart on the same data directory', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-int-restart-'));
  let running: Running | undefined;
  afterAll(async () => {
    await running?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the applied configuration version and the call history; new unique_call_ids sort after the old', async () => {
    running = await start(dataDir);
    let r = running;
    await answeredCall(r);
    const before = await eventually(async () => {
      const rows = (await r.api.get<Array<{ unique_call_id: string; call_duration: number | null }>>(`${V2}/get-user-calls`)).json.data ?? [];
      return rows.length === 1 && rows[0]!.call_duration !== null ? rows : undefined;
    }, 'the first call in the history');
    expect((await r.api.send('PATCH', `${ADMIN}/users/1001`, { name: 'Alice Persisted' })).status).toBe(200);
    const applied = await r.api.post<{ version: number }>(`${ADMIN}/apply`);
    expect(applied.json.data).toEqual({ version: 2 });
    await r.close();
    running = undefined;

    running = await start(dataDir);
    r = running;
    const live = await r.api.get<{ version: number; config: { users: Array<{ number: string; name: string }> } }>(`${ADMIN}/config/live`);
    expect(live.json.data!.version).toBe(2);
    expect(live.json.data!.config.users.find((u) => u.number === '1001')!.name).toBe('Alice Persisted');
    expect((await r.api.get<{ config_version: number }>(`${V2}/get-system-status`)).json.data!.config_version).toBe(2);
    expect((await r.api.get(`${V2}/get-user-calls`)).json.data).toEqual(before);

    await answeredCall(r);
    const after = await eventually(async () => {
      const rows = (await r.api.get<Array<{ unique_call_id: string; user_name: string; call_duration: number | null }>>(`${V2}/get-user-calls`, { sort_by: 'oldest_first' })).json.data ?? [];
      return rows.length === 2 && rows[1]!.call_duration !== null ? rows : undefined;
    }, 'both calls in the history');
    expect(after[0]!.unique_call_id).toBe(before[0]!.unique_call_id);
    expect(BigInt(after[1]!.unique_call_id) > BigInt(after[0]!.unique_call_id)).toBe(true);
    expect(after[1]!.user_name).toBe('Alice Persisted');
  });
});
