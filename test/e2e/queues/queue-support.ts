/**
 * Shared setup for queue and ring-group e2e tests: the demo PBX plus two more users (Carol 1003, Dan 1004),
 * one DID and flow per queue / ring group under test, and helpers to read what the store recorded.
 */
import type { PbxConfig, QueueConfig, RingGroupConfig } from '../../../src/config/types.js';
import type { TestPhone } from '../../../src/sip/phone/index.js';
import type { OutboxEvent } from '../../../src/store/store.js';
import { demoConfig, eventually, type EngineHarness } from '../../support/engine-harness.js';

/** Device credentials of the test PBX: username → [password, user number]. */
export const AGENT_DEVICES: Record<string, [string, string]> = {
  'alice-desk': ['alice-desk-pw', '1001'], 'bob-desk': ['bob-desk-pw', '1002'], 'carol-desk': ['carol-desk-pw', '1003'], 'dan-desk': ['dan-desk-pw', '1004'],
};

/** Final statuses the hangup nodes send, so a test sees which `next` a caller took. */
export const NEXT_STATUS = { timeout: 408, full: 503, empty: 404, 'no-answer': 410 } as const;

/** A queue with test defaults. */
export function queueConfig(name: string, over: Partial<QueueConfig> = {}): QueueConfig {
  return {
    name, agents: ['1001', '1002', '1003'], strategy: 'ringall', agent_timeout_s: 2, max_wait_s: 20, max_callers: 0, wrap_up_s: 0,
    hold_music: null, next: { timeout: 'h-timeout', full: 'h-full', empty: 'h-empty', default: 'h-other' }, ...over,
  };
}

/** A ring group with test defaults. */
export function ringGroupConfig(name: string, over: Partial<RingGroupConfig> = {}): RingGroupConfig {
  return { name, members: ['1001', '1002', '1003'], strategy: 'ringall', timeout_s: 3, member_timeout_s: 1, next: { timeout: 'h-timeout', default: 'h-other' }, ...over };
}

/** The demo PBX plus Carol and Dan, and one DID (returned by name) per queue / ring group. */
export function distributionConfig(queues: QueueConfig[], groups: RingGroupConfig[] = []): { config: PbxConfig; did: Record<string, string> } {
  const config = demoConfig();
  config.users.push(
    { ...structuredClone(config.users[1]!), name: 'Carol White', number: '1003', devices: [{ username: 'carol-desk', password: 'carol-desk-pw' }], record: 'none' },
    { ...structuredClone(config.users[1]!), name: 'Dan Brown', number: '1004', devices: [{ username: 'dan-desk', password: 'dan-desk-pw' }], record: 'none' },
  );
  const did: Record<string, string> = {};
  const hangups = [
    { id: 'h-timeout', type: 'hangup' as const, status: NEXT_STATUS.timeout },
    { id: 'h-full', type: 'hangup' as const, status: NEXT_STATUS.full },
    { id: 'h-empty', type: 'hangup' as const, status: NEXT_STATUS.empty },
    { id: 'h-other', type: 'hangup' as const, status: NEXT_STATUS['no-answer'] },
  ];
  let n = 10;
  for (const q of queues) {
    const id = `flow-q-${q.name}`;
    config.flows.push({ id, nodes: [{ id: 'q', type: 'queue', queue: q.name }, ...structuredClone(hangups)] });
    did[q.name] = `+613900000${n++}`;
    config.numbers.push({ number: did[q.name]!, flow: id });
    config.queues.push(q);
  }
  for (const g of groups) {
    const id = `flow-g-${g.name}`;
    config.flows.push({ id, nodes: [{ id: 'g', type: 'ring_group', ring_group: g.name }, ...structuredClone(hangups)] });
    did[g.name] = `+613900000${n++}`;
    config.numbers.push({ number: did[g.name]!, flow: id });
    config.ring_groups.push(g);
  }
  return { config, did };
}

/** Registers one phone per device (policy set later per test). */
export async function registerAgents(h: EngineHarness, usernames: string[]): Promise<Record<string, TestPhone>> {
  const out: Record<string, TestPhone> = {};
  for (const u of usernames) {
    const p = await h.phone(u, AGENT_DEVICES[u]![0], { onIncoming: () => undefined });
    const r = await p.register({ expires: 600 });
    if (!r.ok) throw new Error(`${u} failed to register: ${r.status}`);
    out[u] = p;
  }
  return out;
}

/** Incoming-call times (ms) per phone since `sinceMs`, sorted by time: who rang in what order. */
export function ringOrder(phones: Record<string, TestPhone>, sinceMs: number): Array<{ device: string; at: number }> {
  const out: Array<{ device: string; at: number }> = [];
  for (const [device, p] of Object.entries(phones)) for (const e of p.events) if (e.kind === 'incoming' && e.at >= sinceMs) out.push({ device, at: e.at });
  return out.sort((a, b) => a.at - b.at);
}

/** The unique_call_id of the call whose events mention `callerId` as caller, once it has a `type` event. */
export async function callIdOf(h: EngineHarness, callerId: string, type: string, timeoutMs = 8000): Promise<string> {
  const e = await eventually(async () => (await h.allEvents()).find((x) => x.type === type && x.payload['caller_id'] === callerId), `${type} for ${callerId}`, timeoutMs);
  return e.unique_call_id!;
}

/** Every event of a call (sequence order) once one of type `type` is there. */
export async function eventsUntil(h: EngineHarness, uniqueCallId: string, type: string, timeoutMs = 8000): Promise<OutboxEvent[]> {
  await eventually(async () => (await h.events(uniqueCallId)).some((e) => e.type === type), `${type} of ${uniqueCallId}`, timeoutMs);
  return h.events(uniqueCallId);
}

/** Waits until every listed agent is in `state`. */
export async function agentsBecome(h: EngineHarness, agents: string[], state: string, timeoutMs = 5000): Promise<void> {
  await eventually(() => agents.every((a) => (h.engine.queues.snapshot().agents[a] ?? 'idle') === state), `agents ${agents.join(',')} ${state}`, timeoutMs);
}

/** Strips our per-event fields so payloads can be compared exactly. */
export function compat(e: OutboxEvent): Record<string, unknown> {
  const { event_id: _e, occurred_at: _o, sequence: _s, ...rest } = e.payload;
  return rest;
}
