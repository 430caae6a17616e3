/**
 * SPEC.md §4's paging example on real calls: SIPp places 100 DID calls (each from its own caller number, in order)
 * that a SIPp device registered as alice-desk answers; then "a user with 100 calls, offset=50&limit=30 returns
 * calls 51–80 in the chosen order" must hold over HTTP, and unique_call_id must be time-ordered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runSipp } from '../../support/sipp.js';
import { V2 } from '../../support/integration-http.js';
import { eventually, sippOk, startIntegrationPbx, type IntegrationPbx } from '../../support/integration-pbx.js';

const CALLS = 100;

interface Row { unique_call_id: string; caller_id: string; call_start_at: string; call_duration: number | null }

describe('history paging on 100 real calls', () => {
  let pbx: IntegrationPbx;
  let all: Row[] = [];
  const page = async (q: Record<string, string | number>) => {
    const r = await pbx.api.get<Row[]>(`${V2}/get-user-calls`, { users_numbers: '1001', ...q });
    expect(r.status, r.text).toBe(200);
    return r.json.data!;
  };
  const ids = (rows: Row[]) => rows.map((r) => r.unique_call_id);

  beforeAll(async () => {
    pbx = await startIntegrationPbx();
    const port = await freePort();
    const reg = await runSipp({ scenario: 'register-digest.xml', target: pbx.sb.sipTarget, port, calls: 1, extra: ['-s', 'alice-desk', '-au', 'alice-desk', '-ap', 'alice-desk-pw'] });
    sippOk(await reg.done, 'REGISTER alice-desk');
    // At most 5 calls at once, 10 new calls a second: gentle enough for a loaded machine (other suites and benches run
    // SIPp at hundreds of calls per second on the same 2 cores), and SIPp gives up well before the hook does.
    const device = await runSipp({ scenario: 'engine-uas-device.xml', port, calls: CALLS, timeoutS: 50 });
    const callers = await runSipp({ scenario: 'engine-uac-did.xml', target: pbx.sb.sipTarget, calls: CALLS, timeoutS: 50, extra: ['-s', '61390000000', '-d', '50', '-r', '10', '-l', '5'] });
    const [a, b] = await Promise.all([callers.done, device.done]);
    sippOk(a, 'callers');
    sippOk(b, 'device');
    const unreg = await runSipp({ scenario: 'unregister-all.xml', target: pbx.sb.sipTarget, calls: 1, extra: ['-s', 'alice-desk', '-au', 'alice-desk', '-ap', 'alice-desk-pw'] });
    sippOk(await unreg.done, 'unregister');
    all = await eventually(async () => {
      const rows = await page({ sort_by: 'oldest_first', limit: 1000 });
      return rows.length === CALLS && rows.every((r) => r.call_duration !== null) ? rows : undefined;
    }, '100 finished calls', 20_000);
  }, 120_000);
  afterAll(async () => {
    await pbx?.close();
  });

  it('lists the 100 calls oldest first in the order they were placed, with time-ordered unique_call_ids', () => {
    // engine-uac-did.xml calls from 61400000<call_number>: the placing order is readable from caller_id.
    const seq = all.map((r) => Number(r.caller_id.slice('61400000'.length)));
    expect(seq).toEqual([...seq].sort((x, y) => x - y));
    expect(new Set(seq).size).toBe(CALLS);
    const uids = all.map((r) => BigInt(r.unique_call_id));
    for (let i = 1; i < uids.length; i++) expect(uids[i]! > uids[i - 1]!, `unique_call_id ${i}`).toBe(true);
    for (let i = 1; i < all.length; i++) expect(all[i]!.call_start_at >= all[i - 1]!.call_start_at).toBe(true);
  });

  it('offset=50&limit=30 returns calls 51–80 in either order', async () => {
    expect(ids(await page({ sort_by: 'oldest_first', offset: 50, limit: 30 }))).toEqual(ids(all.slice(50, 80)));
    const newest = [...all].reverse();
    expect(ids(await page({ offset: 50, limit: 30 }))).toEqual(ids(newest.slice(50, 80)));
    expect(ids(await page({ sort_by: 'newest_first', offset: 50, limit: 30 }))).toEqual(ids(newest.slice(50, 80)));
  });

  it('pages cover every call exactly once, and the default limit is 100', async () => {
    const seen: string[] = [];
    for (let offset = 0; offset < CALLS; offset += 30) seen.push(...ids(await page({ sort_by: 'oldest_first', offset, limit: 30 })));
    expect(seen).toEqual(ids(all));
    expect(await page({})).toHaveLength(100);
    expect(await page({ limit: 10000 })).toHaveLength(100);
    expect(await page({ offset: 99 })).toHaveLength(1);
  });
});
