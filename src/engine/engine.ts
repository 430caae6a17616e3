/**
 * The call engine on drachtio-srf: registrar, router, flows, outbound and click-to-call, call records.
 * `createEngine(deps)` builds it; `start()` loads registrations and installs the srf routes; `stop()` refuses
 * new calls and ends the running ones cleanly. It implements the {@link EngineFacade} the API calls.
 */
import type { Clock } from '../common/index.js';
import type { Logger } from '../common/index.js';
import type { FlowNode } from '../config/index.js';
import type { Store } from '../store/index.js';
import { CallTable } from './call/call-factory.js';
import { UserPresence, type EngineContext, type SharedPresence, type RecordingsHost, type VoicemailHost } from './engine-context.js';
import type { MediaLayer } from '../media/index.js';
import { createBus } from '../events/index.js';
import type { ConfigControl } from '../config/index.js';
import { OriginateError, type EngineEventMap, type EngineFacade, type EngineLive, type OriginateRequest, type OriginateResult, type SystemStatus } from './facade.js';
import { callerFromHeader } from './flows/dial-users.js';
import { hangupHandler } from './flows/hangup.js';
import { FlowRunner } from './flows/flow-runner.js';
import { NodeHandlerRegistry, type NodeHandler } from './flows/node-handler.js';
import { playHandler } from './flows/play.js';
import { createQueueHandler } from './flows/queue.js';
import { createRingGroupHandler } from './flows/ring-group.js';
import { targetsOf } from './flows/ring-users.js';
import { mediaHoldMusic, QueueService, ringbackHold, type AgentClaims, type HoldMusic, type SharedStrategyMemory } from './queue/index.js';
import { createUserHandler } from './flows/user.js';
import { voicemailHandler } from './flows/voicemail.js';
import { webhookHandler } from './flows/webhook.js';
import { LocationService, type LocationBackend } from './location/location-service.js';
import { originate } from './originate/originate.js';
import { CommitBatcher } from './records/commit-batcher.js';
import { recoverCalls } from './records/recovery.js';
import { DeviceAuthenticator } from './registrar/device-auth.js';
import { DigestServer } from '../sip/digest.js';
import { FailureRateLimiter } from './registrar/rate-limiter.js';
import { Registrar, type ExpiresPolicy } from './registrar/registrar.js';
import { InviteRouter } from './router/invite-router.js';
import { Status } from '../sip/syntax.js';
import type { SrfLike } from './srf-types.js';
import { createUniqueCallIdGenerator } from './unique-call-id.js';

/** Dependencies and tuning of the engine. */
export interface EngineOptions {
  srf: SrfLike;
  store: Store;
  /** Calls read `live()` once, at their start, and keep that version. */
  config: ConfigControl;
  clock: Clock;
  log: Logger;
  /** Called after every committed call step (wakes the webhook dispatcher). */
  onCommitted?: () => void;
  /** Software version reported by `status()`. */
  version: string;
  /** 0–99; distinguishes engines sharing a store in unique_call_ids. */
  nodeId?: number;
  registrar?: {
    expires?: Partial<ExpiresPolicy>;
    /** Authentication failures per (source, username) per minute before that pair is refused; default 20. */
    maxFailuresPerMinute?: number;
    /** Failures per username per minute, from all sources, before the username is refused; default 5 × the above. */
    maxFailuresPerUserPerMinute?: number;
    nonceTtlMs?: number;
  };
  /** How often the engine records that it is alive (crash recovery ends a crashed run's calls there); default 5 s. */
  heartbeatMs?: number;
  /**
   * Engines share this store (PostgreSQL): start() refuses a node id whose heartbeat still moves (another engine
   * runs with it), after watching it for 1.5 heartbeats when the last one is recent.
   */
  sharedStore?: boolean;
  /** How long stop() waits for calls to end before giving up on commits the store does not take; default 5 s. */
  stopTimeoutMs?: number;
  /** How often expired registrations are purged; default 10 s. */
  purgeIntervalMs?: number;
  /** Extra node handlers; they replace the built-in ones of the same type. */
  handlers?: NodeHandler<FlowNode>[];
  /** Queues: hold music (default ringback), rng for `random`, pause before re-offering a caller (default 1000 ms). */
  queue?: { holdMusic?: HoldMusic; rng?: () => number; retryMs?: number };
  /** Media anchoring for calls that need it (recorded users); absent = SDP always passes through. */
  media?: MediaLayer;
  /** rtpengine for calls with a browser leg (see EngineContext.webrtcMedia). */
  webrtcMedia?: MediaLayer;
  /** Where recordings go and how their signed links look; absent = nothing is recorded. */
  recordings?: RecordingsHost;
  /** Voicemail files, prompts and links; absent = the voicemail node answers 480. */
  voicemail?: VoicemailHost;
  /** The built-in hold music (`hold_music: default`); absent = queue callers always hear ringback. */
  holdMusicFile?: string;
  /**
   * State shared with other engines (Redis, docs/scale-out.md): where registrations are kept (default the store)
   * the queue agents' claims (default none: this engine alone offers its agents), the queue strategies' memory and
   * which users are on a call (default this engine's own).
   */
  shared?: { location?: LocationBackend; claims?: AgentClaims; strategyMemory?: SharedStrategyMemory; presence?: SharedPresence };
}

