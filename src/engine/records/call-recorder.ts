/**
 * Writes one call's history and events (SPEC.md §3): the call record, its legs, one user-call row per user the
 * call touched, and the compat events, each step committed in ONE store transaction (record + events together)
 * with a per-call `sequence`. Commits are chained so they reach the store in order; `flushed()` awaits them.
 */
import type { Clock } from '../../common/index.js';
import type { Logger } from '../../common/index.js';
import type { UserConfig } from '../../config/index.js';
import { compatNumber, toOutboxEvent, type EventFieldsByType, type EventType } from '../../events/index.js';
import type { CallCommit, CallDirection, CallRecord, EndpointRef, GroupCallRecord, LegDialogRecord, LegRecord, OutboxEvent, RecordingRecord, Store, UserCallRecord, VoicemailRecord } from '../../store/index.js';
import type { RecordingResult } from '../../media/index.js';
import type { Leg } from '../call/leg.js';
import type { CommitWriter } from './commit-batcher.js';
import { durationS, isoUtc } from './time.js';
import { completedTimes, inboundFields, outboundFields, userCallRow, type CallIdentity, type GroupContext, type UserTouch } from './call-payloads.js';

export type { GroupContext } from './call-payloads.js';

/** What the recorder needs to know about the call. */
export interface CallRecorderOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  onCommitted?: () => void;
  /**
   * Where commits go; the engine passes its {@link CommitWriter} (a `CommitBatcher`: one transaction per event-loop
   * turn for all calls). Without it each commit is its own `store.commit`, chained per call.
   */
  writer?: CommitWriter;
  uniqueCallId: string;
  direction: CallDirection;
  /** The caller's number / name as presented (E.164 or extension; '+' is stripped in payloads). */
  callerId: string | null;
  callerName: string | null;
  /** What the caller dialled (the DID, extension or external number). */
  destNumber: string | null;
  configVersion: number;
  startMs: number;
  legs: () => readonly Leg[];
}

/** The history writer of one call. */
export class CallRecorder {
  readonly #o: CallRecorderOptions;
  readonly #touches: UserTouch[] = [];
  #sequence = 0;
  #chain: Promise<void> = Promise.resolve();
  #connectedMs: number | null = null;
  #endedMs: number | null = null;
  #answeredBy: UserConfig | null = null;
  #status = 'ringing';
  /** The PBX answered the caller itself (voicemail): the status the call ends with unless a user answered. */
  #pbxAnswer: string | null = null;
  #hangupCause: string | null = null;
  #group: GroupContext = { queue_name: null, ring_group_name: null };
  readonly #finishHooks: Array<(endedMs: number) => void> = [];
  /** Per leg, its mutable fields as last committed. */
  readonly #legState = new Map<Leg, string>();
  /** The call record as last committed. */
  #lastRecord: CallRecord | null = null;
  /** Fields every payload and row repeats, formatted once. */
  readonly #p: CallIdentity;
  readonly #startIso: string;
  readonly #callerId: string | null;
  readonly #destNumber: string | null;

