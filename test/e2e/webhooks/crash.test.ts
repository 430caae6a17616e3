/**
 * At-least-once across `kill -9`: a child process delivers a burst from the SQLite outbox, is SIGKILLed in the
 * middle, and a second child finishes. Every event must arrive at least once, and any duplicate must carry the
 * webhook-id of its first copy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore, type SqliteStore } from '../../../src/store/index.js';
import { callEvent } from '../../unit/events/fixtures.js';
import { Receiver } from './receiver.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const CHILD = join(ROOT, 'test/support/webhook-child.ts');
const CALLS = 400;
const PER_CALL = 5;

let dir: string;
let file: string;
let receiver: Receiver;
const children: ChildProcess[] = [];

function startChild(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file, receiver.url(), '800'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  return new Promise((resolvePromise, reject) => {
    const t = setTimeout(() => reject(new Error(`child did not start: ${stderr}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => { if (c.toString().includes('ready')) { clearTimeout(t); resolvePromise(child); } });
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`child exited ${code}: ${stderr}`)); });
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((r) => { if (child.exitCode !== null || child.signalCode !== null) r(); else child.once('exit', () => r()); });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-webhook-crash-'));
  file = join(dir, 'switchboard.db');
  receiver = new Receiver();
  await receiver.up();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
  await Promise.all(children.map(killed));
  await receiver.down();
  rmSync(dir, { recursive: true, force: true });
});

describe('webhook delivery across kill -9', () => {
  it('loses nothing: every event arrives at least once, duplicates with the same webhook-id', async () => {
    const store: SqliteStore = await createSqliteStore({ file });
    const events = [];
    for (let c = 0; c < CALLS; c++) for (let s = 1; s <= PER_CALL; s++) events.push(callEvent(String(1_000_000 + c), s));
    for (let i = 0; i < events.length; i += 500) await store.commit({ events: events.slice(i, i + 500) });
    await store.close();
    // A slow-ish receiver so the kill lands mid-burst.
    receiver.script = () => ({ status: 200, delayMs: 2 });

    const first = await startChild();
    await receiver.waitFor(() => receiver.received.length >= events.length / 4, 30_000, 'a quarter of the burst');
    process.kill(first.pid!, 'SIGKILL');
    await killed(first);
    const beforeRestart = receiver.received.length;
    expect(beforeRestart).toBeLessThan(events.length);

    const second = await startChild();
    const wanted = new Set(events.map((e) => e.event_id));
    const arrived = (): Set<string> => new Set(receiver.received.filter((r) => r.status === 200).map((r) => (JSON.parse(r.body) as { event_id: string }).event_id));
    await receiver.waitFor(() => arrived().size === wanted.size, 60_000, 'every event');

    const idByEvent = new Map<string, string>();
    let duplicates = 0;
    for (const r of receiver.received) {
      const eventId = (JSON.parse(r.body) as { event_id: string }).event_id;
      const id = String(r.headers['webhook-id']);
      const prev = idByEvent.get(eventId);
      if (prev) { duplicates++; expect(id).toBe(prev); } else idByEvent.set(eventId, id);
    }
    expect([...wanted].every((id) => idByEvent.has(id))).toBe(true);
    // Per call, requests never go back in sequence: a later event is claimed only once the earlier one is recorded,
    // so a duplicate after the crash can only repeat the call's latest event.
    const lastSeq = new Map<string, number>();
    for (const r of receiver.received) {
      const p = JSON.parse(r.body) as { unique_call_id: string; sequence: number };
      expect(p.sequence).toBeGreaterThanOrEqual(lastSeq.get(p.unique_call_id) ?? 1);
      lastSeq.set(p.unique_call_id, p.sequence);
    }
    process.kill(second.pid!, 'SIGTERM');
    await killed(second);
    const check = await createSqliteStore({ file });
    expect(await check.countPendingDeliveries()).toBe(0);
    await check.close();
    console.log(`crash test: ${events.length} events, ${receiver.received.length} requests, ${duplicates} duplicates, ${beforeRestart} before kill -9`);
  }, 150_000); // two child processes start under tsx; slow on a busy machine
});
