/**
 * One scenario of bench/security-data.ts against the source tree `argv[2]` (its own modules are imported), printing
 * `OUTCOME <text>`. Run by security-data.ts; not on its own.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { parse, stringify } from 'yaml';
import { pino } from 'pino';

const [treeArg, scenario] = process.argv.slice(2);
const tree = resolve(treeArg!);
const HERE = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), `sb-data-${scenario}-`));
const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const storeMod = await import(join(tree, 'src/store/index.ts'));
const T0 = Date.UTC(2026, 0, 1);

function step(n: number, startMs = T0 + n * 1000): any {
  const id = `${String(startMs).padStart(13, '0')}${String(n % 10000).padStart(4, '0')}00`;
  const iso = new Date(startMs).toISOString();
  return {
    call: { unique_call_id: id, direction: 'inbound', caller_id: '61400000000', caller_name: null, dest_number: '61390000000', user_name: 'Alice Smith',
      user_number: '1001', call_start_at: iso, connected_at: iso, ended_at: iso, call_duration: 1, conversation_duration: 1, status: 'answered',
      hangup_cause: 'caller-hangup', queue_name: null, ring_group_name: null, config_version: 1 },
    userCalls: [{ unique_call_id: id, type: 'user_inbound_answered', caller_id: '61400000000', caller_name: null, dest_number: '61390000000',
      user_name: 'Alice Smith', user_number: '1001', call_start_at: iso, connected_at: iso, call_duration: 1, conversation_duration: 1 }],
    events: [1, 2].map((s) => ({ event_id: `evt_${id}_${s}`, unique_call_id: id, type: 'user_inbound', sequence: s, occurred_at: iso, endpoint: { kind: 'global' },
      payload: { type: 'user_inbound', unique_call_id: id, pad: 'x'.repeat(3000) } })),
  };
}

async function writeSteps(store: any, n: number, during: () => Promise<void>): Promise<{ written: number; rejected: string[] }> {
  const { CommitBatcher } = await import(join(tree, 'src/engine/records/commit-batcher.ts'));
  const batcher = new CommitBatcher({ store, log: silent, baseDelayMs: 20, maxDelayMs: 200 });
  const results = Array.from({ length: n }, (_, i) => batcher.write(step(i + 1)).then(() => 'ok', (e: any) => String(e?.cause?.code ?? e?.message)));
  await during();
  const settled = await Promise.all(results);
  let written = 0;
  for (let i = 1; i <= n; i++) if ((await store.getCall(step(i).call.unique_call_id)) && (await store.getEvent(`evt_${step(i).call.unique_call_id}_2`))) written++;
  return { written, rejected: settled.filter((s) => s !== 'ok') };
}

const summarize = (r: { written: number; rejected: string[] }, n: number) =>
  `${r.written}/${n} steps in the store${r.rejected.length ? `, ${r.rejected.length} rejected (${[...new Set(r.rejected)].join(', ')}): lost` : ', none lost'}`;

async function busy(): Promise<string> {
  const file = join(dir, 'busy.sqlite');
  const store = await storeMod.createSqliteStore({ file, busyTimeoutMs: 50 });
  const other = new Database(file);
  other.exec('BEGIN IMMEDIATE');
  const r = await writeSteps(store, 20, async () => { await sleep(2000); other.exec('COMMIT'); other.close(); });
  return summarize(r, 20);
}

async function diskFull(): Promise<string> {
  const mnt = join(dir, 'mnt');
  execFileSync('mkdir', ['-p', mnt]);
  try { execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { stdio: 'ignore' }); } catch { return 'not run (mount needs root)'; }
  try {
    const store = await storeMod.createSqliteStore({ file: join(mnt, 'full.sqlite') });
    const filler = join(mnt, 'filler');
    const fd = openSync(filler, 'w');
    try { for (;;) writeSync(fd, Buffer.alloc(64 * 1024)); } catch { /* ENOSPC: the disk is full */ }
    closeSync(fd);
    const r = await writeSteps(store, 20, async () => { await sleep(1000); unlinkSync(filler); });
    await store.close();
    return summarize(r, 20);
  } finally {
    execFileSync('umount', [mnt]);
  }
}

async function freePort(): Promise<number> {
  const { freePort: fp } = await import(join(HERE, 'test/support/sipp.ts'));
  return fp();
}

function startMain(env: Record<string, string>, children: ChildProcess[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(tree, 'src/main.ts')], { cwd: tree, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('not ready within 120 s')), 120_000);
    child.stdout!.on('data', (c: Buffer) => { out += c.toString(); if (out.includes('ready:')) { clearTimeout(t); res(child); } });
    child.once('exit', (code) => { clearTimeout(t); rej(new Error(`exited ${code}`)); });
  });
}

