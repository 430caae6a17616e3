/**
 * The configuration schema (SPEC.md §1): every key with its type, default and doc, in one table
 * ({@link PBX_SCHEMA}). {@link validateConfig} reads raw YAML/JSON through it, then runs the cross-checks
 * (references, uniqueness) and returns a typed {@link PbxConfig} or every issue found.
 */
import { checkDigits, checkE164, checkForwardTarget, checkEmail, checkHost, checkHttpUrl, checkIpOrCidr, checkNonceSecret, checkRedisUrl, checkSigningSecret, checkTimeZone } from './formats.js';
import { crossCheck } from './cross-checks.js';
import { readShape, type ObjectShape, type Shape, type ReadContext } from './shape.js';
import { WEBHOOK_EVENT_TYPES, type PbxConfig, type VoicemailConfig } from './types.js';
import type { ConfigIssue } from './errors.js';

/** Queue strategies (SPEC §1). */
export const QUEUE_STRATEGIES = ['ringall', 'round_robin', 'longest_idle', 'fewest_calls', 'linear', 'random'] as const;
/** Ring-group strategies (SPEC §1). */
export const RING_GROUP_STRATEGIES = ['ringall', 'hunt'] as const;
/** Outcome keys a per-outcome `next` map may use. */
export const NEXT_KEYS = ['default', 'answered', 'no-answer', 'busy', 'rejected', 'full', 'timeout', 'failed', 'empty'] as const;

const str = (doc: string, extra: Partial<Omit<Extract<Shape, { kind: 'string' }>, 'kind' | 'doc'>> = {}): Shape => ({ kind: 'string', doc, ...extra });
const int = (doc: string, extra: Partial<Omit<Extract<Shape, { kind: 'int' }>, 'kind' | 'doc'>> = {}): Shape => ({ kind: 'int', doc, ...extra });
const bool = (doc: string, dflt: boolean): Shape => ({ kind: 'bool', doc, default: dflt });
const list = (doc: string, item: Shape, extra: { default?: unknown[]; minItems?: number } = {}): Shape => ({ kind: 'list', doc, item, ...extra });
const obj = (doc: string, fields: Record<string, Shape>): ObjectShape => ({ kind: 'object', doc, fields });
const next = (doc: string): Shape => ({ kind: 'next', doc, keys: NEXT_KEYS, default: null });
const positive = (doc: string, dflt?: number): Shape => int(doc, dflt === undefined ? { min: 1 } : { min: 1, default: dflt });

const NEXT_DOC = 'Where the call goes when this node does not answer it: a node id of the same flow, or a map outcome → node id ' +
  `(${NEXT_KEYS.join(', ')}); absent/null = hang up (480 to an unanswered caller).`;
const GROUP_NEXT_DOC = 'Node id (or outcome map) used for outcomes the flow node does not name; it must exist in every flow that routes to it.';

const device = obj('A SIP endpoint of the user; all of a user\'s devices ring at once.', {
  username: str('SIP username (digest user and AOR user part); unique across the PBX.'),
  password: str('Digest password; must not be empty. Write-only in the admin API.', { secret: true }),
  digest: str('Digest challenges for this device: md5 (one MD5 challenge) or sha256 (SHA-256 first, then MD5); absent = sip.digest.', { oneOf: ['md5', 'sha256'], default: undefined }),
});

