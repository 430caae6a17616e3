import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { createLogger } from '../../../src/common/log.js';
import { loadConfigFile } from '../../../src/config/loader.js';
import type { ConfigVersion, PbxConfig } from '../../../src/config/types.js';
import { createConfigVersions, type ConfigVersionStore } from '../../../src/config/versions.js';
import { createSqliteStore } from '../../../src/store/index.js';

const DEFAULT_YAML = join(import.meta.dirname, '../../../config/default.yaml');
const demo = (): PbxConfig => loadConfigFile(DEFAULT_YAML, { apiKeyOverride: null });
const tmp = mkdtempSync(join(tmpdir(), 'sb-versions-'));
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers) await close();
  rmSync(tmp, { recursive: true, force: true });
});

/** The config-version part of Store, in memory (JSON round trip like a real backend). */
function memoryStore(): ConfigVersionStore {
  const rows: Array<{ version: number; config: string; created_at: string }> = [];
  let staged: string | null = null;
  const row = (r: (typeof rows)[number] | undefined) => (r ? { version: r.version, config: JSON.parse(r.config) as PbxConfig, created_at: r.created_at } : undefined);
  return {
    getLatestConfigVersion: async () => row(rows.at(-1)),
    getConfigVersion: async (v) => row(rows.find((r) => r.version === v)),
    insertConfigVersion: async (config, nowIso) => {
      const version = rows.length + 1;
      rows.push({ version, config: JSON.stringify(config), created_at: nowIso });
      return version;
    },
    getStagedConfig: async () => (staged === null ? undefined : (JSON.parse(staged) as PbxConfig)),
    setStagedConfig: async (c) => {
      staged = c === null ? null : JSON.stringify(c);
    },
  };
}

async function sqliteMemoryStore(): Promise<ConfigVersionStore> {
  const store = await createSqliteStore({ file: ':memory:' });
  closers.push(() => store.close());
  return store;
}

