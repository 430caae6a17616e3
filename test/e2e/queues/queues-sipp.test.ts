/**
 * A SIPp caller population into a round_robin queue (issue #4): SIPp places the calls (a black-box UAC), test
 * phones are the agents. Every call is answered, round_robin spreads them evenly, every call has exactly one
 * `queue_call` event and history row, and the agents end idle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestPhone } from '../../../src/sip/phone/index.js';
import { startEngineHarness, type EngineHarness } from '../../support/engine-harness.js';
import { answerAfter } from '../../support/engine-calls.js';
import { killAllSipp, runSipp } from '../../support/sipp.js';
import { agentsBecome, distributionConfig, queueConfig, registerAgents } from './queue-support.js';

const CALLS = 12;

describe('queue with SIPp callers', () => {
  let h: EngineHarness;
  let did: Record<string, string>;
  let phones: Record<string, TestPhone>;

  beforeAll(async () => {
    const built = distributionConfig([queueConfig('Sipp', { strategy: 'round_robin', agent_timeout_s: 5 })]);
    did = built.did;
    h = await startEngineHarness({ config: built.config, engine: { queue: { retryMs: 100 } } });
    phones = await registerAgents(h, ['alice-desk', 'bob-desk', 'carol-desk']);
    for (const p of Object.values(phones)) p.onIncoming = answerAfter(50);
  }, 30_000);
  afterAll(async () => {
    killAllSipp();
    await h?.close({ removeDb: true });
  });

  it('every SIPp call is answered through the queue, spread round-robin, and accounted for once', async () => {
    const uac = await runSipp({
      scenario: 'engine-uac-did.xml', target: `${h.sip.address}:${h.sip.port}`, calls: CALLS, timeoutS: 40,
      extra: ['-s', did['Sipp']!.slice(1), '-d', '300', '-r', '4', '-l', '6'],
    });
    const res = await uac.done;
    expect(res.code, res.errors || res.stdout.slice(-2000)).toBe(0);
    await agentsBecome(h, ['1001', '1002', '1003'], 'idle', 8000);
    const rows = await h.store.queryQueueCalls({ from: null, to: null, sort: 'oldest_first', offset: 0, limit: 100 });
    expect(rows).toHaveLength(CALLS);
    expect(new Set(rows.map((r) => r.unique_call_id)).size).toBe(CALLS);
    expect(rows.every((r) => r.status === 'answered' && r.group_name === 'Sipp')).toBe(true);
    const events = (await h.allEvents()).filter((e) => e.type === 'queue_call');
    expect(events.map((e) => e.unique_call_id).sort()).toEqual(rows.map((r) => r.unique_call_id).sort());
    const perAgent: Record<string, number> = {};
    for (const r of rows) perAgent[r.user_number!] = (perAgent[r.user_number!] ?? 0) + 1;
    expect(Object.keys(perAgent).sort()).toEqual(['1001', '1002', '1003']);
    expect(Math.max(...Object.values(perAgent)) - Math.min(...Object.values(perAgent))).toBeLessThanOrEqual(2);
    expect(h.engine.queues.snapshot().waiting['Sipp']).toEqual([]);
  }, 60_000);
});