const user = obj('A person with an extension.', {
  name: str('Display name, sent as user_name in events.'),
  number: str('Extension, digits only; unique.', { digits: true, check: checkDigits }),
  devices: list('The user\'s SIP devices.', device, { default: [] }),
  voicemail: obj('Voicemail box.', {
    enabled: bool('Whether a user node with no `next` falls through to this box (SPEC §2 "voicemail by default"); an explicit voicemail node always takes messages.', false),
    greeting: str('Path of a greeting WAV on this host (mono 8 kHz, 16-bit PCM or G.711; checked at start and apply); null = built-in greeting. An uploaded greeting takes precedence.', { nullable: true, default: null }),
    emails: list('Addresses each new message is mailed to (as a WAV attachment, through `mail`) and copied into voicemail events.', str('An e-mail address.', { check: checkEmail }), { default: [] }),
    email_subject: str('Subject of the voicemail mail and the event\'s email_subject; {caller_id}, {caller_name}, {user_name}, {user_number}, {duration_s} and {recorded_at} are filled in.', { default: 'New voicemail from {caller_id}' }),
    email_message: str('Body of the voicemail mail and the event\'s email_message; same placeholders as email_subject.', { default: 'You have a new voicemail message from {caller_id} ({caller_name}), {duration_s} s, left at {recorded_at}. The message is attached.' }),
    max_message_s: positive('Longest message, in seconds; recording stops there.', 180),
    min_message_s: int('Messages shorter than this, in seconds, are discarded (a caller who hung up at the beep).', { min: 0, default: 2 }),
    silence_s: positive('Seconds of silence from the caller that end the message.', 10),
  }),
  record: str('Which calls are recorded: none, inbound, outbound or all.', { oneOf: ['none', 'inbound', 'outbound', 'all'], default: 'none' }),
  ring_timeout_s: positive('How long the user\'s devices ring before the flow moves on, in seconds.', 30),
  caller_id: str('E.164 number presented on outbound calls; null = the trunk\'s.', { nullable: true, default: null, check: checkE164 }),
  dnd: bool('Do not disturb: calls to the user do not ring the devices and are treated as busy (forward.busy applies, else the node\'s busy outcome).', false),
  forward: obj('Call forwarding: each target is an extension (that user\'s devices ring) or an external number (dialled through the first trunk); null = none.', {
    always: str('Forward every call at once, without ringing the devices.', { nullable: true, default: null, check: checkForwardTarget }),
    busy: str('Forward when every device is busy, or dnd is on.', { nullable: true, default: null, check: checkForwardTarget }),
    no_answer: str('Forward when nobody answers within ring_timeout_s, or no device is registered.', { nullable: true, default: null, check: checkForwardTarget }),
  }),
});

const number = obj('A DID the PBX receives calls on.', {
  number: str('E.164 with \'+\' (quote it in YAML: "+61390000000").', { check: checkE164 }),
  flow: str('Id of the call flow the number enters.'),
});

const nodeBase = { id: str('Node id, unique within its flow.'), next: next(NEXT_DOC) };
const flowNode: Shape = {
  kind: 'union',
  doc: 'A step of a call flow, chosen by `type`.',
  tag: 'type',
  variants: {
    user: { ...nodeBase, user: str('Number of the user to ring.', { digits: true }), ring_timeout_s: int('Overrides the user\'s ring_timeout_s.', { min: 1, default: undefined }) },
    queue: { ...nodeBase, queue: str('Name of the queue.') },
    ring_group: { ...nodeBase, ring_group: str('Name of the ring group.') },
    voicemail: { ...nodeBase, user: str('Number of the user whose voicemail box takes the message.', { digits: true }) },
    webhook: {
      ...nodeBase,
      component_name: str('Sent as component_name in webhook_component_event.'),
      url: str('http(s) URL the event is POSTed to.', { check: checkHttpUrl }),
      secret_token: str('Sent as X-Pbx-Token; must not be empty. Write-only in the admin API.', { secret: true }),
      headers: {
        kind: 'map', doc: 'Custom headers added to the request (often CRM credentials). Write-only in the admin API: answers list the names only.',
        value: str('Header value.', { allowEmpty: true }), default: {}, secret: true,
      },
    },
    hangup: { ...nodeBase, status: int('SIP status sent to an unanswered caller (default 480).', { min: 400, max: 699, default: undefined }) },
    play: { ...nodeBase, file: str('WAV file played to the caller, who is answered by the PBX first (mono 8 kHz, 16-bit PCM or G.711; relative to the working directory). Checked at apply.') },
  },
};

const flow = obj('A small graph of nodes; a call enters at the first node.', {
  id: str('Flow id, referenced by numbers[].flow.'),
  nodes: list('The nodes; the first is the entry.', flowNode, { minItems: 1 }),
});

