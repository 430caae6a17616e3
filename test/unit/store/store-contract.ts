/**
 * The Store contract: the same cases run against every backend (store-contract.test.ts wires SQLite and PostgreSQL).
 * Each case gets a fresh, migrated store; times are explicit numbers (no clock, no sleeps).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreArgumentError, StoreError, type Delivery, type HistoryQuery, type RecordingRecord, type Store, type VoicemailRecord } from '../../../src/store/index.js';
import { batchingContract } from './store-contract-batching.js';
import { dataSafetyContract } from './store-contract-data-safety.js';
import { at, call, callId, event, groupCall, leg, pbxConfig, registration, userCall } from './store-fixtures.js';

/** A backend under test: opens a fresh store; `another()` opens a second store on the same database. */
export interface BackendUnderTest {
  open(): Promise<{ store: Store; another(): Promise<Store>; cleanup(): Promise<void> }>;
}

const Q: HistoryQuery = { from: null, to: null, sort: 'newest_first', offset: 0, limit: 100 };
const T0 = 1_800_000_000_000;
const URL_A = 'http://127.0.0.1:9000/a';
const URL_B = 'http://127.0.0.1:9000/b';

/** Registers the contract cases for one backend. */
export function storeContract(name: string, backend: BackendUnderTest, extra?: (get: () => Store, another: () => Promise<Store>) => void): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let opened: Awaited<ReturnType<BackendUnderTest['open']>>;
    beforeEach(async () => {
      opened = await backend.open();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    it('migrate is idempotent', async () => {
      await store.migrate();
      await store.migrate();
      expect(await store.countPendingDeliveries()).toBe(0);
    });

    describe('registrations', () => {
      it('upserts by (username, contact), lists, removes one or all', async () => {
        await store.upsertRegistration(registration('alice-desk', 'sip:a@1', 5000));
        await store.upsertRegistration(registration('alice-desk', 'sip:a@1', 9000, { cseq: 2 }));
        await store.upsertRegistration(registration('alice-desk', 'sip:a@2', 9000));
        await store.upsertRegistration(registration('bob-desk', 'sip:b@1', 9000, { transport: 'tcp', instance_id: '<urn:uuid:1>' }));
        const alice = await store.listRegistrations('alice-desk');
        expect(alice.map((r) => [r.contact, r.cseq, r.expires_at])).toEqual([['sip:a@1', 2, 9000], ['sip:a@2', 1, 9000]]);
        expect(await store.listRegistrations()).toHaveLength(3);
        expect((await store.listRegistrations('bob-desk'))[0]).toEqual(registration('bob-desk', 'sip:b@1', 9000, { transport: 'tcp', instance_id: '<urn:uuid:1>' }));
        await store.removeRegistration('alice-desk', 'sip:a@1');
        expect((await store.listRegistrations('alice-desk')).map((r) => r.contact)).toEqual(['sip:a@2']);
        await store.removeAllRegistrations('alice-desk');
        expect(await store.listRegistrations('alice-desk')).toEqual([]);
        expect(await store.listRegistrations()).toHaveLength(1);
      });

      it('purges rows with expires_at <= now and returns how many', async () => {
        await store.upsertRegistration(registration('u1', 'sip:1', 999));
        await store.upsertRegistration(registration('u2', 'sip:2', 1000));
        await store.upsertRegistration(registration('u3', 'sip:3', 1001));
        expect(await store.purgeExpiredRegistrations(1000)).toBe(2);
        expect((await store.listRegistrations()).map((r) => r.username)).toEqual(['u3']);
        expect(await store.purgeExpiredRegistrations(1000)).toBe(0);
      });
    });

    describe('commit', () => {
      it('writes the call, legs, history rows and events, and reads them back', async () => {
        const id = callId(1);
        const ev = event(id, 1);
        await store.commit({
          call: call(id, at(0)), legs: [leg('leg_1', id, at(0)), leg('leg_2', id, at(1), { kind: 'device', device: 'alice-desk' })],
          userCalls: [userCall(id, '1001', at(0))], queueCalls: [groupCall(id, 'Support', at(0))],
          ringGroupCalls: [groupCall(id, 'Sales', at(0))], events: [ev],
        });
        expect(await store.getCall(id)).toEqual(call(id, at(0)));
        expect(await store.listLegs(id)).toEqual([leg('leg_1', id, at(0)), leg('leg_2', id, at(1), { kind: 'device', device: 'alice-desk' })]);
        expect(await store.queryUserCalls(Q)).toEqual([userCall(id, '1001', at(0))]);
        expect(await store.queryQueueCalls(Q)).toEqual([groupCall(id, 'Support', at(0))]);
        expect(await store.queryRingGroupCalls(Q)).toEqual([groupCall(id, 'Sales', at(0))]);
        expect(await store.getEvent(ev.event_id)).toEqual(ev);
        expect(await store.listUndispatchedEvents(10)).toEqual([ev]);
        expect(await store.getCall('nope')).toBeUndefined();
        // Retrying the same commit (an ambiguous failure) neither fails nor duplicates the event.
        await store.commit({ call: call(id, at(0)), events: [ev] });
        expect(await store.listUndispatchedEvents(10)).toHaveLength(1);
      });

      it('upserts: later commits of the same call update its rows instead of adding new ones', async () => {
        const id = callId(2);
        await store.commit({ call: call(id, at(0)), legs: [leg('leg_1', id, at(0))], userCalls: [userCall(id, '1001', at(0), { type: 'user_inbound_missed', connected_at: null })],
          queueCalls: [groupCall(id, 'Support', at(0))], ringGroupCalls: [groupCall(id, 'Sales', at(0))] });
        await store.commit({
          call: call(id, at(0), { status: 'answered', connected_at: at(1), ended_at: at(3), call_duration: 180, conversation_duration: 120, user_number: '1001' }),
          legs: [leg('leg_1', id, at(0), { answered_at: at(1), ended_at: at(3), final_status: 200, ended_by: 'caller' })],
          userCalls: [userCall(id, '1001', at(0), { connected_at: at(1) })],
          queueCalls: [groupCall(id, 'Support', at(0), { status: 'answered', connected_at: at(1) })],
          ringGroupCalls: [groupCall(id, 'Sales', at(0), { status: 'answered' })],
        });
        expect((await store.getCall(id))?.status).toBe('answered');
        expect((await store.getCall(id))?.ended_at).toBe(at(3));
        expect(await store.listLegs(id)).toEqual([leg('leg_1', id, at(0), { answered_at: at(1), ended_at: at(3), final_status: 200, ended_by: 'caller' })]);
        expect(await store.queryUserCalls(Q)).toEqual([userCall(id, '1001', at(0), { connected_at: at(1) })]);
        expect((await store.queryQueueCalls(Q)).map((r) => r.status)).toEqual(['answered']);
        expect((await store.queryRingGroupCalls(Q)).map((r) => r.status)).toEqual(['answered']);
      });

      it('is atomic: a failing row rolls back the call and its events', async () => {
        const id = callId(3);
        const bad = { ...leg('leg_bad', id, at(0)), started_at: null as unknown as string };
        const err = await store.commit({ call: call(id, at(0)), userCalls: [userCall(id, '1001', at(0))], events: [event(id, 1)], legs: [bad] })
          .then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(StoreError);
        expect((err as StoreError).code).toBe('SB_ERR_STORE');
        expect(await store.getCall(id)).toBeUndefined();
        expect(await store.queryUserCalls(Q)).toEqual([]);
        expect(await store.listUndispatchedEvents(10)).toEqual([]);
      });

      it('rolls back when a CHECK constraint fails, and rejects an unparsable timestamp with a StoreArgumentError', async () => {
        const id = callId(4);
        const badType = { ...userCall(id, '1001', at(0)), type: 'nope' as 'user_inbound_missed' };
        await expect(store.commit({ call: call(id, at(0)), events: [event(id, 1)], userCalls: [badType] })).rejects.toBeInstanceOf(StoreError);
        await expect(store.commit({ call: call(id, 'yesterday'), events: [event(id, 1)] })).rejects.toBeInstanceOf(StoreArgumentError);
        expect(await store.getCall(id)).toBeUndefined();
        expect(await store.listUndispatchedEvents(10)).toEqual([]);
      });

      it('normalizes timestamps to ISO 8601 UTC with milliseconds', async () => {
        const id = callId(5);
        await store.commit({ call: call(id, '2026-01-01T10:00:00+10:00'), userCalls: [userCall(id, '1001', '2026-01-01T00:00:00Z', { connected_at: null })] });
        expect((await store.getCall(id))?.call_start_at).toBe('2026-01-01T00:00:00.000Z');
        expect((await store.queryUserCalls({ ...Q, from: '2026-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }))).toHaveLength(1);
      });
    });

    describe('history queries', () => {
      /** 100 calls for user 1001 one minute apart (call n at minute n), plus noise for 1002 and a shared call. */
      async function seedUser(): Promise<void> {
        for (let n = 1; n <= 100; n++) {
          const id = callId(n);
          await store.commit({ call: call(id, at(n)), userCalls: [userCall(id, '1001', at(n)), ...(n % 10 === 0 ? [userCall(id, '1002', at(n))] : [])] });
        }
      }

      it('a user with 100 calls, offset=50&limit=30, returns calls 51–80 in the chosen order', async () => {
        await seedUser();
        const newest = await store.queryUserCalls({ ...Q, names: ['1001'], offset: 50, limit: 30 });
        expect(newest.map((r) => r.unique_call_id)).toEqual(Array.from({ length: 30 }, (_, i) => callId(50 - i)));
        const oldest = await store.queryUserCalls({ ...Q, sort: 'oldest_first', names: ['1001'], offset: 50, limit: 30 });
        expect(oldest.map((r) => r.unique_call_id)).toEqual(Array.from({ length: 30 }, (_, i) => callId(51 + i)));
      });

      it('from/to bounds are inclusive', async () => {
        await seedUser();
        const rows = await store.queryUserCalls({ ...Q, sort: 'oldest_first', names: ['1001'], from: at(10), to: at(20) });
        expect(rows.map((r) => r.unique_call_id)).toEqual(Array.from({ length: 11 }, (_, i) => callId(10 + i)));
        const justInside = await store.queryUserCalls({ ...Q, names: ['1001'], from: at(10), to: null });
        expect(justInside).toHaveLength(91);
        const toOnly = await store.queryUserCalls({ ...Q, names: ['1001'], from: null, to: at(10) });
        expect(toOnly).toHaveLength(10);
      });

      it('names filters by user_number; without it every user row is returned in a stable order', async () => {
        await seedUser();
        expect(await store.queryUserCalls({ ...Q, names: ['1002'] })).toHaveLength(10);
        expect(await store.queryUserCalls({ ...Q, names: ['1002', '1001'], limit: 1000 })).toHaveLength(110);
        expect(await store.queryUserCalls({ ...Q, names: ['9999'] })).toEqual([]);
        const all = await store.queryUserCalls({ ...Q, limit: 3 });
        expect(all.map((r) => [r.unique_call_id, r.user_number])).toEqual([[callId(100), '1002'], [callId(100), '1001'], [callId(99), '1001']]);
        const page2 = await store.queryUserCalls({ ...Q, sort: 'oldest_first', offset: 10, limit: 2 });
        expect(page2.map((r) => [r.unique_call_id, r.user_number])).toEqual([[callId(10), '1002'], [callId(11), '1001']]);
      });

      it('unique_call_id filters to one call', async () => {
        await seedUser();
        const rows = await store.queryUserCalls({ ...Q, unique_call_id: callId(20) });
        expect(rows.map((r) => r.user_number)).toEqual(['1002', '1001']);
        expect(await store.queryUserCalls({ ...Q, unique_call_id: callId(20), names: ['1001'] })).toHaveLength(1);
        expect(await store.queryUserCalls({ ...Q, unique_call_id: 'missing' })).toEqual([]);
      });

      it('queue and ring group calls filter by group_name, bounds, sort, offset and unique_call_id', async () => {
        for (let n = 1; n <= 12; n++) {
          const id = callId(n);
          await store.commit({ call: call(id, at(n)), queueCalls: [groupCall(id, n % 2 ? 'Support' : 'Billing', at(n))], ringGroupCalls: n % 3 ? [] : [groupCall(id, 'Sales', at(n))] });
        }
        const support = await store.queryQueueCalls({ ...Q, names: ['Support'], sort: 'oldest_first', offset: 1, limit: 2 });
        expect(support.map((r) => r.unique_call_id)).toEqual([callId(3), callId(5)]);
        expect(await store.queryQueueCalls({ ...Q, names: ['Support', 'Billing'], from: at(2), to: at(4) })).toHaveLength(3);
        expect((await store.queryQueueCalls({ ...Q, unique_call_id: callId(4) })).map((r) => r.group_name)).toEqual(['Billing']);
        const sales = await store.queryRingGroupCalls({ ...Q, names: ['Sales'] });
        expect(sales.map((r) => r.unique_call_id)).toEqual([callId(12), callId(9), callId(6), callId(3)]);
        expect(await store.queryRingGroupCalls({ ...Q, names: ['Support'] })).toEqual([]);
      });

      it('rejects a bad offset or limit with a StoreArgumentError', async () => {
        await expect(store.queryUserCalls({ ...Q, offset: -1 })).rejects.toBeInstanceOf(StoreArgumentError);
        await expect(store.queryUserCalls({ ...Q, offset: 100_001 })).rejects.toBeInstanceOf(StoreArgumentError);
        expect(await store.queryUserCalls({ ...Q, offset: 100_000 })).toEqual([]);
        await expect(store.queryUserCalls({ ...Q, limit: 0 })).rejects.toBeInstanceOf(StoreArgumentError);
        await expect(store.queryQueueCalls({ ...Q, limit: 1.5 })).rejects.toBeInstanceOf(StoreArgumentError);
        await expect(store.queryRingGroupCalls({ ...Q, from: 'not a date' })).rejects.toBeInstanceOf(StoreArgumentError);
      });
    });

    describe('outbox and deliveries', () => {
      /** Commits events and fans each out to the given urls; returns the delivery ids per event. */
      async function fanOut(events: ReturnType<typeof event>[], urls: string[], due = T0): Promise<string[][]> {
        await store.commit({ events });
        const ids = events.map((e) => urls.map((u) => `dlv_${e.event_id}_${u.slice(-1)}`));
        await store.createDeliveries(events.flatMap((e, i) => urls.map((u, j) => ({ delivery_id: ids[i]![j]!, event_id: e.event_id, endpoint_url: u, next_attempt_at: due }))));
        return ids;
      }

      it('fans an event out to each endpoint exactly once', async () => {
        const [e1, e2] = [event(callId(1), 1), event(callId(1), 2, { endpoint: { kind: 'component', url: URL_B, secret_token: 't', headers: { 'X-A': '1' } } })];
        await store.commit({ events: [e1!, e2!] });
        expect((await store.listUndispatchedEvents(10)).map((e) => e.event_id)).toEqual([e1!.event_id, e2!.event_id]);
        expect((await store.listUndispatchedEvents(1)).map((e) => e.event_id)).toEqual([e1!.event_id]);
        const rows = [{ delivery_id: 'dlv_1', event_id: e1!.event_id, endpoint_url: URL_A, next_attempt_at: T0 },
          { delivery_id: 'dlv_2', event_id: e2!.event_id, endpoint_url: URL_B, next_attempt_at: T0 }];
        expect(await store.createDeliveries(rows)).toBe(2);
        // A second dispatcher (or a restart) fanning out the same events creates nothing new.
        expect(await store.createDeliveries(rows.map((r) => ({ ...r, delivery_id: `${r.delivery_id}_again` })))).toBe(0);
        await store.markEventsDispatched([e1!.event_id, e2!.event_id]);
        expect(await store.listUndispatchedEvents(10)).toEqual([]);
        expect(await store.countPendingDeliveries()).toBe(2);
        const d = await store.getDelivery('dlv_2');
        expect(d).toMatchObject({ event_id: e2!.event_id, endpoint_url: URL_B, unique_call_id: callId(1), type: 'user_inbound', sequence: 2,
          status: 'pending', attempts: 0, next_attempt_at: T0, last_status_code: null, last_error: null, created_at: T0, updated_at: T0 });
        expect((await store.getEvent(e2!.event_id))?.endpoint).toEqual(e2!.endpoint);
        expect(await store.getDelivery('dlv_2_again')).toBeUndefined();
        // Rows for unknown events are ignored; an explicit created_at is kept.
        expect(await store.createDeliveries([{ delivery_id: 'dlv_x', event_id: 'evt_unknown', endpoint_url: URL_A, next_attempt_at: T0 }])).toBe(0);
        const e3 = event(callId(2), 1);
        await store.commit({ events: [e3] });
        // created_at is an optional extra of both backends (not on the Store type): passed as a wider object.
        const withCreatedAt = { delivery_id: 'dlv_3', event_id: e3.event_id, endpoint_url: URL_A, next_attempt_at: T0 + 5, created_at: T0 };
        expect(await store.createDeliveries([withCreatedAt])).toBe(1);
        expect(await store.getDelivery('dlv_3')).toMatchObject({ created_at: T0, updated_at: T0, next_attempt_at: T0 + 5 });
      });

      it('claims due deliveries only, oldest first, and keeps per-call order per endpoint', async () => {
        const a = callId(1);
        const b = callId(2);
        const [[a1A, a1B], [a2A, a2B], [b1A, b1B]] = await fanOut([event(a, 1), event(a, 2), event(b, 1)], [URL_A, URL_B]);
        const [[late]] = await fanOut([event(null, 1)], [URL_A], T0 + 60_000);
        const claimed = await store.claimDueDeliveries(T0, 10, T0 + 30_000);
        // a2 to URL_A waits for a1 to URL_A, a2 to URL_B for a1 to URL_B; the not-yet-due one is skipped.
        expect(claimed.map((d) => d.delivery_id)).toEqual([a1A, a1B, b1A, b1B]);
        expect(claimed[0]).toMatchObject({ unique_call_id: a, sequence: 1, endpoint_url: URL_A, status: 'pending' });
        // a1 to URL_A succeeds: a2 to URL_A becomes claimable; a2 to URL_B still waits for a1 to URL_B.
        await store.recordAttempt({ delivery_id: a1A!, attempt: 1, at: T0 + 10, status_code: 200, error: null, duration_ms: 10 },
          { status: 'succeeded', next_attempt_at: null, last_status_code: 200, last_error: null });
        expect((await store.claimDueDeliveries(T0 + 20, 10, T0 + 30_000)).map((d) => d.delivery_id)).toEqual([a2A]);
        // Leases over: everything pending and due comes back, except a2 to URL_B (a1 to URL_B is still pending).
        const later = await store.claimDueDeliveries(T0 + 60_000, 10, T0 + 90_000);
        expect(later.map((d) => d.delivery_id)).toEqual([a1B, a2A, b1A, b1B, late]);
        expect(later.map((d) => d.delivery_id)).not.toContain(a2B);
        expect(await store.claimDueDeliveries(T0 + 60_000, 1, T0 + 90_000)).toEqual([]);
      });

      it('a failed earlier delivery no longer blocks the call; a retrying one does', async () => {
        const a = callId(1);
        const [[a1], [a2], [b1]] = await fanOut([event(a, 1), event(a, 2), event(callId(2), 1)], [URL_A]);
        const [[a3B]] = await fanOut([event(a, 3)], [URL_B]);
        expect((await store.claimDueDeliveries(T0, 10, T0 + 10_000)).map((d) => d.delivery_id)).toEqual([a1, b1, a3B]);
        await store.recordAttempt({ delivery_id: a1!, attempt: 1, at: T0, status_code: 500, error: 'HTTP 500', duration_ms: 5 },
          { status: 'pending', next_attempt_at: T0 + 5000, last_status_code: 500, last_error: 'HTTP 500' });
        expect(await store.claimDueDeliveries(T0 + 1000, 10, T0 + 2000)).toEqual([]);
        // The retry holds a2 back to a1's next attempt (claiming no longer walks past it); other calls are untouched.
        expect(await store.getDelivery(a2!)).toMatchObject({ status: 'pending', next_attempt_at: T0 + 5000, attempts: 0 });
        await store.recordAttempt({ delivery_id: a1!, attempt: 2, at: T0 + 5000, status_code: null, error: 'horizon reached', duration_ms: 5 },
          { status: 'failed', next_attempt_at: null, last_status_code: null, last_error: 'horizon reached' });
        expect((await store.claimDueDeliveries(T0 + 5000, 10, T0 + 6000)).map((d) => d.delivery_id)).toEqual([a2]);
        expect(await store.getDelivery(b1!)).toMatchObject({ next_attempt_at: T0 });
        expect(await store.getDelivery(a3B!)).toMatchObject({ next_attempt_at: T0 });
      });

      it('skips excluded endpoints when claiming, releases unsent claims, and keeps each delivery\'s config version', async () => {
        const e1 = event(callId(1), 1);
        const e2 = event(callId(2), 1);
        await store.commit({ events: [e1, e2] });
        await store.createDeliveries([
          { delivery_id: 'dlv_a', event_id: e1.event_id, endpoint_url: URL_A, next_attempt_at: T0, config_version: 7 },
          { delivery_id: 'dlv_b', event_id: e2.event_id, endpoint_url: URL_B, next_attempt_at: T0 },
        ]);
        expect(await store.getDelivery('dlv_a')).toMatchObject({ config_version: 7 });
        expect(await store.getDelivery('dlv_b')).toMatchObject({ config_version: null });
        const claimed = await store.claimDueDeliveries(T0, 10, T0 + 30_000, [URL_A]);
        expect(claimed.map((d) => d.delivery_id)).toEqual(['dlv_b']);
        expect((await store.claimDueDeliveries(T0, 10, T0 + 30_000)).map((d) => [d.delivery_id, d.config_version])).toEqual([['dlv_a', 7]]);
        await store.releaseDeliveries(['dlv_a']);
        expect((await store.claimDueDeliveries(T0 + 1, 10, T0 + 30_000)).map((d) => d.delivery_id)).toEqual(['dlv_a']);
      });

      it('a claimed row is leased: not claimable again until the lease expires (crashed dispatcher)', async () => {
        const [[d1]] = await fanOut([event(callId(1), 1)], [URL_A]);
        expect((await store.claimDueDeliveries(T0, 10, T0 + 30_000)).map((d) => d.delivery_id)).toEqual([d1]);
        expect(await store.claimDueDeliveries(T0 + 1000, 10, T0 + 31_000)).toEqual([]);
        expect(await store.claimDueDeliveries(T0 + 29_999, 10, T0 + 60_000)).toEqual([]);
        expect((await store.claimDueDeliveries(T0 + 30_000, 10, T0 + 60_000)).map((d) => d.delivery_id)).toEqual([d1]);
        expect(await store.countPendingDeliveries()).toBe(1);
      });

      it('records attempts, lists them in order, and lists deliveries with filters newest first', async () => {
        const [[d1, d2], [d3, d4]] = await fanOut([event(callId(1), 1), event(callId(2), 1)], [URL_A, URL_B]);
        await store.claimDueDeliveries(T0, 10, T0 + 30_000);
        await store.recordAttempt({ delivery_id: d1!, attempt: 1, at: T0 + 1, status_code: 503, error: 'HTTP 503', duration_ms: 12 },
          { status: 'pending', next_attempt_at: T0 + 5000, last_status_code: 503, last_error: 'HTTP 503' });
        await store.recordAttempt({ delivery_id: d1!, attempt: 2, at: T0 + 5001, status_code: 200, error: null, duration_ms: 8 },
          { status: 'succeeded', next_attempt_at: null, last_status_code: 200, last_error: null });
        expect(await store.listAttempts(d1!)).toEqual([
          { delivery_id: d1, attempt: 1, at: T0 + 1, status_code: 503, error: 'HTTP 503', duration_ms: 12 },
          { delivery_id: d1, attempt: 2, at: T0 + 5001, status_code: 200, error: null, duration_ms: 8 },
        ]);
        expect(await store.getDelivery(d1!)).toMatchObject({ status: 'succeeded', attempts: 2, next_attempt_at: null, last_status_code: 200, updated_at: T0 + 5001 });
        expect(await store.listAttempts(d2!)).toEqual([]);
        const all = await store.listDeliveries({ offset: 0, limit: 10 });
        expect(all.map((d) => d.delivery_id)).toEqual([d4, d3, d2, d1]);
        expect((await store.listDeliveries({ endpoint_url: URL_A, offset: 0, limit: 10 })).map((d) => d.delivery_id)).toEqual([d3, d1]);
        expect((await store.listDeliveries({ status: 'succeeded', offset: 0, limit: 10 })).map((d) => d.delivery_id)).toEqual([d1]);
        expect((await store.listDeliveries({ unique_call_id: callId(1), status: 'pending', offset: 0, limit: 10 })).map((d) => d.delivery_id)).toEqual([d2]);
        expect((await store.listDeliveries({ offset: 1, limit: 2 })).map((d) => d.delivery_id)).toEqual([d3, d2]);
        await expect(store.recordAttempt({ delivery_id: 'dlv_missing', attempt: 1, at: T0, status_code: 200, error: null, duration_ms: 1 },
          { status: 'succeeded', next_attempt_at: null, last_status_code: 200, last_error: null })).rejects.toBeInstanceOf(StoreError);
      });

      it('fanOutEvents creates deliveries and marks events dispatched in one step', async () => {
        const [e1, e2, e3] = [event(callId(1), 1), event(callId(1), 2), event(callId(2), 1)];
        await store.commit({ events: [e1!, e2!, e3!] });
        expect(await store.countUndispatchedEvents()).toBe(3);
        // e3 has no endpoint: marked without a row. Unknown events are ignored.
        const rows = [{ delivery_id: 'dlv_1', event_id: e1!.event_id, endpoint_url: URL_A, next_attempt_at: T0 },
          { delivery_id: 'dlv_2', event_id: e2!.event_id, endpoint_url: URL_A, next_attempt_at: T0 + 1 },
          { delivery_id: 'dlv_x', event_id: 'evt_unknown', endpoint_url: URL_A, next_attempt_at: T0 }];
        expect(await store.fanOutEvents(rows, [e1!.event_id, e2!.event_id, e3!.event_id])).toBe(2);
        expect(await store.countUndispatchedEvents()).toBe(0);
        expect(await store.listUndispatchedEvents(10)).toEqual([]);
        expect(await store.getDelivery('dlv_2')).toMatchObject({ event_id: e2!.event_id, unique_call_id: callId(1), sequence: 2, status: 'pending',
          attempts: 0, next_attempt_at: T0 + 1, created_at: T0 + 1 });
        // A repeated fan-out (another dispatcher, a restart) creates nothing; creation order is kept.
        expect(await store.fanOutEvents(rows.map((r) => ({ ...r, delivery_id: `${r.delivery_id}_again` })), [e1!.event_id])).toBe(0);
        expect((await store.listDeliveries({ offset: 0, limit: 10 })).map((d) => d.delivery_id)).toEqual(['dlv_2', 'dlv_1']);
        expect(await store.fanOutEvents([], [])).toBe(0);
      });

      it('recordAttempts writes many attempts at once, all or nothing', async () => {
        const a = callId(1);
        const [[a1], [a2], [b1]] = await fanOut([event(a, 1), event(a, 2), event(callId(2), 1)], [URL_A]);
        expect((await store.claimDueDeliveries(T0, 10, T0 + 30_000)).map((d) => d.delivery_id)).toEqual([a1, b1]);
        await store.recordAttempts([]);
        await store.recordAttempts([
          { attempt: { delivery_id: a1!, attempt: 1, at: T0 + 5, status_code: 200, error: null, duration_ms: 4 },
            update: { status: 'succeeded', next_attempt_at: null, last_status_code: 200, last_error: null } },
          { attempt: { delivery_id: b1!, attempt: 1, at: T0 + 6, status_code: 503, error: 'HTTP 503', duration_ms: 7 },
            update: { status: 'pending', next_attempt_at: T0 + 5000, last_status_code: 503, last_error: 'HTTP 503' } },
        ]);
        expect(await store.getDelivery(a1!)).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 200, updated_at: T0 + 5, next_attempt_at: null });
        expect(await store.getDelivery(b1!)).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 503, last_error: 'HTTP 503', next_attempt_at: T0 + 5000 });
        expect(await store.listAttempts(b1!)).toEqual([{ delivery_id: b1, attempt: 1, at: T0 + 6, status_code: 503, error: 'HTTP 503', duration_ms: 7 }]);
        // Leases ended with the records: a2 (after a1) is claimable now; b1 is not due yet.
        expect((await store.claimDueDeliveries(T0 + 10, 10, T0 + 30_000)).map((d) => d.delivery_id)).toEqual([a2]);
        // An unknown delivery rejects the batch, and nothing of it is written.
        await expect(store.recordAttempts([
          { attempt: { delivery_id: a2!, attempt: 1, at: T0 + 20, status_code: 200, error: null, duration_ms: 1 },
            update: { status: 'succeeded', next_attempt_at: null, last_status_code: 200, last_error: null } },
          { attempt: { delivery_id: 'dlv_missing', attempt: 1, at: T0 + 20, status_code: 200, error: null, duration_ms: 1 },
            update: { status: 'succeeded', next_attempt_at: null, last_status_code: 200, last_error: null } },
        ])).rejects.toMatchObject({ code: 'SB_ERR_STORE', operation: 'recordAttempts' });
        expect(await store.getDelivery(a2!)).toMatchObject({ status: 'pending', attempts: 0 });
        expect(await store.listAttempts(a2!)).toEqual([]);
      });

      it('redeliver sets deliveries back to pending, due now', async () => {
        const [[d1], [d2]] = await fanOut([event(callId(1), 1), event(callId(2), 1)], [URL_A]);
        for (const id of [d1!, d2!]) {
          await store.recordAttempt({ delivery_id: id, attempt: 1, at: T0, status_code: 400, error: 'HTTP 400', duration_ms: 3 },
            { status: 'failed', next_attempt_at: null, last_status_code: 400, last_error: 'HTTP 400' });
        }
        expect(await store.countPendingDeliveries()).toBe(0);
        expect(await store.redeliver([d1!, 'dlv_missing'], T0 + 100)).toBe(1);
        expect(await store.getDelivery(d1!)).toMatchObject({ status: 'pending', next_attempt_at: T0 + 100, attempts: 1, updated_at: T0 + 100 });
        expect(await store.countPendingDeliveries()).toBe(1);
        expect((await store.claimDueDeliveries(T0 + 100, 10, T0 + 1000)).map((d) => d.delivery_id)).toEqual([d1]);
        // A manual redelivery under the live settings: the new URL and configuration version.
        expect(await store.redeliver([d2!], T0 + 200, { endpoint_url: URL_B, config_version: 7 })).toBe(1);
        expect(await store.getDelivery(d2!)).toMatchObject({ status: 'pending', endpoint_url: URL_B, config_version: 7, next_attempt_at: T0 + 200 });
      });

      it('disables and re-enables an endpoint', async () => {
        expect(await store.isEndpointDisabled(URL_A)).toBe(false);
        await store.setEndpointDisabled(URL_A, true, 'HTTP 410 Gone');
        expect(await store.isEndpointDisabled(URL_A)).toBe(true);
        expect(await store.isEndpointDisabled(URL_B)).toBe(false);
        await store.setEndpointDisabled(URL_A, false, null);
        expect(await store.isEndpointDisabled(URL_A)).toBe(false);
      });
    });

    describe('configuration versions', () => {
      it('assigns max+1, reads latest and by number, keeps one staged config', async () => {
        expect(await store.getLatestConfigVersion()).toBeUndefined();
        expect(await store.insertConfigVersion(pbxConfig('one'), '2026-01-01T00:00:00.000Z')).toBe(1);
        expect(await store.insertConfigVersion(pbxConfig('two'), '2026-01-02T00:00:00.000Z')).toBe(2);
        expect(await store.getLatestConfigVersion()).toEqual({ version: 2, config: pbxConfig('two'), created_at: '2026-01-02T00:00:00.000Z' });
        expect(await store.getConfigVersion(1)).toMatchObject({ version: 1, config: { pbx: { name: 'one' } } });
        expect(await store.getConfigVersion(3)).toBeUndefined();
        const parallel = await Promise.all([1, 2, 3].map((i) => store.insertConfigVersion(pbxConfig(`p${i}`), '2026-01-03T00:00:00.000Z')));
        expect([...parallel].sort()).toEqual([3, 4, 5]);
        expect(await store.getStagedConfig()).toBeUndefined();
        await store.setStagedConfig(pbxConfig('staged'));
        await store.setStagedConfig(pbxConfig('staged2'));
        expect(await store.getStagedConfig()).toEqual(pbxConfig('staged2'));
        await store.setStagedConfig(null);
        expect(await store.getStagedConfig()).toBeUndefined();
      });
    });

    dataSafetyContract(() => store);
    batchingContract(() => store);

    describe('admin keys and the audit log', () => {
      const key = (id: string, at: number) => ({ key_id: id, name: `key ${id}`, key_hash: `hash-${id}`, created_at: at, last_used_at: null, revoked_at: null });
      it('stores keys by digest, finds active ones only, revokes once, records last use', async () => {
        await store.insertAdminKey(key('adk_1', T0));
        await store.insertAdminKey(key('adk_2', T0 + 1));
        expect(await store.findAdminKey('hash-adk_1')).toEqual(key('adk_1', T0));
        expect(await store.findAdminKey('nope')).toBeUndefined();
        await store.touchAdminKey('adk_1', T0 + 50);
        expect(await store.revokeAdminKey('adk_2', T0 + 60)).toBe(true);
        expect(await store.revokeAdminKey('adk_2', T0 + 61)).toBe(false);
        expect(await store.findAdminKey('hash-adk_2')).toBeUndefined();
        expect(await store.listAdminKeys()).toEqual([{ ...key('adk_1', T0), last_used_at: T0 + 50 }, { ...key('adk_2', T0 + 1), revoked_at: T0 + 60 }]);
        await expect(store.insertAdminKey({ ...key('adk_3', T0), key_hash: 'hash-adk_1' })).rejects.toBeInstanceOf(StoreError);
      });

      it('appends audit entries and pages them newest first', async () => {
        for (let i = 0; i < 5; i++) {
          await store.appendAudit({ at: T0 + i, key_id: 'adk_1', key_name: 'ops', source_ip: '127.0.0.1', method: 'PATCH', path: `/api/admin/users/${i}`, status: 200, changes: { body: { n: i } } });
        }
        const page = await store.listAudit({ offset: 1, limit: 2 });
        expect(page.map((e) => e.path)).toEqual(['/api/admin/users/3', '/api/admin/users/2']);
        expect(page[0]).toMatchObject({ at: T0 + 3, key_id: 'adk_1', key_name: 'ops', source_ip: '127.0.0.1', method: 'PATCH', status: 200, changes: { body: { n: 3 } } });
        expect(typeof page[0]!.seq).toBe('number');
        await expect(store.listAudit({ offset: -1, limit: 2 })).rejects.toBeInstanceOf(StoreArgumentError);
      });
    });

    describe('voicemail', () => {
      const vm = (id: string, over: Partial<VoicemailRecord> = {}): VoicemailRecord => ({
        message_id: id, user_number: '1001', unique_call_id: `call-${id}`, caller_id: '+61400000001', caller_name: 'Carol',
        dest_number: '+61390000000', recorded_at: '2026-12-02T01:00:00.000Z', path: `/data/voicemail/1001/${id}.wav`,
        duration_ms: 4200, size_bytes: 67244, sha256: 'ab'.repeat(32), heard_at: null,
        mail_status: 'pending', mail_to: 'alice@example.com', mail_attempts: 0, mail_next_at: T0, mail_last_error: null, mail_sent_at: null,
        ...over,
      });

      it('inserts messages with their event in one commit and lists a box newest first', async () => {
        const ev = event('vm-call', 1, { type: 'voicemail' });
        await store.commit({ voicemails: [vm('vm_1'), vm('vm_2', { recorded_at: '2026-12-02T02:00:00.000Z' }), vm('vm_3', { user_number: '1002' })], events: [ev] });
        expect((await store.listVoicemails({ user_number: '1001', offset: 0, limit: 10 })).map((v) => v.message_id)).toEqual(['vm_2', 'vm_1']);
        expect(await store.getVoicemail('vm_1')).toEqual(vm('vm_1'));
        expect(await store.getEvent(ev.event_id)).toMatchObject({ event_id: ev.event_id, type: 'voicemail' });
        expect(await store.getVoicemail('vm_nope')).toBeUndefined();
        await expect(store.listVoicemails({ user_number: '1001', offset: 0, limit: 0 })).rejects.toBeInstanceOf(StoreArgumentError);
      });

      it('marks heard, filters unheard, deletes', async () => {
        await store.commit({ voicemails: [vm('vm_1'), vm('vm_2')] });
        expect(await store.setVoicemailHeard('vm_1', '2026-12-02T03:00:00.000Z')).toBe(true);
        expect((await store.getVoicemail('vm_1'))!.heard_at).toBe('2026-12-02T03:00:00.000Z');
        expect((await store.listVoicemails({ user_number: '1001', unheard: true, offset: 0, limit: 10 })).map((v) => v.message_id)).toEqual(['vm_2']);
        expect(await store.setVoicemailHeard('vm_1', null)).toBe(true);
        expect((await store.getVoicemail('vm_1'))!.heard_at).toBeNull();
        expect(await store.setVoicemailHeard('vm_x', null)).toBe(false);
        expect(await store.deleteVoicemail('vm_2')).toBe(true);
        expect(await store.deleteVoicemail('vm_2')).toBe(false);
        expect((await store.listVoicemails({ user_number: '1001', offset: 0, limit: 10 })).map((v) => v.message_id)).toEqual(['vm_1']);
      });

      it('lists due mail and keeps each try', async () => {
        await store.commit({ voicemails: [vm('vm_1', { mail_next_at: T0 + 10 }), vm('vm_2', { mail_next_at: T0 }), vm('vm_3', { mail_status: 'none', mail_next_at: null })] });
        expect((await store.listVoicemailMailDue(T0 + 5, 10)).map((v) => v.message_id)).toEqual(['vm_2']);
        expect((await store.listVoicemailMailDue(T0 + 10, 10)).map((v) => v.message_id)).toEqual(['vm_2', 'vm_1']);
        await store.updateVoicemailMail('vm_2', { mail_status: 'sent', mail_attempts: 1, mail_next_at: null, mail_last_error: null, mail_sent_at: '2026-12-02T01:00:05.000Z' });
        await store.updateVoicemailMail('vm_1', { mail_status: 'failed', mail_attempts: 6, mail_next_at: null, mail_last_error: '421 try later', mail_sent_at: null });
        expect(await store.listVoicemailMailDue(T0 + 100, 10)).toEqual([]);
        expect(await store.getVoicemail('vm_2')).toMatchObject({ mail_status: 'sent', mail_attempts: 1, mail_sent_at: '2026-12-02T01:00:05.000Z' });
        expect((await store.listVoicemailMailFailures({ offset: 0, limit: 10 })).map((v) => [v.message_id, v.mail_last_error])).toEqual([['vm_1', '421 try later']]);
      });
    });

    describe('recordings', () => {
      const rec = (n: number, over: Partial<RecordingRecord> = {}): RecordingRecord => ({
        recording_id: `rec_${String(n).padStart(16, '0')}`, unique_call_id: callId(n % 3), leg_id: `leg_${n}`, direction: 'inbound',
        user_number: n % 2 ? '1001' : '1002', path: `/var/rec/${n}.wav`, duration_ms: 1000 + n, size_bytes: 44 + 16 * n, sha256: 'ab'.repeat(32),
        problems: n === 2 ? ['disk-full'] : [], created_at: new Date(T0 + n * 60_000).toISOString(), ...over,
      });

      it('writes recordings with the call commit and reads them back exactly', async () => {
        await store.commit({ recordings: [rec(1), rec(2)], events: [event(callId(1), 1, { type: 'recording_inbound' })] });
        expect(await store.getRecording(rec(2).recording_id)).toEqual(rec(2));
        expect(await store.getRecording('rec_nope')).toBeUndefined();
        // A retried commit writes the same row again, not a second one.
        await store.commit({ recordings: [rec(1, { duration_ms: 5 })] });
        expect((await store.getRecording(rec(1).recording_id))!.duration_ms).toBe(5);
      });

      it('lists newest first with filters and paging; deletes one; lists old ones for the sweeper', async () => {
        await store.commit({ recordings: [1, 2, 3, 4, 5, 6].map((n) => rec(n)) });
        const ids = (rs: RecordingRecord[]) => rs.map((r) => Number(r.recording_id.slice(4)));
        expect(ids(await store.listRecordings({ offset: 0, limit: 100 }))).toEqual([6, 5, 4, 3, 2, 1]);
        expect(ids(await store.listRecordings({ offset: 1, limit: 2 }))).toEqual([5, 4]);
        expect(ids(await store.listRecordings({ user_number: '1001', offset: 0, limit: 100 }))).toEqual([5, 3, 1]);
        expect(ids(await store.listRecordings({ unique_call_id: callId(0), offset: 0, limit: 100 }))).toEqual([6, 3]);
        expect(ids(await store.listRecordings({ from: rec(2).created_at, to: rec(5).created_at, offset: 0, limit: 100 }))).toEqual([4, 3, 2]);
        expect(ids(await store.listRecordingsBefore(T0 + 3 * 60_000, 10))).toEqual([1, 2]);
        expect(ids(await store.listRecordingsBefore(T0 + 10 * 60_000, 2))).toEqual([1, 2]);
        expect(await store.deleteRecording(rec(3).recording_id)).toBe(true);
        expect(await store.deleteRecording(rec(3).recording_id)).toBe(false);
        expect(ids(await store.listRecordings({ offset: 0, limit: 100 }))).toEqual([6, 5, 4, 2, 1]);
        // The sweeper's batch: several rows in one go; unknown ids count nothing.
        expect(await store.deleteRecordings([rec(1).recording_id, rec(4).recording_id, 'rec_ffffffffffffffff'])).toBe(2);
        expect(await store.deleteRecordings([])).toBe(0);
        expect(ids(await store.listRecordings({ offset: 0, limit: 100 }))).toEqual([6, 5, 2]);
      });

      it('refuses bad arguments with StoreArgumentError', async () => {
        await expect(store.listRecordings({ offset: -1, limit: 10 })).rejects.toBeInstanceOf(StoreArgumentError);
        await expect(store.listRecordings({ offset: 0, limit: 100_000 })).rejects.toBeInstanceOf(StoreArgumentError);
        await expect(store.listRecordings({ from: 'yesterday', offset: 0, limit: 10 })).rejects.toBeInstanceOf(StoreArgumentError);
        await expect(store.commit({ recordings: [rec(1, { created_at: 'soon' })] })).rejects.toBeInstanceOf(StoreArgumentError);
        await expect(store.commit({ recordings: [rec(1, { duration_ms: -1 })] })).rejects.toBeInstanceOf(StoreArgumentError);
        expect(await store.listRecordings({ offset: 0, limit: 10 })).toEqual([]);
      });
    });

    extra?.(() => store, () => opened.another());
  });
}

/** Asserts a list of claimed deliveries has no duplicate ids. */
export function expectDistinct(batches: Delivery[][]): string[] {
  const ids = batches.flat().map((d) => d.delivery_id);
  expect(new Set(ids).size).toBe(ids.length);
  return ids;
}
