/**
 * The persistence boundary. One interface, two backends: SQLite (better-sqlite3, the embedded default) and
 * PostgreSQL (pg, for several nodes). Every method is async so both fit; the SQLite backend runs synchronously inside.
 *
 * Invariant: events enter the outbox in the same transaction as the call records they describe (`commit`).
 */


/** A registered contact of a device (RFC 3261 §10). */
export interface Registration {
  /** Device username (AOR user). */
  username: string;
  /** The Contact URI as registered. */
  contact: string;
  /**
   * Where the REGISTER came from: requests to this contact go here (NAT, RFC 3581). `ws`/`wss` bindings (RFC 7118)
   * live only as long as their connection and are never written to a store (the column allows udp and tcp).
   */
  transport: 'udp' | 'tcp' | 'ws' | 'wss';
  source_address: string;
  source_port: number;
  call_id: string;
  cseq: number;
  /** Epoch ms. */
  expires_at: number;
  user_agent: string | null;
  /** +sip.instance / reg-id, when present. */
  instance_id: string | null;
  updated_at: number;
}

export type CallDirection = 'inbound' | 'outbound' | 'internal';

/** One call (all legs), keyed by the compat unique_call_id. Times are ISO 8601 UTC with ms; durations integer seconds. */
export interface CallRecord {
  unique_call_id: string;
  direction: CallDirection;
  caller_id: string | null;
  caller_name: string | null;
  dest_number: string | null;
  /** The user who answered (inbound) or placed the call (outbound); null when nobody answered. */
  user_name: string | null;
  user_number: string | null;
  call_start_at: string;
  connected_at: string | null;
  ended_at: string | null;
  call_duration: number | null;
  conversation_duration: number | null;
  /** answered | missed | failed | abandoned … */
  status: string;
  hangup_cause: string | null;
  queue_name: string | null;
  ring_group_name: string | null;
  config_version: number;
}

/** One SIP dialog of a call. */
export interface LegRecord {
  leg_id: string;
  unique_call_id: string;
  /** caller | device | trunk */
  kind: string;
  user_number: string | null;
  device: string | null;
  remote: string | null;
  started_at: string;
  answered_at: string | null;
  ended_at: string | null;
  final_status: number | null;
  ended_by: string | null;
}

/** A row of get-user-calls (SPEC §4): one per user touched by a call. */
export interface UserCallRecord {
  unique_call_id: string;
  type: 'user_inbound_answered' | 'user_inbound_missed' | 'user_outbound_answered' | 'user_outbound_missed';
  caller_id: string | null;
  caller_name: string | null;
  dest_number: string | null;
  user_name: string;
  user_number: string;
  call_start_at: string;
  connected_at: string | null;
  call_duration: number | null;
  conversation_duration: number | null;
}

/** A row of get-queue-calls / get-ringgroup-calls. `group_name` is the queue or ring group name. */
export interface GroupCallRecord {
  unique_call_id: string;
  group_name: string;
  caller_id: string | null;
  caller_name: string | null;
  dest_number: string | null;
  user_name: string | null;
  user_number: string | null;
  call_start_at: string;
  connected_at: string | null;
  call_duration: number | null;
  conversation_duration: number | null;
  status: 'answered' | 'abandoned';
}

/** Where an outbox event is delivered. */
export type EndpointRef =
  | { kind: 'global' }
  /** A flow's webhook object: url, token and custom headers travel with the event (config may change later). */
  | { kind: 'component'; url: string; secret_token: string; headers: Record<string, string> };