describe.each([
  ['in-memory store', async () => memoryStore()],
  ['SQLite store (:memory:)', sqliteMemoryStore],
])('config versions on the %s', (_name, makeStore) => {
  it('seeds version 1 from the file when the store has none', async () => {
    const store = await makeStore();
    const clock = new ManualClock(Date.UTC(2026, 10, 28, 15, 0, 0));
    const versions = await createConfigVersions({ store, initial: demo(), clock });
    expect(versions.live()).toMatchObject({ version: 1, created_at: '2026-11-28T15:00:00.000Z' });
    expect(versions.live().config).toEqual(demo());
    expect((await store.getLatestConfigVersion())?.version).toBe(1);
  });

  it('hands out a deep-frozen live version', async () => {
    const versions = await createConfigVersions({ store: await makeStore(), initial: demo() });
    const live = versions.live();
    expect(Object.isFrozen(live)).toBe(true);
    expect(Object.isFrozen(live.config.users[0]!.devices[0])).toBe(true);
    expect(() => { (live.config.users[0] as { name: string }).name = 'Mallory'; }).toThrow(TypeError);
  });

  it('stages without touching live; staged() defaults to the live config', async () => {
    const versions = await createConfigVersions({ store: await makeStore(), initial: demo() });
    expect(await versions.staged()).toEqual(versions.live().config);
    expect(await versions.pendingChanges()).toEqual([]);
    const edit = await versions.staged();
    edit.users[0]!.ring_timeout_s = 45;
    await versions.stage(edit);
    expect(versions.live().config.users[0]!.ring_timeout_s).toBe(30);
    expect((await versions.staged()).users[0]!.ring_timeout_s).toBe(45);
    expect(await versions.pendingChanges()).toEqual(['users[0].ring_timeout_s']);
  });

  it('reload() takes up a version another engine applied on the same store, as if applied here (remote: true)', async () => {
    const store = await makeStore();
    const a = await createConfigVersions({ store, initial: demo() });
    const b = await createConfigVersions({ store, initial: demo() });
    const seen: Array<[number, boolean]> = [];
    b.on('applied', (v, how) => seen.push([v.version, how.remote]));
    expect(await b.reload()).toBeNull();
    const edited = await a.staged();
    edited.pbx.name = 'Applied at A';
    await a.stage(edited);
    expect(await a.apply()).toEqual({ ok: true, version: 2 });
    expect(b.live().version).toBe(1);
    expect(await b.reload()).toBe(2);
    expect(b.live().config.pbx.name).toBe('Applied at A');
    expect(Object.isFrozen(b.live().config.pbx)).toBe(true);
    expect(seen).toEqual([[2, true]]);
    expect(await b.reload()).toBeNull();
  });

  it('apply bumps the version and swaps live, while a reference taken before keeps the old version', async () => {
    const versions = await createConfigVersions({ store: await makeStore(), initial: demo() });
    const applied: ConfigVersion[] = [];
    versions.on('applied', (v) => applied.push(v));
    const before = versions.live();
    const edit = await versions.staged();
    edit.queues[0]!.max_wait_s = 60;
    await versions.stage(edit);

    expect(await versions.apply()).toEqual({ ok: true, version: 2 });

    expect(versions.live().version).toBe(2);
    expect(versions.live().config.queues[0]!.max_wait_s).toBe(60);
    expect(before.version).toBe(1);
    expect(before.config.queues[0]!.max_wait_s).toBe(120);
    expect(applied).toEqual([versions.live()]);
    expect(await versions.pendingChanges()).toEqual([]);
    expect(await versions.staged()).toEqual(versions.live().config);
  });

  it('fills defaults into the staged config on apply', async () => {
    const versions = await createConfigVersions({ store: await makeStore(), initial: demo() });
    const edit = await versions.staged() as unknown as { users: Array<Record<string, unknown>> };
    edit.users.push({ name: 'Cy New', number: '1003', devices: [{ username: 'cy-desk', password: 'cy-desk-pw' }] });
    await versions.stage(edit as unknown as PbxConfig);
    expect(await versions.apply()).toEqual({ ok: true, version: 2 });
    expect(versions.live().config.users[2]).toMatchObject({ record: 'none', ring_timeout_s: 30, caller_id: null });
  });

  it('a broken staged config lists every error and leaves live (and the staged copy) untouched', async () => {
    const store = await makeStore();
    const versions = await createConfigVersions({ store, initial: demo() });
    const events: ConfigVersion[] = [];
    versions.on('applied', (v) => events.push(v));
    const live = versions.live();
    const edit = await versions.staged();
    edit.users[1]!.number = '1001';
    edit.users[0]!.devices[0]!.password = '';
    edit.numbers[0]!.flow = 'nowhere';
    edit.queues[0]!.strategy = 'loudest' as 'ringall';
    await versions.stage(edit);

    const r = await versions.apply();

    expect(r).toEqual({ ok: false, errors: [
      'users[0].devices[0].password: must not be empty',
      "queues[0].strategy: must be one of ringall, round_robin, longest_idle, fewest_calls, linear, random; got 'loudest'",
      "users[1].number: duplicate user number '1001' (also at users[0].number)",
      "numbers[0].flow: names flow 'nowhere', which does not exist",
      // Bob's number is now taken twice, so references to 1002 are broken too.
      "flows[1].nodes[2].user: names user '1002', which does not exist",
      "queues[0].agents[1]: names user '1002', which does not exist",
      "ring_groups[0].members[1]: names user '1002', which does not exist",
    ] });
    expect(versions.live()).toBe(live);
    expect(events).toEqual([]);
    expect((await store.getLatestConfigVersion())?.version).toBe(1);
    expect((await versions.staged()).numbers[0]!.flow).toBe('nowhere');
  });

  it('apply with nothing staged keeps the live version', async () => {
    const versions = await createConfigVersions({ store: await makeStore(), initial: demo() });
    expect(await versions.apply()).toEqual({ ok: true, version: 1 });
  });

  it('runs concurrent applies one after the other', async () => {
    const versions = await createConfigVersions({ store: await makeStore(), initial: demo() });
    const a = await versions.staged();
    a.users[0]!.ring_timeout_s = 41;
    await versions.stage(a);
    const [r1, r2] = await Promise.all([versions.apply(), versions.apply()]);
    expect([r1, r2]).toEqual([{ ok: true, version: 2 }, { ok: true, version: 2 }]);
    expect(versions.live().version).toBe(2);
  });

  it('a stage() issued while an apply is running is kept, not wiped by the apply', async () => {
    const versions = await createConfigVersions({ store: await makeStore(), initial: demo() });
    const first = await versions.staged();
    first.pbx.name = 'First';
    await versions.stage(first);
    const second = structuredClone(first);
    second.pbx.name = 'Second';
    const [r] = await Promise.all([versions.apply(), versions.stage(second)]);
    expect(r).toEqual({ ok: true, version: 2 });
    expect(versions.live().config.pbx.name).toBe('First');
    expect(await versions.pendingChanges()).toEqual(['pbx.name']);
  });

  it('a throwing applied listener does not break apply or other listeners', async () => {
    const versions = await createConfigVersions({ store: await makeStore(), initial: demo() });
    const seen: number[] = [];
    versions.on('applied', () => { throw new Error('listener bug'); });
    const off = versions.on('applied', (v) => seen.push(v.version));
    const edit = await versions.staged();
    edit.pbx.name = 'Renamed';
    await versions.stage(edit);
    expect(await versions.apply()).toEqual({ ok: true, version: 2 });
    off();
    await versions.stage({ ...edit, pbx: { ...edit.pbx, name: 'Again' } });
    expect(await versions.apply()).toEqual({ ok: true, version: 3 });
    expect(seen).toEqual([2]);
  });

  it('restart with the same file keeps the latest version, including admin edits applied since', async () => {
    const store = await makeStore();
    const first = await createConfigVersions({ store, initial: demo() });
    const edit = await first.staged();
    edit.pbx.name = 'Edited via API';
    await first.stage(edit);
    await first.apply();

    const restarted = await createConfigVersions({ store, initial: demo() });
    expect(restarted.live().version).toBe(2);
    expect(restarted.live().config.pbx.name).toBe('Edited via API');
  });

  it('restart with a changed file stores it as a new version', async () => {
    const store = await makeStore();
    await createConfigVersions({ store, initial: demo() });
    const changed = demo();
    changed.trunks[0]!.port = 5091;

    const restarted = await createConfigVersions({ store, initial: changed });

    expect(restarted.live().version).toBe(2);
    expect(restarted.live().config.trunks[0]!.port).toBe(5091);
    expect(restarted.diff(demo(), restarted.live().config)).toEqual(['trunks[0].port']);
  });
});

