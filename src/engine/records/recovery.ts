/**
 * Crash recovery (issue 11): after a restart, the calls a previous run of this engine left open (no `ended_at`:
 * the process was killed mid-call) are closed as a normal end would close them, from what the store holds.
 *
 * The call's events tell which users were rung or placed the call, who answered and when, and which touches were
 * already completed; each touch still open gets its `user_inbound_completed` / `user_outbound_completed` event and
 * history row, each queue or ring group the call was in gets its `queue_call` / `ring_group_call` (answered by the
 * agent who answered, else abandoned), and the call record is closed with hangup_cause `engine-restart` — all in one
 * commit, as for a normal end.
 *
 * End time: the last moment the crashed run is known to have been alive — its last heartbeat (written every few
 * seconds), or the call's latest stored step if that is later. Not the restart time: the parties may have hung up
 * any time after the crash, and counting the downtime would bill talk that may never have happened; durations may
 * instead be short by up to one heartbeat interval.
 *
 * Then every saved dialog of a leg still up gets a BYE built from the saved dialog (§12.2.1.1), sent through srf as
 * a new request with the dialog's Call-ID, tags, a higher CSeq and its route set, to the address the dialog used.
 */
import type { Logger } from '../../common/index.js';
import { toOutboxEvent, type EventFieldsByType, type EventType } from '../../events/index.js';
import type { CallCommit, CallRecord, GroupCallRecord, LegDialogRecord, LegRecord, OutboxEvent, Store, UserCallRecord } from '../../store/index.js';
import type { SrfLike } from '../srf-types.js';
import { durationS, isoUtc } from './time.js';

/** hangup_cause of a call closed by recovery. */
export const RESTART_CAUSE = 'engine-restart';
/** Added to a dialog's saved CSeq for the BYE: above any re-INVITE the call may have sent after it was saved. */
const CSEQ_STEP = 100;

interface Touch {
  direction: 'inbound' | 'outbound';
  fields: Record<string, unknown>;
  connectedAt: string | null;
  done: boolean;
}

/** The commit that closes `call` at `endMs`, rebuilt from its events and legs. */
export function recoveryCommit(call: CallRecord, events: readonly OutboxEvent[], legs: readonly LegRecord[], endMs: number): CallCommit {
  const touches: Touch[] = [];
  const closedGroups = new Set<string>();
  const open = (dir: Touch['direction'], user: unknown) => [...touches].reverse().find((t) => t.direction === dir && !t.done && t.fields.user_number === user);
  let sequence = 0;
  for (const e of events) {
    sequence = Math.max(sequence, e.sequence);
    const p = e.payload;
    const dir = e.type.startsWith('user_inbound') ? 'inbound' : 'outbound';
    if (e.type === 'user_inbound' || e.type === 'user_outbound') touches.push({ direction: dir, fields: pickFields(p, dir), connectedAt: null, done: false });
    else if (e.type === 'user_inbound_answered' || e.type === 'user_outbound_answered') { const t = open(dir, p.user_number); if (t) t.connectedAt = p.connected_at as string; }
    else if (e.type === 'user_inbound_completed' || e.type === 'user_outbound_completed') { const t = open(dir, p.user_number); if (t) t.done = true; }
    else if (e.type === 'queue_call') closedGroups.add(`queue|${String(p.queue_name)}`);
    else if (e.type === 'ring_group_call') closedGroups.add(`ring_group|${String(p.ring_group_name)}`);
  }
  const startMs = Date.parse(call.call_start_at);
  const end = isoUtc(endMs);
  const newEvents: OutboxEvent[] = [];
  const add = <T extends EventType>(type: T, fields: Record<string, unknown>) =>
    newEvents.push(toOutboxEvent(type, fields as EventFieldsByType[T], { unique_call_id: call.unique_call_id, sequence: ++sequence, occurred_at: end }));
  const talk = (connectedAt: string | null) => (connectedAt === null ? 0 : durationS(Date.parse(connectedAt), endMs));
  const userCalls: UserCallRecord[] = [];
  for (const t of touches.filter((x) => !x.done)) {
    add(t.direction === 'inbound' ? 'user_inbound_completed' : 'user_outbound_completed',
      { ...t.fields, connected_at: t.connectedAt, call_duration: durationS(startMs, endMs), conversation_duration: talk(t.connectedAt) });
    const f = t.fields as { caller_id: string | null; caller_name: string | null; dest_number: string | null; user_name: string; user_number: string };
    userCalls.push({
      unique_call_id: call.unique_call_id, type: `user_${t.direction}_${t.connectedAt ? 'answered' : 'missed'}`, caller_id: f.caller_id,
      caller_name: f.caller_name, dest_number: f.dest_number, user_name: f.user_name, user_number: f.user_number, call_start_at: call.call_start_at,
      connected_at: t.connectedAt, call_duration: durationS(startMs, endMs), conversation_duration: talk(t.connectedAt),
    });
  }
  const groups = groupRows(call, touches, closedGroups, startMs, endMs);
  for (const g of groups.queueCalls) add('queue_call', { ...groupFields(g), queue_name: g.group_name });
  for (const g of groups.ringGroupCalls) add('ring_group_call', { ...groupFields(g), ring_group_name: g.group_name });
  const connectedAt = call.connected_at ?? touches.find((t) => t.connectedAt)?.connectedAt ?? null;
  return {
    call: {
      ...call, connected_at: connectedAt, ended_at: end, call_duration: durationS(startMs, endMs), conversation_duration: talk(connectedAt),
      status: connectedAt ? 'answered' : 'missed', hangup_cause: RESTART_CAUSE,
    },
    legs: legs.filter((l) => l.ended_at === null).map((l) => ({ ...l, ended_at: end, ended_by: 'pbx' })),
    userCalls, ...groups, events: newEvents, dropDialogs: true,
  };
}

