/**
 * Queue and presence state shared between engines (issue 16): one edge (`npm run edge`), two engines (`npm run
 * engine`) on one PostgreSQL database and the machine's Redis under this run's key prefix. The edge hands INVITEs to
 * the engines in turn, so consecutive calls alternate engines. Three SIPp agents (registered through the edge)
 * answer every call they get. Checked over real sockets:
 * - round_robin takes turns across engines as one queue would (the position lives in Redis);
 * - fewest_calls counts the calls the agents answered at the other engine;
 * - a hunt ring group skips a member talking on a call the other engine handles;
 * - after the key prefix is flushed mid-call, the engine holding the agent takes the claim (and the busy mark) again,
 *   so the other engine's caller waits until that call ends and is only then offered the agent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sippOk } from '../../support/integration-pbx.js';
import { eventually } from '../../support/eventually.js';
import { deleteRedisKeys, redisClient } from '../../support/redis.js';
import { startCluster, type Cluster } from '../../support/scale-cluster.js';
import { freePort, killAllSipp, runSipp, type SippRun } from '../../support/sipp.js';

const DOMAIN = 'switchboard.local';
const AGENTS = [
  { name: 'Ann', number: '1001', device: 'agent-a', password: 'agent-a-pw-987' },
  { name: 'Ben', number: '1002', device: 'agent-b', password: 'agent-b-pw-987' },
  { name: 'Cat', number: '1003', device: 'agent-c', password: 'agent-c-pw-987' },
] as const;
const TURNS = '+61390000010';
const FEWEST = '+61390000011';
const HUNT = '+61390000012';
const SOLO = '+61390000013';
const ANN = '+61390000014';

let cluster: Cluster;
const devices: SippRun[] = [];

beforeAll(async () => {
  const queue = { wrap_up_s: 0, max_wait_s: 120, agent_timeout_s: 20 };
  cluster = await startCluster({
    name: 'queues', engines: 2,
    config: {
      pbx: { name: 'Shared queues test', domain: DOMAIN },
      users: AGENTS.map((a) => ({ name: a.name, number: a.number, devices: [{ username: a.device, password: a.password }] })),
      numbers: [
        { number: TURNS, flow: 'turns' }, { number: FEWEST, flow: 'fewest' }, { number: HUNT, flow: 'hunt' },
        { number: SOLO, flow: 'solo' }, { number: ANN, flow: 'ann' },
      ],
      flows: [
        { id: 'turns', nodes: [{ id: 'q', type: 'queue', queue: 'Turns' }] },
        { id: 'fewest', nodes: [{ id: 'q', type: 'queue', queue: 'Fewest' }] },
        { id: 'solo', nodes: [{ id: 'q', type: 'queue', queue: 'Solo' }] },
        { id: 'hunt', nodes: [{ id: 'g', type: 'ring_group', ring_group: 'Hunt' }] },
        { id: 'ann', nodes: [{ id: 'ring', type: 'user', user: '1001', ring_timeout_s: 20 }] },
      ],
      queues: [
        { name: 'Turns', agents: ['1001', '1002', '1003'], strategy: 'round_robin', ...queue },
        { name: 'Fewest', agents: ['1001', '1002'], strategy: 'fewest_calls', ...queue },
        { name: 'Solo', agents: ['1003'], strategy: 'ringall', ...queue },
      ],
      ring_groups: [{ name: 'Hunt', members: ['1001', '1002'], strategy: 'hunt', timeout_s: 40, member_timeout_s: 15 }],
      media: { driver: 'none' },
    },
  });
  for (const a of AGENTS) {
    const port = await freePort();
    const run = await runSipp({ scenario: 'engine-register.xml', target: cluster.sipTarget, port, calls: 1, extra: ['-key', 'user', a.device, '-au', a.device, '-ap', a.password, '-key', 'domain', DOMAIN, '-auth_uri', DOMAIN, '-key', 'expires', '3600'] });
    sippOk(await run.done, `${a.device} registers`);
    // Each agent answers whatever it is offered, for the whole file.
    devices.push(await runSipp({ scenario: 'engine-uas-device.xml', port, timeoutS: 600, extra: ['-m', '100'] }));
  }
  for (const e of cluster.engines) {
    await eventually(async () => ((await cluster.api(e, 'get-system-status')).body['data'] as { registered_devices: number }).registered_devices === 3, `engine ${e.node} sees the agents`, 15_000);
  }
}, 300_000);

afterAll(async () => {
  killAllSipp();
  await cluster?.stop();
}, 120_000);

/** Calls `did` through the edge one after the other (one at a time), each held `holdMs`. */
async function callsInTurn(did: string, calls: number, holdMs = 200): Promise<void> {
  const uac = await runSipp({ scenario: 'engine-uac-did.xml', target: cluster.sipTarget, calls, timeoutS: 120, extra: ['-s', did.replace('+', ''), '-d', String(holdMs), '-r', '1', '-l', '1'] });
  sippOk(await uac.done, `${calls} calls to ${did}`);
}

interface LegRow { unique_call_id: string; device: string; started_at: string; answered_at: string | null; ended_at: string | null; call_start_at: string }