  constructor(opts: CallRecorderOptions) {
    this.#o = opts;
    this.#startIso = isoUtc(opts.startMs);
    this.#callerId = compatNumber(opts.callerId);
    this.#destNumber = compatNumber(opts.destNumber);
    this.#p = {
      uniqueCallId: opts.uniqueCallId, callerId: this.#callerId, callerName: opts.callerName, destNumber: this.#destNumber,
      startMs: opts.startMs, startIso: this.#startIso,
    };
  }

  /** The caller's number (compat form: no '+') and name as the record shows them. */
  get callerId(): string | null {
    return this.#callerId;
  }

  get callerName(): string | null {
    return this.#o.callerName;
  }

  get uniqueCallId(): string {
    return this.#o.uniqueCallId;
  }

  /** The user placing the call (outbound and internal calls), or null. */
  get placingUser(): UserConfig | null {
    return this.#placer() ?? null;
  }

  /**
   * A call recording's file is closed: its row and one `recording_inbound` / `recording_outbound` per plan, in one
   * commit after every earlier one (so after the `*_completed` events of `finish()`).
   */
  recordingReady(r: { recordingId: string; startedAtMs: number; result: RecordingResult; link: string; legId: string | null; plans: ReadonlyArray<{ direction: 'inbound' | 'outbound'; user: UserConfig }> }): void {
    const first = r.plans[0];
    const row: RecordingRecord = {
      recording_id: r.recordingId, unique_call_id: this.#o.uniqueCallId, leg_id: r.legId, direction: first?.direction ?? 'inbound',
      user_number: first?.user.number ?? null, path: r.result.path, duration_ms: r.result.durationMs, size_bytes: r.result.sizeBytes,
      sha256: r.result.sha256, problems: [...r.result.problems], created_at: isoUtc(r.startedAtMs),
    };
    const events = r.plans.map((p) => this.#event(p.direction === 'inbound' ? 'recording_inbound' : 'recording_outbound', {
      caller_id: this.#callerId, dest_number: this.#destNumber, user_name: p.user.name, user_number: p.user.number,
      recorded_at: isoUtc(r.startedAtMs), emails: [...p.user.voicemail.emails], email_subject: null, email_message: null,
      call_recording_link: r.link, recording_id: r.recordingId, recording_duration_ms: r.result.durationMs, recording_problems: [...r.result.problems],
    }));
    this.#commit(events, [], { recordings: [row] });
  }

  /** The PBX answered the caller itself (`voicemail`): the call's status at the end unless a user answers. */
  answeredByPbx(status: string): void {
    this.#pbxAnswer = status;
  }

  /** A voicemail message was left: its row and the `voicemail` event, in one commit. */
  voicemailLeft(r: { row: VoicemailRecord; user: UserConfig; audioLink: string; emailSubject: string; emailMessage: string }): void {
    const event = this.#event('voicemail', {
      caller_id: this.#callerId, dest_number: this.#destNumber, user_name: r.user.name, user_number: r.user.number,
      recorded_at: r.row.recorded_at, emails: [...r.user.voicemail.emails], email_subject: r.emailSubject, email_message: r.emailMessage,
      audio_file: [r.audioLink],
    });
    this.#commit([event], [], { voicemails: [r.row] });
  }

  /** A user's devices start ringing: `user_inbound`. */
  userRinging(user: UserConfig, context: GroupContext): void {
    this.#touches.push({ user, direction: 'inbound', context, connectedMs: null, endedMs: null });
    if (context.queue_name) this.#group.queue_name = context.queue_name;
    if (context.ring_group_name) this.#group.ring_group_name = context.ring_group_name;
    this.#commit([this.#event('user_inbound', this.#inboundFields(user, context))]);
  }

  /** A rung user answered: `user_inbound_answered`. */
  userAnswered(user: UserConfig): void {
    const t = this.#open(user, 'inbound');
    if (!t) return;
    const now = this.#o.clock.now();
    t.connectedMs = now;
    this.#connected(now, user);
    const events = [this.#event('user_inbound_answered', { ...this.#inboundFields(user, t.context), connected_at: isoUtc(now) })];
    // Internal call: the caller's outbound call is answered when the callee answers.
    const out = this.#touches.find((x) => x.direction === 'outbound' && x.connectedMs === null && x.endedMs === null);
    if (out) {
      out.connectedMs = now;
      events.push(this.#event('user_outbound_answered', { ...this.#outboundFields(out.user), connected_at: isoUtc(now) }));
    }
    this.#commit(events);
  }

  /** A rung user stopped ringing without answering: `user_inbound_completed` and a missed row. */
  userMissed(user: UserConfig): void {
    const t = this.#open(user, 'inbound');
    if (!t) return;
    t.endedMs = this.#o.clock.now();
    this.#commit([this.#completed(t)], [this.#userRow(t)]);
  }

  /**
   * A user left a call that goes on (transferred it away, or its transfer target was dropped): its open touch
   * completes now — `user_inbound_completed` or `user_outbound_completed` and its history row.
   */
  userLeft(userNumber: string): void {
    const t = this.#touches.find((x) => x.user.number === userNumber && x.endedMs === null);
    if (!t) return;
    t.endedMs = this.#o.clock.now();
    this.#commit([this.#completed(t)], [this.#userRow(t)]);
  }

  /** A user places a call: `user_outbound`. */
  outboundStarted(user: UserConfig): void {
    this.#touches.push({ user, direction: 'outbound', context: { queue_name: null, ring_group_name: null }, connectedMs: null, endedMs: null });
    this.#commit([this.#event('user_outbound', this.#outboundFields(user))]);
  }

  /** The called party answered a user's outbound call: `user_outbound_answered`. */
  outboundAnswered(user: UserConfig): void {
    const t = this.#open(user, 'outbound');
    if (!t) return;
    const now = this.#o.clock.now();
    t.connectedMs = now;
    this.#connected(now, user);
    this.#commit([this.#event('user_outbound_answered', { ...this.#outboundFields(user), connected_at: isoUtc(now) })]);
  }

  /** An event on a flow's webhook object, sent to that object's own endpoint. */
  componentEvent(componentName: string, endpoint: Extract<EndpointRef, { kind: 'component' }>): void {
    this.#commit([this.#event('webhook_component_event', {
      user_name: this.#o.callerName, user_number: this.#callerId, dest_number: this.#destNumber,
      call_start_at: this.#startIso, component_name: componentName,
    }, endpoint)]);
  }

  /** Legs answered: saves what a BYE needs to hang them up after a crash (dropped when the call ends). */
  dialogsAnswered(dialogs: LegDialogRecord[]): void {
    if (dialogs.length > 0) this.#commit([], [], { dialogs });
  }

  /** Runs `fn(endedMs)` inside `finish()`, after the user records (queue and ring-group rows are written then). */
  onFinish(fn: (endedMs: number) => void): void {
    this.#finishHooks.push(fn);
  }

  /** A queue or ring group is done with the call: its `queue_call`/`ring_group_call` event and history row, one commit. */
  groupCall(kind: 'queue' | 'ring_group', row: GroupCallRecord): void {
    const fields = {
      caller_id: row.caller_id, caller_name: row.caller_name, user_name: row.user_name, user_number: row.user_number,
      dest_number: row.dest_number, call_start_at: row.call_start_at, connected_at: row.connected_at,
      call_duration: row.call_duration ?? 0, conversation_duration: row.conversation_duration ?? 0, status: row.status,
    };
    if (kind === 'queue') this.#commit([this.#event('queue_call', { ...fields, queue_name: row.group_name })], [], { queueCalls: [row] });
    else this.#commit([this.#event('ring_group_call', { ...fields, ring_group_name: row.group_name })], [], { ringGroupCalls: [row] });
  }

  /** The call ended: completes every open touch and writes the final record. Call once. */
  finish(hangupCause: string): Promise<void> {
    const now = this.#o.clock.now();
    this.#endedMs = now;
    this.#hangupCause = hangupCause;
    this.#status = this.#connectedMs !== null ? 'answered' : this.#pbxAnswer ?? (hangupCause === 'failed' ? 'failed' : 'missed');
    const events: OutboxEvent[] = [];
    const rows: UserCallRecord[] = [];
    for (const t of this.#touches) {
      if (t.endedMs !== null) continue;
      t.endedMs = now;
      events.push(this.#completed(t));
      rows.push(this.#userRow(t));
    }
    this.#commit(events, rows, { dropDialogs: true });
    for (const fn of this.#finishHooks) {
      try {
        fn(now);
      } catch (err) {
        this.#o.log.error({ err, unique_call_id: this.#o.uniqueCallId }, 'finish hook failed');
      }
    }
    return this.flushed();
  }

  /** Resolves when every commit so far has been written (or failed and been logged). */
  flushed(): Promise<void> {
    return this.#chain;
  }

  /** The call record as it stands. */
  record(): CallRecord {
    const o = this.#o;
    const end = this.#endedMs;
    return {
      unique_call_id: o.uniqueCallId, direction: o.direction, caller_id: this.#callerId, caller_name: o.callerName,
      dest_number: this.#destNumber, user_name: this.#answeredBy?.name ?? this.#placer()?.name ?? null,
      user_number: this.#answeredBy?.number ?? this.#placer()?.number ?? null, call_start_at: this.#startIso,
      connected_at: this.#connectedMs === null ? null : isoUtc(this.#connectedMs), ended_at: end === null ? null : isoUtc(end),
      call_duration: end === null ? null : durationS(o.startMs, end),
      conversation_duration: end === null ? null : this.#connectedMs === null ? 0 : durationS(this.#connectedMs, end),
      status: this.#status, hangup_cause: this.#hangupCause, queue_name: this.#group.queue_name,
      ring_group_name: this.#group.ring_group_name, config_version: o.configVersion,
    };
  }

  #placer(): UserConfig | undefined {
    return this.#touches.find((t) => t.direction === 'outbound')?.user;
  }

  #connected(now: number, user: UserConfig): void {
    if (this.#connectedMs === null) this.#connectedMs = now;
    if (this.#answeredBy === null && this.#o.direction !== 'outbound') this.#answeredBy = user;
    this.#status = 'answered';
  }

  #open(user: UserConfig, direction: UserTouch['direction']): UserTouch | undefined {
    return this.#touches.find((t) => t.user.number === user.number && t.direction === direction && t.endedMs === null);
  }

  #inboundFields(user: UserConfig, context: GroupContext): EventFieldsByType['user_inbound'] {
    return inboundFields(this.#p, user, context);
  }

  #outboundFields(user: UserConfig): EventFieldsByType['user_outbound'] {
    return outboundFields(this.#p, user);
  }

  #completed(t: UserTouch): OutboxEvent {
    const times = completedTimes(this.#p, t, t.endedMs!);
    return t.direction === 'inbound'
      ? this.#event('user_inbound_completed', { ...this.#inboundFields(t.user, t.context), ...times })
      : this.#event('user_outbound_completed', { ...this.#outboundFields(t.user), ...times });
  }

  #userRow(t: UserTouch): UserCallRecord {
    return userCallRow(this.#p, t, t.endedMs ?? this.#o.clock.now());
  }

  #event<T extends EventType>(type: T, fields: EventFieldsByType[T], endpoint?: EndpointRef): OutboxEvent {
    return toOutboxEvent(type, fields, {
      unique_call_id: this.#o.uniqueCallId, sequence: ++this.#sequence, occurred_at: isoUtc(this.#o.clock.now()), ...(endpoint ? { endpoint } : {}),
    });
  }

  /** Leg rows that changed since the last commit (each commit upserts only those; a row costs a statement). */
  #changedLegs(): LegRecord[] {
    const out: LegRecord[] = [];
    for (const leg of this.#o.legs()) {
      const key = `${leg.answeredAtMs}|${leg.endedAtMs}|${leg.finalStatus}|${leg.endedBy}`;
      if (this.#legState.get(leg) === key) continue;
      this.#legState.set(leg, key);
      out.push(leg.toRecord(this.#o.uniqueCallId));
    }
    return out;
  }

  /**
   * The call record when it changed since the last commit (or the call ends), else undefined: a step that changes
   * only other rows (the answered legs' saved dialogs) does not rewrite the record (a row and its indexes).
   */
  #changedRecord(ending: boolean): CallRecord | undefined {
    const rec = this.record();
    const last = this.#lastRecord;
    this.#lastRecord = rec;
    if (ending || !last) return rec;
    for (const k of Object.keys(rec) as Array<keyof CallRecord>) if (rec[k] !== last[k]) return rec;
    return undefined;
  }

  #commit(events: OutboxEvent[], userCalls: UserCallRecord[] = [], groups: Pick<CallCommit, 'queueCalls' | 'ringGroupCalls' | 'dialogs' | 'dropDialogs' | 'recordings' | 'voicemails'> = {}): void {
    const call = this.#changedRecord(groups.dropDialogs === true);
    const c: CallCommit = { ...(call ? { call } : {}), legs: this.#changedLegs(), events, ...groups };
    if (userCalls.length > 0) c.userCalls = userCalls;
    const writer = this.#o.writer;
    if (writer) {
      // The writer keeps submission order, so this commit settles after the previous ones: it is the new tail.
      this.#chain = writer.write(c).then(
        () => this.#o.onCommitted?.(),
        (err: unknown) => this.#o.log.error({ err, unique_call_id: this.#o.uniqueCallId, events: events.map((e) => e.type) }, 'call commit failed'),
      );
      return;
    }
    this.#chain = this.#chain.then(async () => {
      try {
        await this.#o.store.commit(c);
        this.#o.onCommitted?.();
      } catch (err) {
        this.#o.log.error({ err, unique_call_id: this.#o.uniqueCallId, events: events.map((e) => e.type) }, 'call commit failed');
      }
    });
  }
}