/** An event in the durable outbox. `payload` is the full compat JSON body, including event_id, occurred_at, sequence. */
export interface OutboxEvent {
  event_id: string;
  unique_call_id: string | null;
  type: string;
  /** Per-call order, starting at 1. */
  sequence: number;
  occurred_at: string;
  endpoint: EndpointRef;
  payload: Record<string, unknown>;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'disabled';

/** One event's delivery to one endpoint, with its attempts summarized. */
export interface Delivery {
  delivery_id: string;
  event_id: string;
  endpoint_url: string;
  unique_call_id: string | null;
  type: string;
  sequence: number;
  status: DeliveryStatus;
  attempts: number;
  /** Epoch ms; null when not scheduled. */
  next_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  /** The configuration version the delivery was created under (its URL, token and signing secret); null = unknown. */
  config_version: number | null;
}

export interface DeliveryAttempt {
  delivery_id: string;
  attempt: number;
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** A delivery's new state after an attempt (what {@link Store.recordAttempt} writes besides the attempt row). */
export type DeliveryUpdate = Pick<Delivery, 'status' | 'next_attempt_at' | 'last_status_code' | 'last_error'>;

/** One attempt and its delivery's new state, for {@link Store.recordAttempts}. */
export interface AttemptRecord {
  attempt: DeliveryAttempt;
  update: DeliveryUpdate;
}

/** A delivery to create: one event to one endpoint url (`created_at` defaults to `next_attempt_at`). */
export interface NewDelivery {
  delivery_id: string;
  event_id: string;
  endpoint_url: string;
  next_attempt_at: number;
  created_at?: number;
  /** See {@link Delivery.config_version}. */
  config_version?: number | null;
}

/** An admin API key. Only its SHA-256 digest is stored; the key is shown once, when created. */
export interface AdminKeyRecord {
  /** `adk_…`, shown in lists and the audit log. */
  key_id: string;
  name: string;
  /** Hex SHA-256 of the key. */
  key_hash: string;
  /** Epoch ms. */
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** One admin change in the audit log. */
export interface AuditEntry {
  /** Epoch ms. */
  at: number;
  /** The admin key used (null for the configured bootstrap key: `key_name` says so). */
  key_id: string | null;
  key_name: string | null;
  source_ip: string | null;
  method: string;
  path: string;
  /** HTTP status of the answer. */
  status: number;
  /** What changed, secrets redacted (JSON). */
  changes: unknown;
}

export interface HistoryQuery {
  /** Inclusive UTC ISO bounds, already converted from the PBX time zone by the caller. */
  from: string | null;
  to: string | null;
  sort: 'newest_first' | 'oldest_first';
  offset: number;
  limit: number;
  unique_call_id?: string;
  /** users_numbers / queues_names / ringgroups_names filter. */
  names?: string[];
}

/**
 * What a BYE needs to end an answered leg's dialog after a restart, without the dialog state of the process that
 * crashed (RFC 3261 §12.2.1.1). Saved when the leg is answered; dropped when the call ends normally.
 */
export interface LegDialogRecord {
  leg_id: string;
  unique_call_id: string;
  /** uac: we sent the INVITE (a trunk or device leg); uas: we answered it (the caller). */
  role: 'uac' | 'uas';
  call_id: string;
  /** Our side as a name-addr with our tag: the From of a request we send in the dialog. */
  local_header: string;
  /** The peer as a name-addr with its tag: the To of a request we send. */
  remote_header: string;
  /** The highest CSeq number we have used in the dialog (0 when we sent none: the UAS side). */
  local_cseq: number;
  /** The peer's Contact URI: the Request-URI of our requests. */
  remote_target: string;
  /** Route headers for our requests, in order (§12.1: Record-Route, reversed on the UAC side). */
  route_set: string[];
  /** Where the dialog's requests go (`sip:host:port;transport=udp`): the trunk or the peer's source address. */
  destination: string;
}

/** Where a voicemail message's mail stands: `none` = no addresses or mail off. */
export type VoicemailMailStatus = 'none' | 'pending' | 'sent' | 'failed';

/** One voicemail message (issue 10). Times are ISO 8601 UTC with ms. */
export interface VoicemailRecord {
  /** `vm_…`. */
  message_id: string;
  /** The box: the user's extension. */
  user_number: string;
  unique_call_id: string;
  caller_id: string | null;
  caller_name: string | null;
  dest_number: string | null;
  recorded_at: string;
  /** Absolute path of the WAV (mono 8 kHz 16-bit). */
  path: string;
  duration_ms: number;
  size_bytes: number;
  sha256: string;
  /** When the user marked it heard; null = new. */
  heard_at: string | null;
  mail_status: VoicemailMailStatus;
  /** Addresses the mail goes to, comma-separated (the box's emails when it was left). */
  mail_to: string;
  mail_attempts: number;
  /** Epoch ms of the next try while pending. */
  mail_next_at: number | null;
  mail_last_error: string | null;
  mail_sent_at: string | null;
}

/** What the mailer writes after a try. */
export type VoicemailMailUpdate = Pick<VoicemailRecord, 'mail_status' | 'mail_attempts' | 'mail_next_at' | 'mail_last_error' | 'mail_sent_at'>;

/** Everything the engine persists at one step of a call, written atomically. */
/**
 * One call recording (ours, issue 9): a stereo WAV (left = caller, right = callee) of one call. `direction` is
 * whose setting made it: `inbound` = the answering user's, `outbound` = the placing user's (`user_number`).
 */
export interface RecordingRecord {
  recording_id: string;
  unique_call_id: string;
  /** The answered callee leg the recording covers. */
  leg_id: string | null;
  direction: 'inbound' | 'outbound';
  user_number: string | null;
  /** Absolute path of the WAV on this host. */
  path: string;
  duration_ms: number;
  size_bytes: number;
  sha256: string;
  /** What went wrong while recording (`disk-full`, `write-failed`, …); empty when nothing did. */
  problems: string[];
  created_at: string;
}

/** Filters and paging of {@link Store.listRecordings}; newest first. */
export interface RecordingQuery {
  unique_call_id?: string;
  user_number?: string;
  /** created_at >= from, < to (ISO 8601). */
  from?: string;
  to?: string;
  offset: number;
  limit: number;
}

/**
 * One call step, written in one transaction: the rows it changed and the events describing it. `call` is left out
 * when the record did not change (the engine's recorder sends it only then); `dropDialogs` needs it.
 */
export interface CallCommit {
  call?: CallRecord;
  legs?: LegRecord[];
  userCalls?: UserCallRecord[];
  queueCalls?: GroupCallRecord[];
  ringGroupCalls?: GroupCallRecord[];
  events?: OutboxEvent[];
  /** Dialogs of newly answered legs (upserted by leg_id). */
  dialogs?: LegDialogRecord[];
  /** The call has ended: its saved dialogs are deleted (nothing is left to hang up after a crash). */
  dropDialogs?: boolean;
  /** Voicemail messages left (inserted with the `voicemail` event that announces them). */
  voicemails?: VoicemailRecord[];
  /** Recordings whose files are closed (written with their recording events). */
  recordings?: RecordingRecord[];
}

/** One stored configuration version: its JSON as config wrote it (config validates it again on read). */
export interface StoredConfigVersion {
  version: number;
  config: unknown;
  created_at: string;
}

/**
 * What the retention sweeper deletes (ours): `calls` = ended calls started before the cut-off with their legs,
 * history rows and dialogs; `deliveries` = finished (not pending) deliveries last updated before it, with their
 * attempts; `events` = dispatched outbox events that occurred before it and have no pending delivery, with their
 * (finished) deliveries and attempts.
 */
export type RetentionKind = 'calls' | 'events' | 'deliveries';

export interface Store {
  migrate(): Promise<void>;
  close(): Promise<void>;

