/**
 * Fills a SQLite store with realistic call history for the history-API benchmark:
 *
 *   npx tsx bench/api-data.ts --file data/bench-1m.sqlite --rows 1000000 [--users 50] [--days 365] [--seed 1] [--force]
 *
 * `--rows` calls spread evenly (with jitter) over `--days` days ending at `--end` (ISO; default 2026-11-28T00:00Z),
 * one transaction per 50,000 calls. Each call has a call row and one user row (internal calls two); ~15% went through
 * a queue and ~10% through a ring group. Deterministic for a given seed. Prints calls/s and a sample query time.
 */
import { existsSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createSqliteStore, type CallCommit, type CallRecord, type GroupCallRecord, type UserCallRecord } from '../src/store/index.js';
import { prng } from '../test/support/prng.js';

const { values: args } = parseArgs({
  options: {
    file: { type: 'string', default: 'data/bench-1m.sqlite' },
    rows: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '50' },
    days: { type: 'string', default: '365' },
    end: { type: 'string', default: '2026-11-28T00:00:00.000Z' },
    seed: { type: 'string', default: '1' },
    batch: { type: 'string', default: '50000' },
    force: { type: 'boolean', default: false },
  },
});

const rows = Number(args.rows);
const users = Number(args.users);
const batch = Number(args.batch);
const endMs = Date.parse(args.end!);
const spanMs = Number(args.days) * 86_400_000;
const startMs = endMs - spanMs;
if (![rows, users, batch].every((n) => Number.isInteger(n) && n > 0) || Number.isNaN(endMs) || !(spanMs > 0)) {
  console.error('usage: bench/api-data.ts --file F --rows N [--users N] [--days N] [--end ISO] [--seed N] [--batch N] [--force]');
  process.exit(2);
}
if (existsSync(args.file!)) {
  if (!args.force) {
    console.error(`${args.file} exists; pass --force to replace it`);
    process.exit(1);
  }
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${args.file}${suffix}`, { force: true });
}

const rand = prng(Number(args.seed));
const FIRST = ['Alice', 'Bob', 'Carol', 'Dan', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy'];
const LAST = ['Smith', 'Jones', 'Brown', 'Taylor', 'Wilson'];
const userList = Array.from({ length: users }, (_, i) => ({ number: String(1001 + i), name: `${FIRST[i % 10]} ${LAST[Math.floor(i / 10) % 5]}` }));
const QUEUES = ['Support', 'Billing'];
const GROUPS = ['Sales', 'Front desk'];
const iso = (ms: number): string => new Date(ms).toISOString();
const pickOne = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const external = (): string => `614${String(Math.floor(rand() * 1e8)).padStart(8, '0')}`;

/** One call and its history rows; `i` orders calls in time and makes the unique_call_id unique. */
function makeCall(i: number): CallCommit {
  const startAt = startMs + Math.floor((i + rand() * 0.9) * (spanMs / rows));
  const unique_call_id = `${startAt}${String(i % 100_000).padStart(5, '0')}`;
  const user = pickOne(userList);
  const r = rand();
  const direction: CallRecord['direction'] = r < 0.6 ? 'inbound' : r < 0.95 ? 'outbound' : 'internal';
  const answered = rand() < 0.72;
  const ringS = 3 + Math.floor(rand() * 25);
  const talkS = answered ? 10 + Math.floor(rand() * 600) : 0;
  const connected_at = answered ? iso(startAt + ringS * 1000) : null;
  const call_duration = ringS + talkS;
  const caller = direction === 'outbound' || direction === 'internal' ? user.number : external();
  const dest = direction === 'inbound' ? '61390000000' : direction === 'internal' ? pickOne(userList).number : external();
  const via = direction === 'inbound' ? rand() : 1;
  const queue_name = via < 0.15 ? pickOne(QUEUES) : null;
  const ring_group_name = via >= 0.15 && via < 0.25 ? pickOne(GROUPS) : null;
  const call: CallRecord = {
    unique_call_id, direction, caller_id: caller, caller_name: direction === 'inbound' ? null : user.name, dest_number: dest,
    user_name: answered ? user.name : null, user_number: answered ? user.number : null, call_start_at: iso(startAt), connected_at,
    ended_at: iso(startAt + call_duration * 1000), call_duration, conversation_duration: talkS,
    status: answered ? 'answered' : 'missed', hangup_cause: 'normal_clearing', queue_name, ring_group_name, config_version: 1,
  };
  const row = (u: typeof user, kind: 'inbound' | 'outbound'): UserCallRecord => ({
    unique_call_id, type: `user_${kind}_${answered ? 'answered' : 'missed'}`, caller_id: caller, caller_name: call.caller_name,
    dest_number: dest, user_name: u.name, user_number: u.number, call_start_at: call.call_start_at, connected_at, call_duration,
    conversation_duration: talkS,
  });
  const userCalls = [row(user, direction === 'inbound' ? 'inbound' : 'outbound')];
  if (direction === 'internal') {
    const callee = userList.find((u) => u.number === dest)!;
    if (callee.number !== user.number) userCalls.push(row(callee, 'inbound'));
  }
  const group = (name: string): GroupCallRecord => ({
    unique_call_id, group_name: name, caller_id: caller, caller_name: null, dest_number: dest, user_name: call.user_name,
    user_number: call.user_number, call_start_at: call.call_start_at, connected_at, call_duration, conversation_duration: talkS,
    status: answered ? 'answered' : 'abandoned',
  });
  return {
    call, userCalls,
    ...(queue_name ? { queueCalls: [group(queue_name)] } : {}),
    ...(ring_group_name ? { ringGroupCalls: [group(ring_group_name)] } : {}),
  };
}

const store = await createSqliteStore({ file: args.file! });
const t0 = performance.now();
let userRows = 0;
for (let done = 0; done < rows;) {
  const n = Math.min(batch, rows - done);
  const commits = Array.from({ length: n }, (_, k) => makeCall(done + k));
  for (const c of commits) userRows += c.userCalls!.length;
  await store.commitMany(commits);
  done += n;
  const s = (performance.now() - t0) / 1000;
  process.stdout.write(`\r${done.toLocaleString('en')} calls, ${Math.round(done / s).toLocaleString('en')} calls/s`);
}
const seconds = (performance.now() - t0) / 1000;
console.log(`\nfilled ${args.file}: ${rows.toLocaleString('en')} calls (${userRows.toLocaleString('en')} user rows) in ${seconds.toFixed(1)} s = ${Math.round(rows / seconds).toLocaleString('en')} rows/s`);

// One informational query: the busiest case the API serves, one user over 30 days, first page.
const q0 = performance.now();
const page = await store.queryUserCalls({ from: iso(endMs - 30 * 86_400_000), to: iso(endMs), sort: 'newest_first', offset: 0, limit: 100, names: ['1001'] });
console.log(`sample: queryUserCalls(user 1001, last 30 days, limit 100) -> ${page.length} rows in ${(performance.now() - q0).toFixed(2)} ms`);
await store.close();
