/**
 * bench/queue — call distribution through one queue (issue 4).
 *
 *   N caller test phones ──INVITE DID──▶ drachtio-lite ◀─wire─▶ drachtio-srf ◀─ engine: queue node + QueueService
 *                                                                  ──INVITE──▶ M agent test phones (answer after a random delay)
 *
 * Callers arrive spread over `--arrival-ms`, wait in one queue, are answered by an agent after a random ring time
 * and hang up after a random talk time. Prints calls distributed per second, max/avg/p50/p95 wait (INVITE sent →
 * 200 at the caller), calls per agent, and checks that every call is accounted for exactly once in `queue_call`
 * events (outbox) and in queue history rows, and that the queue ends empty with every agent idle. Not a test.
 *
 *   npx tsx bench/queue.ts [--callers 200] [--agents 20] [--strategy ringall|round_robin|...] [--arrival-ms 2000]
 *                          [--answer-ms 200-1500] [--talk-ms 500-2000] [--seed 1]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { QueueStrategy } from '../src/config/types.js';
import type { IncomingCall, OutgoingCall, TestPhone } from '../src/sip/phone/index.js';
import { demoConfig, startEngineHarness } from '../test/support/engine-harness.js';
import { prng } from '../test/support/prng.js';

const { values: a } = parseArgs({
  options: {
    callers: { type: 'string', default: '200' }, agents: { type: 'string', default: '20' }, strategy: { type: 'string', default: 'ringall' },
    'arrival-ms': { type: 'string', default: '2000' }, 'answer-ms': { type: 'string', default: '200-1500' }, 'talk-ms': { type: 'string', default: '500-2000' },
    seed: { type: 'string', default: '1' },
  },
});
const CALLERS = Number(a.callers);
const AGENTS = Number(a.agents);
const STRATEGY = a.strategy as QueueStrategy;
const ARRIVAL_MS = Number(a['arrival-ms']);
const [ANSWER_MIN, ANSWER_MAX] = a['answer-ms']!.split('-').map(Number) as [number, number];
const [TALK_MIN, TALK_MAX] = a['talk-ms']!.split('-').map(Number) as [number, number];

// A seeded PRNG so runs are comparable.
const rand = prng(Number(a.seed));
const between = (lo: number, hi: number): number => Math.round(lo + rand() * (hi - lo));

const DID = '+61390000099';
const config = demoConfig();
const agentNumbers: string[] = [];
for (let i = 1; i <= AGENTS; i++) {
  const number = String(2000 + i);
  agentNumbers.push(number);
  config.users.push({ ...structuredClone(config.users[1]!), name: `Agent ${i}`, number, devices: [{ username: `agent-${number}`, password: `pw-${number}` }], record: 'none' });
}
config.queues.push({
  name: 'Bench', agents: agentNumbers, strategy: STRATEGY, agent_timeout_s: 5, max_wait_s: 600, max_callers: 0, wrap_up_s: 0, hold_music: null, next: 'bench-hangup',
});
config.flows.push({ id: 'bench-queue', nodes: [{ id: 'bench-q', type: 'queue', queue: 'Bench' }, { id: 'bench-hangup', type: 'hangup' }] });
config.numbers.push({ number: DID, flow: 'bench-queue' });

const h = await startEngineHarness({ config, t1: 500, engine: { queue: { retryMs: 200 } } });
const perAgent = new Map<string, number>();
const agents: TestPhone[] = [];
for (const n of agentNumbers) {
  const p = await h.phone(`agent-${n}`, `pw-${n}`, {
    onIncoming: (call: IncomingCall) => {
      call.once('answered', () => perAgent.set(n, (perAgent.get(n) ?? 0) + 1));
      call.answer({ afterMs: between(ANSWER_MIN, ANSWER_MAX) });
    },
  });
  const r = await p.register({ expires: 3600 });
  if (!r.ok) throw new Error(`agent-${n} failed to register`);
  agents.push(p);
}

interface CallResult { caller: string; sentAt: number; answeredAt: number | null; endedAt: number | null; failed: number | null }
const results: CallResult[] = [];
const callers: TestPhone[] = [];
for (let i = 0; i < CALLERS; i++) callers.push(await h.phone(`6149${String(i).padStart(7, '0')}`));

console.log(`queue bench: ${CALLERS} callers → 1 queue (${STRATEGY}) of ${AGENTS} agents; arrivals over ${ARRIVAL_MS} ms, ` +
  `answer after ${ANSWER_MIN}–${ANSWER_MAX} ms, talk ${TALK_MIN}–${TALK_MAX} ms; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
const cpu0 = process.cpuUsage();
const t0 = Date.now();
// Agent states sampled every 100 ms: how busy the agents were kept while callers waited.
const stateSamples: Record<string, number> = {};
let samples = 0;
const sampler = setInterval(() => {
  const snap = h.engine.queues.snapshot();
  if ((snap.waiting['Bench']?.length ?? 0) === 0) return;
  samples++;
  for (const n of agentNumbers) {
    const st = snap.agents[n] ?? 'idle';
    stateSamples[st] = (stateSamples[st] ?? 0) + 1;
  }
}, 100);
const done: Array<Promise<void>> = [];
for (let i = 0; i < CALLERS; i++) {
  const at = Math.round((i * ARRIVAL_MS) / CALLERS);
  const talk = between(TALK_MIN, TALK_MAX);
  done.push(new Promise<void>((resolve) => {
    setTimeout(() => {
      const r: CallResult = { caller: callers[i]!.username, sentAt: Date.now(), answeredAt: null, endedAt: null, failed: null };
      results.push(r);
      const out: OutgoingCall = callers[i]!.call(`sip:${DID}@${h.domain}`);
      out.on('answered', () => {
        r.answeredAt = Date.now();
        setTimeout(() => void out.bye(), talk);
      });
      out.on('failed', (f: { status: number }) => { r.failed = f.status; });
      out.on('ended', () => {
        r.endedAt = Date.now();
        resolve();
      });
    }, at);
  }));
}
await Promise.race([Promise.all(done), new Promise((r) => setTimeout(r, 600_000))]);
const wallMs = Date.now() - t0;
clearInterval(sampler);
const cpu = process.cpuUsage(cpu0);

// Let the last commits land, then account for every call.
for (let i = 0; i < 500 && ((await h.engine.status()).active_calls > 0); i++) await new Promise((r) => setTimeout(r, 20));
await new Promise((r) => setTimeout(r, 200));
const events = (await h.allEvents()).filter((e) => e.type === 'queue_call');
const rows = await h.store.queryQueueCalls({ from: null, to: null, sort: 'oldest_first', offset: 0, limit: 10_000 });
const byCaller = new Map<string, number>();
for (const e of events) byCaller.set(String(e.payload['caller_id']), (byCaller.get(String(e.payload['caller_id'])) ?? 0) + 1);
const eventIds = new Set(events.map((e) => e.unique_call_id ?? ""));
const rowIds = new Set(rows.map((r) => r.unique_call_id));
const answered = results.filter((r) => r.answeredAt !== null);
const waits = answered.map((r) => r.answeredAt! - r.sentAt).sort((x, y) => x - y);
const firstAnswer = Math.min(...answered.map((r) => r.answeredAt!));
const lastAnswer = Math.max(...answered.map((r) => r.answeredAt!));
const pct = (p: number): number => waits[Math.min(waits.length - 1, Math.floor((p / 100) * waits.length))] ?? NaN;
const snap = h.engine.queues.snapshot();
const counts = [...perAgent.values()];

console.log(`calls: ${results.length} placed, ${answered.length} answered, ${results.filter((r) => r.failed !== null).length} failed; wall ${(wallMs / 1000).toFixed(1)} s`);
console.log(`distributed: ${(answered.length / ((lastAnswer - firstAnswer) / 1000)).toFixed(1)} calls/s between first and last answer ` +
  `(${((lastAnswer - firstAnswer) / 1000).toFixed(1)} s); ${(answered.length / (wallMs / 1000)).toFixed(1)} calls/s over the whole run`);
console.log(`wait (INVITE → 200): avg ${(waits.reduce((s, x) => s + x, 0) / waits.length / 1000).toFixed(2)} s, p50 ${(pct(50) / 1000).toFixed(2)} s, ` +
  `p95 ${(pct(95) / 1000).toFixed(2)} s, max ${(waits.at(-1)! / 1000).toFixed(2)} s`);
console.log(`agents while callers waited (avg of ${samples} samples): ${Object.entries(stateSamples).map(([k, v]) => `${k} ${(v / samples).toFixed(1)}`).join(', ')}`);
const kinds: Record<string, number> = {};
for (const p of agents) for (const e of p.events) if (['incoming', 'answered', 'cancelled', 'bye-received', 'bye-sent'].includes(e.kind)) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
console.log(`agent phones saw: ${Object.entries(kinds).map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`calls per agent: min ${Math.min(...counts)}, max ${Math.max(...counts)} over ${counts.length} agents`);
console.log(`CPU (whole process: engine, drachtio-lite, all phones): ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms = ${((cpu.user + cpu.system) / 1000 / results.length).toFixed(1)} ms per call`);
const exactlyOnce = callers.every((c) => byCaller.get(c.username) === 1);
console.log(`accounting: queue_call events ${events.length} for ${eventIds.size} calls (each caller exactly once: ${exactlyOnce}); ` +
  `history rows ${rows.length} for ${rowIds.size} calls; same calls in both: ${[...eventIds].every((id) => rowIds.has(id)) && eventIds.size === rowIds.size}; ` +
  `statuses ${JSON.stringify(rows.reduce<Record<string, number>>((m, r) => ((m[r.status] = (m[r.status] ?? 0) + 1), m), {}))}`);
console.log(`queue after: ${snap.waiting['Bench']?.length ?? 0} waiting; agents ${JSON.stringify(Object.values(snap.agents).reduce<Record<string, number>>((m, s) => ((m[s] = (m[s] ?? 0) + 1), m), {}))}`);
const ok = exactlyOnce && events.length === CALLERS && rows.length === CALLERS && answered.length === CALLERS;
console.log(ok ? 'RESULT: every call distributed and accounted for exactly once' : 'RESULT: MISMATCH (see above)');

for (const p of [...callers, ...agents]) await p.close().catch(() => undefined);
await h.close({ removeDb: true });
process.exit(ok ? 0 : 1);