  // registrations
  upsertRegistration(reg: Registration): Promise<void>;
  removeRegistration(username: string, contact: string): Promise<void>;
  removeAllRegistrations(username: string): Promise<void>;
  listRegistrations(username?: string): Promise<Registration[]>;
  /** Deletes rows with expires_at <= now; returns how many. */
  purgeExpiredRegistrations(nowMs: number): Promise<number>;

  // calls and events (one transaction)
  commit(c: CallCommit): Promise<void>;
  getCall(uniqueCallId: string): Promise<CallRecord | undefined>;
  listLegs(uniqueCallId: string): Promise<LegRecord[]>;
  queryUserCalls(q: HistoryQuery): Promise<UserCallRecord[]>;
  queryQueueCalls(q: HistoryQuery): Promise<GroupCallRecord[]>;
  queryRingGroupCalls(q: HistoryQuery): Promise<GroupCallRecord[]>;

  // crash recovery and retention
  /**
   * Calls with no `ended_at` (in progress, or left open by a crash), oldest first; with `nodeId`, only that engine's
   * (its two digits end the unique_call_id), so one engine's recovery is not crowded out by the others' live calls.
   */
  listUnfinishedCalls(limit: number, nodeId?: number): Promise<CallRecord[]>;
  /** A call's outbox events in sequence order. */
  listCallEvents(uniqueCallId: string): Promise<OutboxEvent[]>;
  /** The saved dialogs of a call's answered legs. */
  listLegDialogs(uniqueCallId: string): Promise<LegDialogRecord[]>;
  /** Records that engine `nodeId` was alive at `nowMs`. */
  recordHeartbeat(nodeId: number, nowMs: number): Promise<void>;
  /** The last heartbeat of engine `nodeId` (epoch ms), if any. */
  getHeartbeat(nodeId: number): Promise<number | undefined>;
  /**
   * Deletes at most `limit` rows of `kind` (see {@link RetentionKind}) older than `beforeMs`, in one short
   * transaction; returns how many calls, deliveries or events were deleted. The sweeper calls it until it returns
   * less than `limit`.
   */
  sweep(kind: RetentionKind, beforeMs: number, limit: number): Promise<number>;

