/**
 * The configuration model (SPEC.md §1), as the engine, the API and the dispatcher see it after validation.
 * Field names follow SPEC.md (snake_case) because they are also the YAML and admin-API field names.
 * `schema.ts` validates raw YAML/JSON into these types; `loader.ts` adds defaults and the SWITCHBOARD_* environment.
 */

/** When a user's calls are recorded. */
export type RecordMode = 'none' | 'inbound' | 'outbound' | 'all';

export interface DeviceConfig {
  /** SIP username (digest user and AOR user part); unique across the PBX. */
  username: string;
  password: string;
  /** Digest challenges for this device; absent = `sip.digest`. */
  digest?: DigestChallenge;
}

/** Which digest challenges a 401/407 carries: one MD5, or SHA-256 then MD5 (RFC 8760). */
export type DigestChallenge = 'md5' | 'sha256';

/** The SIP edge. */
export interface SipConfig {
  /** Digest challenges sent to devices (a device may override). */
  digest: DigestChallenge;
  /** Most registered contacts per device (503 beyond). */
  max_contacts_per_device: number;
  /** How often a waiting caller's last 180/183 is repeated, in seconds (≤ 60, RFC 3261 §13.3.1.1). */
  provisional_interval_s: number;
  /** drachtio-lite: seconds before an INVITE no app holds is answered 408 (read at start). */
  invite_reaper_s: number;
  /** HMAC key of digest nonces, shared by engines on one store; null = random per process. */
  nonce_secret: string | null;
  tcp: SipTcpConfig;
  ws: SipWsConfig;
}

/** SIP over WebSocket (RFC 7118) of the embedded SIP stack. */
export interface SipWsConfig {
  /** ws:// port; null = off, 0 = free port. */
  port: number | null;
  /** ws:// upgrades also accepted at this path of the HTTP server; null = off. */
  http_path: string | null;
  /** wss:// port; null = off. */
  tls_port: number | null;
  tls_cert: string | null;
  tls_key: string | null;
  max_connections: number;
  max_connections_per_source: number;
  idle_timeout_s: number;
  write_buffer_limit_kib: number;
}

/** TCP limits of the embedded SIP stack. */
export interface SipTcpConfig {
  max_connections: number;
  max_connections_per_source: number;
  idle_timeout_s: number;
  /** At a quarter of it reading from the peer pauses; beyond it the connection is destroyed. */
  write_buffer_limit_kib: number;
}

export interface VoicemailConfig {
  enabled: boolean;
  /** Path or URL of a greeting WAV; null = built-in greeting. */
  greeting: string | null;
  /** Where each new message is mailed (through {@link MailConfig}) and what the event's emails field lists. */
  emails: string[];
  /** Templates with {caller_id}-style placeholders (the event carries them filled in). */
  email_subject: string;
  email_message: string;
  max_message_s: number;
  /** Shorter messages are discarded. */
  min_message_s: number;
  /** Silence from the caller this long ends the message. */
  silence_s: number;
}

/** The SMTP relay for voicemail mail. */
export interface MailConfig {
  enabled: boolean;
  host: string;
  port: number;
  /** SMTPS from the first byte; otherwise STARTTLS when offered. */
  secure: boolean;
  username: string | null;
  password: string | null;
  from: string;
  retry_schedule_s: number[];
}

export interface UserConfig {
  name: string;
  /** Extension, digits only; unique. */
  number: string;
  devices: DeviceConfig[];
  voicemail: VoicemailConfig;
  record: RecordMode;
  ring_timeout_s: number;
  /** E.164 with '+', presented on outbound calls through the trunk; null = the trunk's default. */
  caller_id: string | null;
  /** Do not disturb: the devices are not rung; treated as busy. */
  dnd: boolean;
  /** Call forwarding targets (an extension or an external number); null = none. */
  forward: { always: string | null; busy: string | null; no_answer: string | null };
}

export interface NumberConfig {
  /** DID in E.164 with '+'. */
  number: string;
  /** Id of the call flow the number enters. */
  flow: string;
}

/** Outcomes a node can end with; `next` may name a node per outcome. */
export type NodeOutcome = 'answered' | 'no-answer' | 'busy' | 'rejected' | 'full' | 'timeout' | 'failed' | 'empty';