function pickFields(p: Record<string, unknown>, dir: Touch['direction']): Record<string, unknown> {
  const keys = ['caller_id', 'caller_name', 'user_name', 'user_number', 'dest_number', 'call_start_at', ...(dir === 'inbound' ? ['queue_name', 'ring_group_name'] : [])];
  return Object.fromEntries(keys.map((k) => [k, p[k] ?? null]));
}

/** Queue / ring-group rows for every group a touch was rung from and no event closed yet. */
function groupRows(call: CallRecord, touches: Touch[], closed: Set<string>, startMs: number, endMs: number): { queueCalls: GroupCallRecord[]; ringGroupCalls: GroupCallRecord[] } {
  const out = { queueCalls: [] as GroupCallRecord[], ringGroupCalls: [] as GroupCallRecord[] };
  for (const kind of ['queue', 'ring_group'] as const) {
    const key = kind === 'queue' ? 'queue_name' : 'ring_group_name';
    const names = new Set(touches.map((t) => t.fields[key]).filter((n): n is string => typeof n === 'string' && !closed.has(`${kind}|${n}`)));
    for (const name of names) {
      const agent = touches.find((t) => t.fields[key] === name && t.connectedAt);
      const row: GroupCallRecord = {
        unique_call_id: call.unique_call_id, group_name: name, caller_id: call.caller_id, caller_name: call.caller_name, dest_number: call.dest_number,
        user_name: (agent?.fields.user_name as string | undefined) ?? null, user_number: (agent?.fields.user_number as string | undefined) ?? null,
        call_start_at: call.call_start_at, connected_at: agent?.connectedAt ?? null, call_duration: durationS(startMs, endMs),
        conversation_duration: agent?.connectedAt ? durationS(Date.parse(agent.connectedAt), endMs) : 0, status: agent ? 'answered' : 'abandoned',
      };
      (kind === 'queue' ? out.queueCalls : out.ringGroupCalls).push(row);
    }
  }
  return out;
}