/** Agent legs of the calls to `did` started since `sinceIso`, in order of the call's start, once `calls` have ended. */
async function legsOf(did: string, sinceIso: string, calls: number): Promise<LegRow[]> {
  return eventually(async () => {
    const ended = await cluster.db.query<{ n: string }>(`SELECT count(*) AS n FROM calls WHERE ltrim(dest_number, '+') = $1 AND call_start_at >= $2 AND ended_at IS NOT NULL`, [did.replace('+', ''), sinceIso]);
    if (Number(ended[0]!.n) < calls) return null;
    return cluster.db.query<LegRow>(
      `SELECT l.unique_call_id, l.device, l.started_at, l.answered_at, l.ended_at, c.call_start_at FROM legs l JOIN calls c USING (unique_call_id)
       WHERE ltrim(c.dest_number, '+') = $1 AND c.call_start_at >= $2 AND l.device IS NOT NULL ORDER BY c.call_start_at, l.started_at`, [did.replace('+', ''), sinceIso]);
  }, `${calls} calls to ${did} ended`, 60_000);
}

const node = (r: { unique_call_id: string }) => r.unique_call_id.slice(-2);

describe('two engines sharing queue memory and presence in Redis', () => {
  it('round_robin takes turns across engines as one queue would: A, B, C, A while calls alternate engines', async () => {
    const since = new Date().toISOString();
    await callsInTurn(TURNS, 4);
    const legs = await legsOf(TURNS, since, 4);
    expect(legs.map((l) => l.device)).toEqual(['agent-a', 'agent-b', 'agent-c', 'agent-a']);
    expect(legs.every((l) => l.answered_at !== null)).toBe(true);
    const nodes = legs.map(node);
    expect(new Set(nodes).size, nodes.join(' ')).toBe(2);
    for (let i = 1; i < nodes.length; i++) expect(nodes[i], nodes.join(' ')).not.toBe(nodes[i - 1]);
  }, 120_000);

  it('fewest_calls picks the agent with fewer calls answered, counting those answered at the other engine', async () => {
    const since = new Date().toISOString();
    await callsInTurn(FEWEST, 2);
    const legs = await legsOf(FEWEST, since, 2);
    // Alone, the second engine (no call answered there yet) would offer 1001 again: first in configured order.
    expect(legs.map((l) => l.device)).toEqual(['agent-a', 'agent-b']);
    expect(node(legs[0]!)).not.toBe(node(legs[1]!));
  }, 120_000);

  it('a hunt ring group skips a member who is on a call at the other engine', async () => {
    const since = new Date().toISOString();
    const long = await runSipp({ scenario: 'engine-uac-did.xml', target: cluster.sipTarget, calls: 1, timeoutS: 60, extra: ['-s', ANN.replace('+', ''), '-d', '6000'] });
    const annCall = await eventually(async () => (await cluster.db.query<{ unique_call_id: string }>(
      `SELECT unique_call_id FROM calls WHERE ltrim(dest_number, '+') = $1 AND call_start_at >= $2 AND connected_at IS NOT NULL AND ended_at IS NULL`, [ANN.replace('+', ''), since]))[0], 'Ann talking');
    await callsInTurn(HUNT, 1);
    sippOk(await long.done, 'the call to Ann');
    const legs = await legsOf(HUNT, since, 1);
    expect(node(legs[0]!), 'the hunt call went to the other engine').not.toBe(node(annCall));
    expect(legs.map((l) => l.device)).toEqual(['agent-b']);
  }, 120_000);

  it('after a flush of the key prefix mid-call the agent\'s claim is taken again: the other engine\'s caller waits for the call to end', async () => {
    const since = new Date().toISOString();
    const first = await runSipp({ scenario: 'engine-uac-did.xml', target: cluster.sipTarget, calls: 1, timeoutS: 90, extra: ['-s', SOLO.replace('+', ''), '-d', '14000'] });
    const call1 = await eventually(async () => (await cluster.db.query<{ unique_call_id: string }>(
      `SELECT unique_call_id FROM calls WHERE ltrim(dest_number, '+') = $1 AND call_start_at >= $2 AND connected_at IS NOT NULL AND ended_at IS NULL`, [SOLO.replace('+', ''), since]))[0], 'Cat talking', 15_000);
    const r = await redisClient(cluster.redisUrl);
    try {
      expect(await r.get(`${cluster.redisPrefix}agent:1003`)).toBe(call1.unique_call_id);
      await deleteRedisKeys(cluster.redisUrl, cluster.redisPrefix); // what FLUSHDB would do to this PBX's keys only
      expect(await r.exists(`${cluster.redisPrefix}agent:1003`)).toBe(0);
      // The next renewal (a third of the claim's 15 s lifetime) sets the claim and the busy mark again.
      await eventually(async () => (await r.get(`${cluster.redisPrefix}agent:1003`)) === call1.unique_call_id, 'the claim taken again', 10_000);
      await eventually(async () => (await r.zrange(`${cluster.redisPrefix}busy`, 0, -1)).some((m) => m.startsWith('1003\n')), 'Cat marked busy again', 10_000);
    } finally {
      r.disconnect();
    }
    // A second caller through the edge reaches the other engine and waits for Cat.
    const second = await runSipp({ scenario: 'engine-uac-did.xml', target: cluster.sipTarget, calls: 1, timeoutS: 90, extra: ['-s', SOLO.replace('+', ''), '-d', '200'] });
    const [a, b] = await Promise.all([first.done, second.done]);
    sippOk(a, 'the first call');
    sippOk(b, 'the second call');
    const legs = await legsOf(SOLO, since, 2);
    expect(legs).toHaveLength(2); // one offer each: the second caller was never offered Cat during the first call
    const [l1, l2] = legs as [LegRow, LegRow];
    expect(l1.unique_call_id).toBe(call1.unique_call_id);
    expect(node(l2)).not.toBe(node(l1));
    expect(l2.started_at >= l1.ended_at!, `${l2.unique_call_id} rang Cat at ${l2.started_at}, before ${l1.unique_call_id} ended at ${l1.ended_at}`).toBe(true);
  }, 150_000);
});