/**
 * Where a node goes when it does not answer the call: a node id for every outcome, or one per outcome
 * (`default` for the rest). null/absent = hang up (480 to an unanswered caller).
 */
export type NextRef = string | ({ default?: string } & Partial<Record<NodeOutcome, string>>) | null;

interface NodeBase {
  /** Unique within its flow. */
  id: string;
  next?: NextRef;
}

export interface UserNode extends NodeBase { type: 'user'; user: string; ring_timeout_s?: number }
export interface QueueNode extends NodeBase { type: 'queue'; queue: string }
export interface RingGroupNode extends NodeBase { type: 'ring_group'; ring_group: string }
export interface VoicemailNode extends NodeBase { type: 'voicemail'; user: string }
export interface WebhookNode extends NodeBase {
  type: 'webhook';
  component_name: string;
  url: string;
  secret_token: string;
  headers: Record<string, string>;
}
export interface HangupNode extends NodeBase { type: 'hangup'; status?: number }
export interface PlayNode extends NodeBase { type: 'play'; file: string }

export type FlowNode = UserNode | QueueNode | RingGroupNode | VoicemailNode | WebhookNode | HangupNode | PlayNode;

export interface FlowConfig {
  id: string;
  /** The first node is where a call enters. */
  nodes: FlowNode[];
}

export type QueueStrategy = 'ringall' | 'round_robin' | 'longest_idle' | 'fewest_calls' | 'linear' | 'random';

export interface QueueConfig {
  name: string;
  /** User numbers, in configured order (linear uses it). */
  agents: string[];
  strategy: QueueStrategy;
  agent_timeout_s: number;
  max_wait_s: number;
  /** 0 = unlimited. */
  max_callers: number;
  wrap_up_s: number;
  hold_music: string | null;
  /** Where a caller goes on timeout (max_wait), full (max_callers) or empty (no agent can ever answer). */
  next: NextRef;
}

export type RingGroupStrategy = 'ringall' | 'hunt';

export interface RingGroupConfig {
  name: string;
  /** User numbers, in configured order (hunt uses it). */
  members: string[];
  strategy: RingGroupStrategy;
  /** Whole-group timeout. */
  timeout_s: number;
  /** Per-member ring time for hunt. */
  member_timeout_s: number;
  next: NextRef;
}

export interface TrunkConfig {
  name: string;
  host: string;
  port: number;
  transport: 'udp' | 'tcp';
  username: string | null;
  password: string | null;
  /** Default caller id (E.164) when the user has none. */
  caller_id: string | null;
}