async function kill9(): Promise<string> {
  const { startHookReceiver } = await import(join(HERE, 'test/support/integration-receiver.ts'));
  const { runTracedSipp, tracedRequests } = await import(join(HERE, 'test/support/integration-pbx.ts'));
  const { TestPhone, createOffer } = await import(join(HERE, 'src/sip/phone/index.ts'));
  const receiver = await startHookReceiver();
  const [sipPort, httpPort, trunkPort] = [await freePort(), await freePort(), await freePort()];
  const config = parse(readFileSync(join(HERE, 'config/default.yaml'), 'utf8'));
  config.trunks[0].port = trunkPort;
  config.webhook = { ...config.webhook, url: receiver.url('/webhook'), enabled: true };
  writeFileSync(join(dir, 'config.yaml'), stringify(config));
  const env = { SWITCHBOARD_CONFIG: join(dir, 'config.yaml'), SWITCHBOARD_DATA_DIR: join(dir, 'data'), SWITCHBOARD_SIP_PORT: String(sipPort), SWITCHBOARD_HTTP_PORT: String(httpPort), SWITCHBOARD_LOG_LEVEL: 'info' };
  const children: ChildProcess[] = [];
  const phone = await TestPhone.create({ transport: 'udp', username: 'alice-desk', password: 'alice-desk-pw', domain: 'switchboard.local',
    registrar: { transport: 'udp', address: '127.0.0.1', port: sipPort }, onIncoming: (c: any) => c.answer({ afterMs: 100, sdp: createOffer({ address: '127.0.0.1', port: 31000 }) }) });
  try {
    const first = await startMain(env, children);
    await phone.register({ expires: 600 });
    const trunk = await runTracedSipp({ scenario: 'uas-answer.xml', port: trunkPort, calls: 1, timeoutS: 40, extra: ['-d', '100'] });
    const r = await fetch(`http://127.0.0.1:${httpPort}/api/integration/v2/call-to-number`, { method: 'POST', headers: { token: 'demo-api-key', 'content-type': 'application/json' },
      body: JSON.stringify({ user_number: '1001', number_to_call: '+61288887777' }) });
    const id = ((await r.json()) as any).data.unique_call_id as string;
    for (let i = 0; i < 100 && tracedRequests(trunk.messages(), 'ACK').length === 0; i++) await sleep(100);
    await sleep(5500);
    process.kill(first.pid!, 'SIGKILL');
    await new Promise((res) => first.once('exit', res));
    await startMain(env, children);
    for (let i = 0; i < 150 && tracedRequests(trunk.messages(), 'BYE').length === 0; i++) await sleep(100);
    await sleep(3000);
    const bye = tracedRequests(trunk.messages(), 'BYE').length > 0;
    const completed = receiver.hooks.some((h: any) => h.body?.type === 'user_outbound_completed' && h.body?.unique_call_id === id);
    const db = new Database(join(dir, 'data', 'switchboard.sqlite'), { readonly: true });
    const row = db.prepare('SELECT ended_at, hangup_cause FROM calls WHERE unique_call_id = ?').get(id) as any;
    db.close();
    trunk.kill();
    return `call ${row?.ended_at ? `closed (${row.hangup_cause})` : 'left open for ever'}; user_outbound_completed ${completed ? 'delivered' : 'never sent'}; trunk ${bye ? 'got a BYE' : 'got no BYE (dialog left up)'}`;
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await phone.close();
    await receiver.close();
  }
}

async function retention(): Promise<string> {
  const dataDir = join(dir, 'data');
  const seed = await storeMod.createSqliteStore({ file: join(dataDir, 'switchboard.sqlite') });
  const old = Date.now() - 100 * 86_400_000;
  const commits = Array.from({ length: 2000 }, (_, i) => step(i + 1, old + i * 1000));
  await seed.commitMany(commits);
  await seed.close();
  const { loadConfigFile, loadSettings } = await import(join(tree, 'src/config/index.ts'));
  const { startSwitchboard } = await import(join(tree, 'src/switchboard.ts'));
  const settings = loadSettings({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SIP_PORT: String(await freePort()), SWITCHBOARD_HTTP_PORT: String(await freePort()) });
  const config = { ...loadConfigFile(join(tree, 'config/default.yaml'), settings), retention: { calls_days: 30, events_days: 30, deliveries_days: 30 } };
  const sb = await startSwitchboard({ settings, config, log: silent, retention: { firstRunMs: 100 } });
  await sleep(3000);
  const t = performance.now();
  const res = await fetch(`http://127.0.0.1:${sb.http.port}/api/integration/v2/get-user-calls?offset=1000000000`, { headers: { token: 'demo-api-key' } });
  const ms = performance.now() - t;
  await sb.close();
  const db = new Database(join(dataDir, 'switchboard.sqlite'), { readonly: true });
  const left = (db.prepare('SELECT count(*) AS n FROM calls').get() as any).n;
  db.close();
  return `${left}/2000 old calls left after 3 s; offset=1000000000 → HTTP ${res.status} in ${ms.toFixed(0)} ms`;
}

const run: Record<string, () => Promise<string>> = { busy, 'disk-full': diskFull, 'kill-9': kill9, retention };
try {
  console.log(`OUTCOME ${await run[scenario!]!()}`);
} catch (err) {
  console.log(`OUTCOME error: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