const queue = obj('Callers wait; agents are rung by a strategy.', {
  name: str('Queue name; unique; sent as queue_name.'),
  agents: list('User numbers, in order (linear uses it).', str('A user number.', { digits: true }), { default: [] }),
  strategy: str(`One of ${QUEUE_STRATEGIES.join(', ')}.`, { oneOf: QUEUE_STRATEGIES, default: 'ringall' }),
  agent_timeout_s: positive('How long each agent rings, in seconds.', 15),
  max_wait_s: positive('Longest wait before the caller leaves to next (timeout), in seconds.', 300),
  max_callers: int('Callers allowed to wait at once; 0 = unlimited (more go to next as full).', { min: 0, default: 0 }),
  wrap_up_s: int('Pause after an agent\'s call before they are rung again, in seconds.', { min: 0, default: 0 }),
  hold_music: str('What waiting callers hear with a media layer: a WAV file (mono 8 kHz, 16-bit PCM or G.711; relative to the working directory), looped; `default` = the built-in music; null = ringback (180). Checked at apply.', { nullable: true, default: null }),
  next: next(GROUP_NEXT_DOC),
});

const ringGroup = obj('Members rung together (ringall) or in turn (hunt).', {
  name: str('Ring group name; unique; sent as ring_group_name.'),
  members: list('User numbers, in order (hunt uses it).', str('A user number.', { digits: true }), { default: [] }),
  strategy: str(`One of ${RING_GROUP_STRATEGIES.join(', ')}.`, { oneOf: RING_GROUP_STRATEGIES, default: 'ringall' }),
  timeout_s: positive('Whole-group timeout, in seconds.', 30),
  member_timeout_s: positive('Per-member ring time for hunt, in seconds.', 15),
  next: next(GROUP_NEXT_DOC),
});

const trunk = obj('Gateway for external numbers.', {
  name: str('Trunk name; unique.'),
  host: str('IP address or host name.', { check: checkHost }),
  port: int('SIP port.', { min: 1, max: 65535, default: 5060 }),
  transport: str('udp or tcp.', { oneOf: ['udp', 'tcp'], default: 'udp' }),
  username: str('Digest username; null = no authentication.', { nullable: true, default: null }),
  password: str('Digest password. Write-only in the admin API.', { nullable: true, default: null, secret: true }),
  caller_id: str('Default caller id (E.164) when the user has none.', { nullable: true, default: null, check: checkE164 }),
});