  // outbox and deliveries
  /** Creates a pending delivery per (event, endpoint url) not yet created; returns how many were created. */
  createDeliveries(rows: NewDelivery[]): Promise<number>;
  /** Events that have no delivery row yet (the dispatcher fans them out), oldest first. */
  listUndispatchedEvents(limit: number): Promise<OutboxEvent[]>;
  markEventsDispatched(eventIds: string[]): Promise<void>;
  /**
   * One fan-out step in one transaction: `createDeliveries(rows)` then `markEventsDispatched(eventIds)` (an event may
   * be marked without a row: no endpoint). Returns how many deliveries were created. All or nothing.
   */
  fanOutEvents(rows: NewDelivery[], eventIds: string[]): Promise<number>;
  getEvent(eventId: string): Promise<OutboxEvent | undefined>;
  /**
   * Due pending deliveries (next_attempt_at <= now), oldest first, skipping any whose call has an earlier
   * pending delivery to the same endpoint (per-call ordering), and any to `excludeEndpoints` (endpoint URLs at their
   * concurrency limit). PostgreSQL claims them with FOR UPDATE SKIP LOCKED
   * and a lease until `leaseUntilMs`.
   */
  claimDueDeliveries(nowMs: number, limit: number, leaseUntilMs: number, excludeEndpoints?: readonly string[]): Promise<Delivery[]>;
  /** Ends the lease of claimed deliveries that were not sent (an endpoint over its concurrency limit): due again at once. */
  releaseDeliveries(deliveryIds: string[]): Promise<void>;
  /**
   * Writes an attempt row, sets the delivery's new state and ends its lease. When the delivery stays pending for a
   * retry at `next_attempt_at`, the later pending deliveries of its call to its endpoint (which cannot be sent before
   * it) get their `next_attempt_at` raised to at least that time, so claiming does not walk past them meanwhile.
   */
  recordAttempt(a: DeliveryAttempt, update: Pick<Delivery, 'status' | 'next_attempt_at' | 'last_status_code' | 'last_error'>): Promise<void>;
  /**
   * `recordAttempt` for many attempts in one transaction (all or nothing: an unknown delivery rejects the whole batch
   * and writes none). Each delivery at most once per call. Durable when the promise resolves.
   */
  recordAttempts(records: AttemptRecord[]): Promise<void>;
  listDeliveries(q: { endpoint_url?: string; status?: DeliveryStatus; unique_call_id?: string; offset: number; limit: number }): Promise<Delivery[]>;
  listAttempts(deliveryId: string): Promise<DeliveryAttempt[]>;
  getDelivery(deliveryId: string): Promise<Delivery | undefined>;
  /**
   * Sets the given deliveries back to pending, due now. With `retarget`, each also takes that URL and configuration
   * version (a manual redelivery of global deliveries is made under the settings live now).
   */
  redeliver(deliveryIds: string[], nowMs: number, retarget?: { endpoint_url: string; config_version: number | null }): Promise<number>;
  countPendingDeliveries(): Promise<number>;
  /** Events not marked dispatched yet (the part of the backlog not fanned out). */
  countUndispatchedEvents(): Promise<number>;
  /** Endpoint state (disabled on 410). */
  setEndpointDisabled(url: string, disabled: boolean, reason: string | null): Promise<void>;
  isEndpointDisabled(url: string): Promise<boolean>;