function groupFields(g: GroupCallRecord): Record<string, unknown> {
  return {
    caller_id: g.caller_id, caller_name: g.caller_name, user_name: g.user_name, user_number: g.user_number, dest_number: g.dest_number,
    call_start_at: g.call_start_at, connected_at: g.connected_at, call_duration: g.call_duration, conversation_duration: g.conversation_duration, status: g.status,
  };
}

/** The latest instant the store holds for a call (its events and legs). */
function lastKnownMs(call: CallRecord, events: readonly OutboxEvent[], legs: readonly LegRecord[]): number {
  const times = [call.call_start_at, call.connected_at, ...events.map((e) => e.occurred_at), ...legs.flatMap((l) => [l.started_at, l.answered_at])];
  return Math.max(...times.filter((t): t is string => t !== null).map((t) => Date.parse(t)));
}

/** What {@link recoverCalls} needs. */
export interface RecoveryDeps {
  store: Store;
  srf: SrfLike;
  log: Logger;
  /** This engine's node id: only its calls (the unique_call_id's last two digits) are recovered. */
  nodeId: number;
  /** The previous run's last heartbeat (epoch ms), if any. */
  lastAliveMs: number | undefined;
  onCommitted?: () => void;
}

/** Closes the calls a crashed run left open and hangs up their legs; returns how many calls were closed. */
export async function recoverCalls(d: RecoveryDeps): Promise<number> {
  let closed = 0;
  const failed = new Set<string>();
  for (;;) {
    // Only this engine's calls are read, by the store (the others' may be live, and many): 500 at a time, past those
    // that failed.
    const open = (await d.store.listUnfinishedCalls(500 + failed.size, d.nodeId)).filter((c) => !failed.has(c.unique_call_id));
    if (open.length === 0) return closed;
    for (const call of open) {
      const [events, legs, dialogs] = await Promise.all([d.store.listCallEvents(call.unique_call_id), d.store.listLegs(call.unique_call_id), d.store.listLegDialogs(call.unique_call_id)]);
      const endMs = Math.max(d.lastAliveMs ?? 0, lastKnownMs(call, events, legs));
      const commit = recoveryCommit(call, events, legs, endMs);
      try {
        await d.store.commit(commit);
      } catch (err) {
        // Left open (and tried again at the next start); the other calls are still recovered.
        failed.add(call.unique_call_id);
        d.log.error({ err, unique_call_id: call.unique_call_id }, 'recovery: could not close a call left open by a crash');
        continue;
      }
      closed++;
      d.onCommitted?.();
      const up = dialogs.filter((x) => legs.find((l) => l.leg_id === x.leg_id)?.ended_at == null);
      d.log.warn({ unique_call_id: call.unique_call_id, ended_at: commit.call!.ended_at, events: commit.events!.map((e) => e.type), byes: up.length },
        'recovery: closed a call left open by a crash (hangup_cause engine-restart)');
      for (const dialog of up) sendBye(d, dialog);
    }
  }
}

/** A BYE for a saved dialog, sent as a new request carrying the dialog's identifiers (RFC 3261 §12.2.1.1, §15.1.1). */
function sendBye(d: RecoveryDeps, x: LegDialogRecord): void {
  const headers: Record<string, string> = {
    From: x.local_header, To: x.remote_header, 'Call-ID': x.call_id, CSeq: `${x.local_cseq + CSEQ_STEP} BYE`, Reason: 'SIP;cause=500;text="engine restart"',
  };
  if (x.route_set.length > 0) headers.Route = x.route_set.join(', ');
  const log = d.log.child({ leg_id: x.leg_id, call_id: x.call_id });
  try {
    d.srf.request(x.remote_target, { method: 'BYE', headers, proxy: x.destination }, (err, req) => {
      if (err) return log.warn({ err: String(err) }, 'recovery: BYE not sent');
      req.on('response', (res) => log.info({ status: res.status }, 'recovery: BYE answered'));
    });
  } catch (err) {
    log.warn({ err: String(err) }, 'recovery: BYE not sent');
  }
}