/** The whole configuration: one table of every key, its type, default and doc. */
export const PBX_SCHEMA: ObjectShape = obj('The PBX configuration.', {
  pbx: obj('The PBX itself.', {
    name: str('Name shown in logs and status.', { default: 'Switchboard' }),
    time_zone: str('IANA time zone for the history API date filters.', { default: 'UTC', check: checkTimeZone }),
    domain: str('SIP domain of the users\' AORs.', { default: 'switchboard.local', check: checkHost }),
    node_id: int('This engine\'s node id, 0–99: the last two digits of every unique_call_id it mints, and whose calls it closes after a crash. Engines sharing one PostgreSQL store must each have their own (set SWITCHBOARD_NODE_ID per engine; it replaces this key, which is read from the file at start and never from an applied version); a second engine starting with a node id in use is refused.', { min: 0, max: 99, default: 0 }),
    drain_timeout_s: int('On SIGTERM the PBX drains: new INVITEs get 503 with Retry-After, calls in progress may finish for this many seconds, then the rest are hung up (hangup_cause drain-timeout) and the process exits 0. A second SIGTERM exits at once. Read when the signal arrives.', { min: 0, max: 86400, default: 30 }),
    max_call_duration_s: int('Longest a connected call may last, in seconds, before the PBX hangs up both sides (the last guard against calls whose BYE was lost, for parties without session timers); 0 = unlimited.', { min: 0, default: 14400 }),
    session_timers: obj('RFC 4028 session timers on every leg: a party that stops refreshing (or answering refreshes) is hung up, and so is the other side.', {
      enabled: bool('Whether calls ask for (and accept) session timers; off = Session-Expires is neither sent nor answered.', true),
      interval_s: int('Session interval asked for, in seconds (Session-Expires); refreshes go at half of it.', { min: 90, default: 1800 }),
      min_se_s: int('Smallest interval accepted from a caller (Min-SE); a smaller Session-Expires gets 422. RFC 4028 allows no less than 90.', { min: 90, default: 90 }),
    }),
  }),
  sip: obj('The SIP edge.', {
    digest: str('Digest challenges sent to devices: md5 = one MD5 challenge, what Asterisk, Kamailio and FreeSWITCH send and every phone answers; sha256 = SHA-256 first, then MD5, each on its own header line (RFC 8760 §2.4), for phones that read every challenge (some, e.g. baresip with libre < 3.12, fail on any non-MD5 challenge).', { oneOf: ['md5', 'sha256'], default: 'md5' }),
    max_contacts_per_device: positive('Most contacts one device may have registered at once; a REGISTER that would add more gets 503 Too many registered contacts (as Kamailio\'s registrar max_contacts answers) and the existing bindings stay as they were. Refreshing or removing a contact is always allowed.', 10),
    provisional_interval_s: int('While a caller waits unanswered (queue, ring group, long ring), its last 180/183 is sent again this often, in seconds: RFC 3261 §13.3.1.1 asks for a provisional every minute so proxies (Timer C, 3 minutes) do not cancel the call.', { min: 1, max: 60, default: 60 }),
    nonce_secret: str('HMAC key of the digest nonces sent in challenges (at least 16 characters). Engines sharing a store need the same one, so a challenge issued by one engine verifies at another; null = a random key per process (a challenge dies with the process). SWITCHBOARD_NONCE_SECRET replaces it. Read at start. Write-only in the admin API.', { nullable: true, default: null, check: checkNonceSecret, secret: true }),
    invite_reaper_s: positive('Embedded SIP stack (drachtio-lite) only, read at start: an INVITE no connected app holds any more is answered 408 after this many seconds without a response. A transaction the call engine still holds is never reaped, however long the caller waits.', 180),
    tcp: obj('TCP connections of the embedded SIP stack (drachtio-lite). Read live: a change applies to the next connection or check.', {
      max_connections: positive('Most TCP connections open at once (accepted and opened by us); a new inbound connection beyond it is closed at once.', 2048),
      max_connections_per_source: positive('Most TCP connections accepted from one source IP address; the next one is closed at once (a NAT with many TCP phones may need more).', 64),
      idle_timeout_s: positive('A TCP connection with no traffic for this long is destroyed, in seconds.', 600),
      write_buffer_limit_kib: positive('Data queued for a peer that does not read, in KiB: at a quarter of it we stop reading from that peer until it drains; beyond it the connection is destroyed.', 1024),
    }),
    ws: obj('SIP over WebSocket (RFC 7118) for browser phones (sip.js), embedded SIP stack (drachtio-lite) only. Listeners are read at start; limits live. The handshake must offer the subprotocol sip.', {
      port: int('ws:// on its own port, on the SIP bind address; null = off, 0 = a free port (see the ready line).', { min: 0, max: 65535, nullable: true, default: null }),
      http_path: str('Also accept ws:// upgrades at this path of the HTTP API server (e.g. /sip), so a browser reaches SIP on the page\'s own port; null = off.', { nullable: true, default: null, check: (v) => (/^\/[A-Za-z0-9._~/-]{0,100}$/.test(v) ? null : 'must be a path starting with / (letters, digits, . _ ~ - /)') }),
      tls_port: int('wss:// (TLS) on its own port with tls_cert and tls_key; null = off, 0 = a free port.', { min: 0, max: 65535, nullable: true, default: null }),
      tls_cert: str('PEM certificate chain file for wss:// (required with tls_port; read at start).', { nullable: true, default: null }),
      tls_key: str('PEM private key file for wss:// (required with tls_port; read at start).', { nullable: true, default: null }),
      max_connections: positive('Most WebSocket connections open at once; a handshake beyond it gets 503.', 10000),
      max_connections_per_source: positive('Most WebSocket connections from one source IP address; the next handshake gets 503.', 64),
      idle_timeout_s: positive('A WebSocket with no traffic for this long is destroyed, in seconds; a ping at half of it keeps a quiet but live browser.', 600),
      write_buffer_limit_kib: positive('Data queued for a WebSocket peer that does not read, in KiB; beyond it the connection is destroyed.', 1024),
    }),
  }),
  users: list('People with extensions.', user, { default: [] }),
  numbers: list('DIDs and the flows they enter.', number, { default: [] }),
  flows: list('Call flows.', flow, { default: [] }),
  queues: list('Call queues.', queue, { default: [] }),
  ring_groups: list('Ring groups.', ringGroup, { default: [] }),
  trunks: list('SIP trunks (the first is used for outbound calls).', trunk, { default: [] }),
  webhook: obj('The global webhook endpoint.', {
    url: str('http(s) URL events are POSTed to; required when enabled.', { default: '', allowEmpty: true, check: checkHttpUrl }),
    secret_token: str('Sent as X-Pbx-Token; required when enabled. Write-only in the admin API.', { default: '', allowEmpty: true, secret: true }),
    events: list(`Ticked event types: ${WEBHOOK_EVENT_TYPES.join(', ')}.`, str('An event type.', { oneOf: WEBHOOK_EVENT_TYPES }), { default: [...WEBHOOK_EVENT_TYPES] }),
    enabled: bool('Whether events are sent.', false),
    signing_secret: str('Standard Webhooks secret (whsec_ + base64); null = derived from secret_token. Write-only in the admin API.', { nullable: true, default: null, check: checkSigningSecret, secret: true }),
  }),
  api: obj('Integration and admin API access.', {
    api_key: str('Integration API key, expected in the `token` header on /api/integration/v2/* only (it never opens the admin API); SWITCHBOARD_API_KEY replaces it.', { secret: true }),
    admin_key: str('Bootstrap admin key, sent as `Authorization: Bearer <key>` on /api/admin/*; SWITCHBOARD_ADMIN_KEY replaces it. Create further admin keys with POST /api/admin/admin-keys; null = only those.', { nullable: true, default: null, secret: true }),
    whitelisted_ips: list('Addresses or CIDR blocks allowed to call the API (IPv4/IPv6).', str('Address or CIDR.', { check: checkIpOrCidr }), { default: ['127.0.0.1/8', '::1'] }),
    trusted_proxies: list('Proxies whose X-Forwarded-For is believed; empty = never.', str('Address or CIDR.', { check: checkIpOrCidr }), { default: [] }),
    rate_limit_per_min: positive('Requests per minute per key.', 600),
    auth_failures_per_min: positive('Failed (401) requests per minute one source address may make; beyond it every request from that address gets 429 with Retry-After, without its key being checked.', 20),
  }),
  delivery: obj('Webhook delivery tuning.', {
    timeout_ms: positive('Per-attempt HTTP timeout, in ms.', 10000),
    retry_schedule_s: list('Retry delays in seconds; the last repeats until the horizon.', positive('Delay in seconds.'), { default: [5, 30, 120, 600, 1800, 3600], minItems: 1 }),
    horizon_s: positive('Give up on a delivery this long after the event, in seconds.', 86400),
    outbox_warn_at: positive('Pending deliveries at which a warning is logged.', 100000),
    concurrency: positive('Deliveries in flight at once.', 16),
    per_endpoint_concurrency: positive('Deliveries in flight at once to one endpoint URL, so a slow or hanging receiver cannot take every slot from the others.', 8),
    refuse_private_targets: bool('Refuse webhook URLs whose host is, or resolves to, a loopback, private, link-local or other non-public address (SSRF protection): checked at apply and again at send time after DNS resolution.', false),
  }),
  mail: obj('The SMTP relay voicemail messages are mailed through (users[].voicemail.emails).', {
    enabled: bool('Whether voicemail messages are mailed; off = events only.', false),
    host: str('SMTP relay host name or address.', { default: '127.0.0.1', check: checkHost }),
    port: int('SMTP port.', { min: 1, max: 65535, default: 25 }),
    secure: bool('TLS from the first byte (SMTPS, usually port 465); off = plain SMTP upgraded with STARTTLS when the relay offers it.', false),
    username: str('SMTP AUTH user; null = no authentication.', { nullable: true, default: null }),
    password: str('SMTP AUTH password. Write-only in the admin API.', { nullable: true, default: null, secret: true }),
    from: str('From address of voicemail mails.', { default: 'switchboard@switchboard.local', check: checkEmail }),
    retry_schedule_s: list('Retry delays in seconds after a failed send; the mail is given up (and the failure kept) after the last.', positive('Delay in seconds.'), { default: [30, 120, 600, 1800, 3600], minItems: 1 }),
  }),
  media: obj('Call media (DESIGN.md decision 4): who anchors RTP for calls that need it (a recorded user). Read at startup; a change takes effect at the next start.', {
    driver: str('embedded = the in-process G.711 endpoint (RTP on bind_address, ports port_min–port_max); rtpengine = an rtpengine daemon over its ng protocol; none = signalling only (SDP passes through, nothing is recorded).', { oneOf: ['embedded', 'rtpengine', 'none'], default: 'embedded' }),
    bind_address: str('Address the embedded endpoint binds its RTP sockets to.', { default: '127.0.0.1', check: checkHost }),
    advertise_address: str('Address the embedded endpoint puts in SDP (c=); null = bind_address.', { nullable: true, default: null, check: checkHost }),
    port_min: int('Lowest RTP port of the embedded endpoint (even). The default range stays below Linux\'s ephemeral ports (32768–60999, net.ipv4.ip_local_port_range), so outgoing connections never take an RTP port.', { min: 1024, max: 65534, default: 20000 }),
    port_max: int('Highest RTP port of the embedded endpoint (two ports per call leg).', { min: 1025, max: 65535, default: 29999 }),
    rtpengine: obj('The rtpengine driver (media.driver: rtpengine).', {
      ng_host: str('Address of rtpengine\'s ng control socket (--listen-ng).', { default: '127.0.0.1', check: checkHost }),
      ng_port: int('Port of rtpengine\'s ng control socket.', { min: 1, max: 65535, default: 2223 }),
      recording_dir: str('rtpengine\'s --recording-dir as this process sees it (its pcaps/ are converted to WAV); required with driver rtpengine.', { nullable: true, default: null }),
      dtmf_port: int('UDP port on 127.0.0.1 where rtpengine\'s --dtmf-log-dest sends DTMF events; 0 = no DTMF events.', { min: 0, max: 65535, default: 0 }),
      webrtc: bool('With driver embedded: anchor calls with a browser leg (WebRTC SDP, or a callee registered over WebSocket) in this rtpengine (ICE + DTLS-SRTP to the browser, plain RTP to the other side); the embedded endpoint has no DTLS. With driver rtpengine this is always done; with neither, such calls pass SDP through.', false),
    }),
  }),
  recordings: obj('Call recordings (users[].record) and the signed links in recording events.', {
    dir: str('Directory the WAV files go to; null = recordings/ under the data directory (SWITCHBOARD_DATA_DIR).', { nullable: true, default: null }),
    public_url: str('Base URL of our HTTP API as a CRM reaches it, for call_recording_link; null = http://<bind address>:<HTTP port>.', { nullable: true, default: null, check: checkHttpUrl }),
    link_lifetime_s: positive('How long a signed recording link stays valid, in seconds (after that: 410).', 604800),
    retention_days: int('Days a recording (file and row) is kept, from its creation; 0 = forever.', { min: 0, default: 0 }),
    signing_secret: str('HMAC-SHA256 key that signs recording links (at least 16 characters); null = derived from api.api_key (changing the key then voids old links). Write-only in the admin API.', { nullable: true, default: null, secret: true, check: (v: string) => (v.length >= 16 ? null : 'must be at least 16 characters') }),
  }),
  redis: obj('Shared state of several engines (docs/scale-out.md): registrations, queue agent claims and the apply notification live in Redis. Read from the file at start, never from an applied version.', {
    url: str('redis:// or rediss:// URL of the Redis server the engines share; null = no Redis (one engine: registrations in memory and the store, as before). SWITCHBOARD_REDIS_URL replaces it (put a password there, not in the file). An unreachable server stops the start with an error naming this key.', { nullable: true, default: null, check: checkRedisUrl }),
    key_prefix: str('Prefix of every Redis key and channel, so several PBXs (or test runs) can share one Redis server.', { default: 'switchboard:', check: (v) => (/^[A-Za-z0-9:._-]{1,64}$/.test(v) ? null : 'must be 1–64 letters, digits or : . _ -') }),
  }),
  retention: obj('How long history and webhook data are kept; a sweeper deletes older rows in small batches (docs/store.md). 0 = keep forever.', {
    calls_days: int('Days an ended call (history rows, legs) is kept, counted from its start; 0 = forever.', { min: 0, default: 0 }),
    events_days: int('Days a dispatched webhook event is kept once none of its deliveries is pending (its finished deliveries go with it); 0 = forever.', { min: 0, default: 90 }),
    deliveries_days: int('Days a finished (succeeded, failed or disabled) webhook delivery and its attempt log are kept, from its last attempt; 0 = forever.', { min: 0, default: 30 }),
  }),
});