  // configuration versions (SPEC "apply configuration"): opaque JSON to the store; config validates what it writes
  // and re-validates what it reads, so the store knows nothing of the configuration's shape.
  getLatestConfigVersion(): Promise<StoredConfigVersion | undefined>;
  getConfigVersion(version: number): Promise<StoredConfigVersion | undefined>;
  /** Stores a new version number (max+1) atomically and returns it. */
  insertConfigVersion(config: unknown, nowIso: string): Promise<number>;
  getStagedConfig(): Promise<unknown>;
  setStagedConfig(config: unknown): Promise<void>;

  // admin keys and the audit log
  insertAdminKey(key: AdminKeyRecord): Promise<void>;
  /** Every key, revoked ones included, oldest first. */
  listAdminKeys(): Promise<AdminKeyRecord[]>;
  /** The key whose digest is `keyHash`, unless revoked. */
  findAdminKey(keyHash: string): Promise<AdminKeyRecord | undefined>;
  /** Marks a key revoked; false when there is no such active key. */
  revokeAdminKey(keyId: string, nowMs: number): Promise<boolean>;
  touchAdminKey(keyId: string, nowMs: number): Promise<void>;
  appendAudit(entry: AuditEntry): Promise<void>;

  // call recordings (rows; the files are the caller's)
  /** Newest first (created_at, recording_id). */
  listRecordings(q: RecordingQuery): Promise<RecordingRecord[]>;
  getRecording(recordingId: string): Promise<RecordingRecord | undefined>;
  /** Deletes a row; false when there was none. */
  deleteRecording(recordingId: string): Promise<boolean>;
  /** At most `limit` recordings created before `beforeMs`, oldest first (the sweeper removes their files, then the rows). */
  listRecordingsBefore(beforeMs: number, limit: number): Promise<RecordingRecord[]>;
  /** Deletes these rows in one transaction (the retention sweeper's batch); how many there were. */
  deleteRecordings(recordingIds: readonly string[]): Promise<number>;
  /** Newest first. */
  listAudit(q: { offset: number; limit: number }): Promise<Array<AuditEntry & { seq: number }>>;

  // voicemail (messages are inserted through commit())
  /** A box's messages, newest first; `unheard` = only those not marked heard. */
  listVoicemails(q: { user_number: string; unheard?: boolean; offset: number; limit: number }): Promise<VoicemailRecord[]>;
  getVoicemail(messageId: string): Promise<VoicemailRecord | undefined>;
  /** Marks a message heard (`heardAt` ISO) or new again (null); false when there is no such message. */
  setVoicemailHeard(messageId: string, heardAt: string | null): Promise<boolean>;
  /** Deletes the row (the caller removes the file); false when there is no such message. */
  deleteVoicemail(messageId: string): Promise<boolean>;
  /** Messages whose mail is pending and due (mail_next_at <= now), oldest first. */
  listVoicemailMailDue(nowMs: number, limit: number): Promise<VoicemailRecord[]>;
  /** Messages whose mail failed for good, newest first (the admin API shows them). */
  listVoicemailMailFailures(q: { offset: number; limit: number }): Promise<VoicemailRecord[]>;
  updateVoicemailMail(messageId: string, update: VoicemailMailUpdate): Promise<void>;
}