/** The running engine. */
export interface Engine extends EngineFacade, EngineLive {
  start(): Promise<void>;
  /** Refuses new calls (503), ends every call and stops timers. */
  stop(): Promise<void>;
  /**
   * Graceful drain (SIGTERM): new INVITEs get 503 + Retry-After, calls in progress may go on for up to `timeoutMs`;
   * then the rest are hung up (BYE; hangup_cause `drain-timeout`). Resolves once no call is left.
   */
  drain(timeoutMs: number): Promise<{ finished: number; hungUp: number }>;
  /** True from drain() on: readiness probes report not ready. */
  readonly draining: boolean;
  /** Adds or replaces a node handler (issue #4 plugs queues and ring groups in here). */
  registerHandler(handler: NodeHandler<FlowNode>): void;
  /** Services shared with node handlers (presence: "is this user on a call"). */
  readonly context: EngineContext;
  /** Live queue state: waiting callers and agent states. */
  readonly queues: QueueService;
  /**
   * A WebSocket connection closed (the SIP server says so; drachtio-lite does): the bindings registered over it are
   * removed. `flow` is the connection's remote end as srf saw it (`protocol`, `source_address`, `source_port`).
   */
  flowClosed(flow: { transport: string; address: string; port: number }): void;
}

/** Builds the engine. */
export function createEngine(opts: EngineOptions): Engine {
  const startedAt = opts.clock.now();
  const log = opts.log.child({ module: 'engine' });
  const location = new LocationService({
    ...(opts.shared?.location ? { backend: opts.shared.location } : { store: opts.store }),
    clock: opts.clock, log, ...(opts.purgeIntervalMs ? { purgeIntervalMs: opts.purgeIntervalMs } : {}),
  });
  const handlers = new NodeHandlerRegistry();
  const events = createBus<EngineEventMap>({ log });
  const ctx: EngineContext = {
    srf: opts.srf, store: opts.store, clock: opts.clock, log, location, events,
    presence: new UserPresence(opts.shared?.presence ? { shared: opts.shared.presence, clock: opts.clock, log } : undefined),
    ...(opts.onCommitted ? { onCommitted: opts.onCommitted } : {}),
    ...(opts.media ? { media: opts.media } : {}),
    ...(opts.webrtcMedia ? { webrtcMedia: opts.webrtcMedia } : {}),
    ...(opts.recordings ? { recordings: opts.recordings } : {}),
    ...(opts.voicemail ? { voicemail: opts.voicemail } : {}),
    domain: () => opts.config.live().config.pbx.domain,
  };
  const callerFrom = (call: Parameters<typeof callerFromHeader>[0]): string => callerFromHeader(call, call.recorder.callerId, call.recorder.callerName);
  const userOf = (n: string) => opts.config.live().config.users.find((u) => u.number === n);
  const queues = new QueueService({
    clock: opts.clock, log, isOnCall: (n) => ctx.presence.isOnCall(n),
    isRegistered: (n) => { const u = userOf(n); return !!u && targetsOf(location, [u]).length > 0; },
    onChange: () => events.publish('queue.changed', { queue: null }),
    ...(opts.queue?.rng ? { rng: opts.queue.rng } : {}), ...(opts.queue?.retryMs !== undefined ? { retryMs: opts.queue.retryMs } : {}),
    ...(opts.shared?.claims ? { claims: opts.shared.claims } : {}),
    ...(opts.shared?.strategyMemory ? { memory: opts.shared.strategyMemory } : {}),
  });
  location.onChange((username) => { queues.wake(); events.publish('registration.changed', { username }); });
  ctx.presence.onChange(() => queues.wake());
  handlers
    .register(createUserHandler(callerFrom))
    .register(voicemailHandler).register(webhookHandler).register(hangupHandler).register(playHandler)
    .register(createQueueHandler({ queues, holdMusic: opts.queue?.holdMusic ?? (opts.media && opts.holdMusicFile ? mediaHoldMusic(opts.holdMusicFile) : ringbackHold), callerFrom }))
    .register(createRingGroupHandler(callerFrom));
  for (const h of opts.handlers ?? []) handlers.register(h);

  const nodeId = opts.nodeId ?? 0;
  const batcher = new CommitBatcher({ store: opts.store, log });
  const calls = new CallTable(ctx, createUniqueCallIdGenerator({ clock: opts.clock, nodeId }), batcher);
  let heartbeat: unknown = null;
  const beat = (): void => {
    void opts.store.recordHeartbeat(nodeId, opts.clock.now()).catch((err: unknown) => log.warn({ err }, 'heartbeat not recorded'));
    heartbeat = opts.clock.setTimeout(beat, opts.heartbeatMs ?? 5000);
  };
  // A shared nonce key (sip.nonce_secret) lets a challenge issued by one engine verify at another.
  const nonceSecret = opts.config.live().config.sip.nonce_secret;
  const digest = new DigestServer({
    realm: opts.config.live().config.pbx.domain, clock: opts.clock, ...(nonceSecret ? { secret: Buffer.from(nonceSecret, 'utf8') } : {}),
    ...(opts.registrar?.nonceTtlMs ? { nonceTtlMs: opts.registrar.nonceTtlMs } : {}),
  });
  const perPair = opts.registrar?.maxFailuresPerMinute ?? 20;
  const limiter = new FailureRateLimiter({ clock: opts.clock, maxFailures: perPair, windowMs: 60_000 });
  const userLimiter = new FailureRateLimiter({ clock: opts.clock, maxFailures: opts.registrar?.maxFailuresPerUserPerMinute ?? perPair * 5, windowMs: 60_000 });
  const auth = new DeviceAuthenticator({ digest, limiter, userLimiter, config: opts.config });
  const registrar = new Registrar({
    auth, location, clock: opts.clock, log, maxContacts: () => opts.config.live().config.sip.max_contacts_per_device,
    ...(opts.registrar?.expires ? { expires: opts.registrar.expires } : {}),
  });
  /**
   * Another live engine with our node id would mint the same unique_call_ids and close our calls as crashed. Its
   * heartbeat moves; a crashed run's does not. Only a recent one is watched, so a restart after a crash waits
   * 1.5 heartbeats at most.
   */
  const ensureNodeFree = async (lastMs: number | undefined): Promise<void> => {
    const every = opts.heartbeatMs ?? 5000;
    if (lastMs === undefined || opts.clock.now() - lastMs > 3 * every) return;
    log.info({ node_id: nodeId }, 'node id seen alive lately: checking that no other engine uses it');
    await new Promise<void>((r) => opts.clock.setTimeout(r, 1.5 * every + 1000));
    const now = await opts.store.getHeartbeat(nodeId);
    if (now !== undefined && now !== lastMs) {
      throw new Error(`node id ${nodeId} is in use by another engine on this store (its heartbeat moved ${Math.max(0, Math.round((opts.clock.now() - now) / 1000))} s ago): give each engine its own SWITCHBOARD_NODE_ID (pbx.node_id), 0–99`);
    }
  };
  let accepting = false;
  let drainUntilMs: number | null = null;
  const invites = new InviteRouter({
    srf: opts.srf, config: opts.config, auth, calls, flows: new FlowRunner(handlers), log, accepting: () => accepting,
    retryAfterS: () => drainUntilMs === null ? undefined : Math.max(1, Math.ceil((drainUntilMs - opts.clock.now()) / 1000)),
  });
  let routesInstalled = false;

  return {
    context: ctx,
    queues,
    events: { on: (name, listener) => events.on(name, listener) },
    liveCalls: () => calls.all().map((c) => {
      const r = c.recorder.record();
      return { unique_call_id: c.uniqueCallId, state: c.state, direction: r.direction, caller_id: r.caller_id, caller_name: r.caller_name, dest_number: r.dest_number, started_at: r.call_start_at };
    }),
    hangup(uniqueCallId: string): boolean {
      const call = calls.get(uniqueCallId);
      if (!call || call.isEnding) return false;
      call.handle({ kind: 'hangup', reason: 'admin-hangup' });
      return true;
    },
    registrations: () => {
      const known = opts.config.live().config.users.flatMap((u) => u.devices.map((d) => d.username));
      return known.flatMap((u) => location.bindings(u).map((b) => ({ username: u, contact: b.contact, expires_at: new Date(b.expires_at).toISOString() })));
    },
    queueState: () => queues.snapshot(),
    config: opts.config,
    async start(): Promise<void> {
      // Before any new call: the previous run's last heartbeat, then close what it left open (records/recovery.ts).
      const lastAliveMs = await opts.store.getHeartbeat(nodeId);
      if (opts.sharedStore && heartbeat === null) await ensureNodeFree(lastAliveMs);
      await location.start();
      await ctx.presence.start();
      if (heartbeat === null) beat();
      const recovered = await recoverCalls({
        store: opts.store, srf: opts.srf, log, nodeId, lastAliveMs, ...(opts.onCommitted ? { onCommitted: opts.onCommitted } : {}),
      });
      if (recovered > 0) log.warn({ recovered, last_alive_at: lastAliveMs === undefined ? null : new Date(lastAliveMs).toISOString() }, 'recovered calls left open by a crash');
      accepting = true;
      if (routesInstalled) return;
      routesInstalled = true;
      opts.srf.register((req, res) => registrar.handle(req, res));
      opts.srf.invite((req, res) => invites.handle(req, res));
      opts.srf.options((_req, res) => {
        try {
          // Allow and Supported are the SIP server's: it knows what it and the connected apps really handle.
          res.send(Status.OK);
        } catch { /* gone */ }
      });
      log.info({ registered_devices: location.registeredDeviceCount() }, 'engine started');
    },
    async stop(): Promise<void> {
      accepting = false;
      const running = calls.all();
      for (const c of running) c.handle({ kind: 'stop' });
      const ended = Promise.all(running.map((c) => c.end('shutdown')));
      // A store that stays down must not hold the shutdown for ever: give up on the held commits (each is logged).
      let timer: unknown = null;
      const late = await Promise.race([ended.then(() => false), new Promise<boolean>((r) => { timer = opts.clock.setTimeout(() => r(true), opts.stopTimeoutMs ?? 5000); })]);
      opts.clock.clearTimeout(timer);
      if (late) await batcher.abandonHeld();
      await ended;
      if (heartbeat !== null) opts.clock.clearTimeout(heartbeat);
      heartbeat = null;
      queues.stop();
      ctx.presence.stop();
      location.stop();
      log.info({ ended_calls: running.length }, 'engine stopped');
    },
    get draining(): boolean {
      return drainUntilMs !== null;
    },
    async drain(timeoutMs: number): Promise<{ finished: number; hungUp: number }> {
      accepting = false;
      drainUntilMs ??= opts.clock.now() + timeoutMs;
      const before = calls.size;
      log.info({ active_calls: before, drain_timeout_s: timeoutMs / 1000 }, 'draining: new calls refused, waiting for calls in progress');
      if (before > 0) {
        let timer: unknown = null;
        let off: () => void = () => undefined;
        await new Promise<void>((done) => {
          off = events.on('call.ended', () => { if (calls.size === 0) done(); });
          timer = opts.clock.setTimeout(done, Math.max(0, drainUntilMs! - opts.clock.now()));
          if (calls.size === 0) done();
        });
        off();
        opts.clock.clearTimeout(timer);
      }
      const left = calls.all().filter((c) => !c.isEnding);
      if (left.length > 0) log.warn({ calls: left.length }, 'drain timeout: hanging up the calls still in progress');
      for (const c of left) c.handle({ kind: 'hangup', reason: 'drain-timeout' });
      await Promise.all(calls.all().map((c) => c.end('drain-timeout')));
      return { finished: before - left.length, hungUp: left.length };
    },
    registerHandler(handler: NodeHandler<FlowNode>): void {
      handlers.register(handler);
    },
    flowClosed(flow): void {
      const n = location.flowClosed(flow);
      if (n > 0) log.info({ flow: `${flow.transport}:${flow.address}:${flow.port}`, bindings: n }, 'websocket closed: registrations removed');
    },
    originate(req: OriginateRequest): Promise<OriginateResult> {
      if (drainUntilMs !== null) return Promise.reject(new OriginateError('engine_unavailable', 'The call engine is draining (shutting down); try another node'));
      return originate({ ctx, config: opts.config, calls }, req);
    },
    async status(): Promise<SystemStatus> {
      // A device deleted by an apply keeps its bindings until they expire, but it is no longer a device of the PBX.
      const live = opts.config.live();
      const known = new Set(live.config.users.flatMap((u) => u.devices.map((d) => d.username)));
      return {
        version: opts.version, uptime_s: Math.floor((opts.clock.now() - startedAt) / 1000),
        registered_devices: location.registeredDeviceCount((u) => known.has(u)), active_calls: calls.size, config_version: live.version,
      };
    },
  };
}