/** The `sip` section with every default (for configurations built in code: tests, benchmarks). */
export function defaultSipConfig(): PbxConfig['sip'] {
  return readShape(PBX_SCHEMA.fields['sip']!, {}, 'sip', { file: 'defaults', issues: [] }) as PbxConfig['sip'];
}

/** The `mail` section with every default (mail off). */
export function defaultMailConfig(): PbxConfig['mail'] {
  return readShape(PBX_SCHEMA.fields['mail']!, {}, 'mail', { file: 'defaults', issues: [] }) as PbxConfig['mail'];
}

/** A user's `voicemail` box with every default, overridden by `over` (for configurations built in code). */
export function defaultVoicemailConfig(over: Partial<VoicemailConfig> = {}): VoicemailConfig {
  const userShape = (PBX_SCHEMA.fields['users'] as Extract<Shape, { kind: 'list' }>).item as ObjectShape;
  return { ...(readShape(userShape.fields['voicemail']!, {}, 'voicemail', { file: 'defaults', issues: [] }) as VoicemailConfig), ...over };
}

/** The `media` and `recordings` sections with every default (configurations built in code: tests, benchmarks). */
export function defaultMediaSections(): Pick<PbxConfig, 'media' | 'recordings'> {
  const ctx = { file: 'defaults', issues: [] };
  return {
    media: readShape(PBX_SCHEMA.fields['media']!, {}, 'media', ctx) as PbxConfig['media'],
    recordings: readShape(PBX_SCHEMA.fields['recordings']!, {}, 'recordings', ctx) as PbxConfig['recordings'],
  };
}

/** The result of {@link validateConfig}. */
export type ValidationResult = { ok: true; config: PbxConfig } | { ok: false; errors: ConfigIssue[] };

/**
 * Validates raw configuration (parsed YAML or admin-API JSON) and fills in defaults. Unknown keys, wrong types
 * and broken references are all reported, each with its path; `source` names the file in every issue.
 */
export function validateConfig(raw: unknown, source: string): ValidationResult {
  const ctx: ReadContext = { file: source, issues: [] };
  const root = raw === null || raw === undefined ? {} : raw;
  const value = readShape(PBX_SCHEMA, root, '', ctx) as PbxConfig | undefined;
  if (value === undefined) return { ok: false, errors: ctx.issues };
  crossCheck(value, ctx);
  return ctx.issues.length === 0 ? { ok: true, config: value } : { ok: false, errors: ctx.issues };
}