describe('config versions with a stored version that no longer validates', () => {
  it('stores the file as a new version instead of failing to start', async () => {
    const store = memoryStore();
    await store.insertConfigVersion({ ...demo(), retired_key: true } as unknown as PbxConfig, '2026-01-01T00:00:00.000Z');
    const versions = await createConfigVersions({ store, initial: demo() });
    expect(versions.live().version).toBe(2);
    expect(versions.live().config).toEqual(demo());
  });
});

describe('config versions logging', () => {
  it('logs the new version and the changed paths when the file changed', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger({ pretty: false, destination: { write: (l: string) => { lines.push(JSON.parse(l) as Record<string, unknown>); } } });
    const store = memoryStore();
    await createConfigVersions({ store, initial: demo(), log });
    const changed = demo();
    changed.pbx.time_zone = 'UTC';
    await createConfigVersions({ store, initial: changed, log });
    expect(lines.map((l) => [l['msg'], l['config_version']])).toEqual([
      ['configuration file stored as version 1', 1],
      ['configuration file changed; stored as a new version', 2],
    ]);
    expect(lines[1]!['changed']).toEqual(['pbx.time_zone']);
  });
});

describe('config versions across a real restart (SQLite file)', () => {
  it('keeps versions in the database file and adds one when the file changes', async () => {
    const file = join(tmp, 'restart.db');
    const s1 = await createSqliteStore({ file });
    expect((await createConfigVersions({ store: s1, initial: demo() })).live().version).toBe(1);
    await s1.close();

    const s2 = await createSqliteStore({ file });
    expect((await createConfigVersions({ store: s2, initial: demo() })).live().version).toBe(1);
    await s2.close();

    const s3 = await createSqliteStore({ file });
    closers.push(() => s3.close());
    const changed = demo();
    changed.users[1]!.record = 'inbound';
    const v = await createConfigVersions({ store: s3, initial: changed });
    expect(v.live().version).toBe(2);
    expect(v.live().config.users[1]!.record).toBe('inbound');
    expect(((await s3.getConfigVersion(1))?.config as PbxConfig).users[1]!.record).toBe('all');
  });
});