/** The 11 lifecycle event types that can be ticked for the global webhook (SPEC §3). */
export const WEBHOOK_EVENT_TYPES = [
  'user_inbound', 'user_inbound_answered', 'user_inbound_completed',
  'user_outbound', 'user_outbound_answered', 'user_outbound_completed',
  'queue_call', 'ring_group_call', 'voicemail', 'recording_inbound', 'recording_outbound',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookConfig {
  url: string;
  secret_token: string;
  events: WebhookEventType[];
  enabled: boolean;
  /** Standard Webhooks signing secret (`whsec_…`); derived from secret_token when null. */
  signing_secret: string | null;
}

export interface ApiConfig {
  /** The integration key (`token` header, /api/integration/v2/* only). */
  api_key: string;
  /** The bootstrap admin key (`Authorization: Bearer`, /api/admin/*); null = only keys created through the API. */
  admin_key: string | null;
  /** Addresses or CIDR blocks, IPv4 and IPv6. */
  whitelisted_ips: string[];
  /** Proxies whose X-Forwarded-For is believed (addresses/CIDR); empty = never. */
  trusted_proxies: string[];
  /** Requests per minute per key. */
  rate_limit_per_min: number;
  /** Failed (401) requests per minute per source address before it gets 429. */
  auth_failures_per_min: number;
}

/** Webhook delivery tuning (ours). */
export interface DeliveryConfig {
  timeout_ms: number;
  /** Retry delays in seconds, the last one repeating until the horizon. */
  retry_schedule_s: number[];
  horizon_s: number;
  /** Outbox size at which a warning is logged and new events are still accepted; documented bound. */
  outbox_warn_at: number;
  concurrency: number;
  /** In-flight deliveries per endpoint URL. */
  per_endpoint_concurrency: number;
  /** Refuse loopback/private/link-local webhook targets (at apply and after DNS at send time). */
  refuse_private_targets: boolean;
}

/** How long history and webhook data are kept, in days; 0 = forever (ours). */
/** `redis`: where engines share registrations, agent claims and apply notices. */
export interface RedisConfig {
  url: string | null;
  key_prefix: string;
}

export interface RetentionConfig {
  calls_days: number;
  events_days: number;
  deliveries_days: number;
}

/** Call media (ours): who anchors RTP for calls that need it. */
export interface MediaConfig {
  driver: 'embedded' | 'rtpengine' | 'none';
  bind_address: string;
  advertise_address: string | null;
  port_min: number;
  port_max: number;
  rtpengine: { ng_host: string; ng_port: number; recording_dir: string | null; dtmf_port: number; webrtc?: boolean };
}

/** Call recordings and their signed links (ours). */
export interface RecordingsConfig {
  dir: string | null;
  public_url: string | null;
  link_lifetime_s: number;
  retention_days: number;
  signing_secret: string | null;
}

/** RFC 4028 session timers (`pbx.session_timers`). */
export interface SessionTimersConfig {
  enabled: boolean;
  /** Session-Expires asked for, in seconds. */
  interval_s: number;
  /** Smallest Session-Expires accepted (Min-SE), in seconds. */
  min_se_s: number;
}

/** The PBX configuration: what a numbered version holds. */
export interface PbxConfig {
  pbx: {
    name: string; time_zone: string; domain: string;
    /** Longest a connected call may last before the PBX hangs up both sides; 0 = unlimited. */
    max_call_duration_s: number;
    /** This engine's node id (0–99) in unique_call_ids and crash recovery; SWITCHBOARD_NODE_ID replaces it. */
    node_id: number;
    /** SIGTERM: how long calls in progress may go on before the rest are hung up and the process exits. */
    drain_timeout_s: number;
    session_timers: SessionTimersConfig;
  };
  sip: SipConfig;
  users: UserConfig[];
  numbers: NumberConfig[];
  flows: FlowConfig[];
  queues: QueueConfig[];
  ring_groups: RingGroupConfig[];
  trunks: TrunkConfig[];
  webhook: WebhookConfig;
  api: ApiConfig;
  delivery: DeliveryConfig;
  mail: MailConfig;
  retention: RetentionConfig;
  /** Shared state between engines; absent in configurations built in code (= no Redis). */
  redis?: RedisConfig;
  media: MediaConfig;
  recordings: RecordingsConfig;
}

/** Process settings from SWITCHBOARD_* / DRACHTIO_* (SPEC §6); not part of a config version. */
export interface RuntimeSettings {
  configPath: string;
  dataDir: string;
  bind: string;
  sipPort: number;
  httpPort: number;
  apiKeyOverride: string | null;
  /** SWITCHBOARD_ADMIN_KEY: replaces `api.admin_key`. */
  adminKeyOverride: string | null;
  logLevel: string;
  drachtio: { host: string; port: number; secret: string } | null;
  /** PostgreSQL connection string; null = SQLite under dataDir. */
  databaseUrl: string | null;
  /**
   * SWITCHBOARD_NODE_ID (0–99): this process's node id, instead of the file's `pbx.node_id`. Kept out of the
   * configuration so engines sharing one file and store do not each store their own version of it.
   */
  nodeId?: number | null;
  /** `npm run edge`: the drachtio control port engines connect to (DRACHTIO_PORT) and its secret (DRACHTIO_SECRET). */
  edgeControl?: { port: number; secret: string };
  /** SWITCHBOARD_NONCE_SECRET: replaces `sip.nonce_secret`. */
  nonceSecretOverride?: string | null;
  /** SWITCHBOARD_REDIS_URL: replaces the file's `redis.url` (kept out of the stored configuration, like the node id). */
  redisUrl?: string | null;
}

/** A numbered, immutable configuration version. */
export interface ConfigVersion {
  version: number;
  config: PbxConfig;
  created_at: string;
}
