/**
 * Crash recovery reads only its own engine's open calls: with several engines on one store, the others' live calls
 * (older, and more than one batch of them) must not hide the restarted engine's call left open by its crash.
 * Real SQLite store; the calls have no saved dialogs, so no BYE is sent (srf is not reached).
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { recoverCalls } from '../../../src/engine/records/recovery.js';
import type { SrfLike } from '../../../src/engine/srf-types.js';
import { createSqliteStore, type Store } from '../../../src/store/index.js';
import { at, call } from '../store/store-fixtures.js';

let store: Store | undefined;
afterEach(async () => { await store?.close(); store = undefined; });

/** A unique_call_id of engine `node` (its node id ends the id). */
const idOf = (n: number, node: number): string => `1700000${String(n).padStart(7, '0')}${String(node).padStart(2, '0')}`;

describe('recoverCalls', () => {
  it('closes the engine\'s own open call behind 600 older open calls of another engine, and leaves those alone', async () => {
    store = await createSqliteStore({ file: ':memory:' });
    for (let i = 0; i < 600; i++) await store.commit({ call: call(idOf(i, 2), at(0)) });
    const mine = idOf(9999, 1);
    await store.commit({ call: call(mine, at(5)) });
    const srf = {} as SrfLike; // no saved dialogs: recovery sends no BYE
    const closed = await recoverCalls({ store, srf, log: pino({ level: 'silent' }), nodeId: 1, lastAliveMs: Date.parse(at(6)) });
    expect(closed).toBe(1);
    expect(await store.getCall(mine)).toMatchObject({ hangup_cause: 'engine-restart', ended_at: at(6) });
    expect((await store.listUnfinishedCalls(1000)).length).toBe(600);
  });
});
