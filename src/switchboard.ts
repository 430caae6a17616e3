/**
 * The composition root: builds every module from settings and a configuration, wires them, and listens.
 * `main.ts` calls it for `npm start`; e2e tests call it in-process on free ports. The only file (with main.ts)
 * that knows the concrete backends: SQLite or PostgreSQL, drachtio-lite or a real drachtio-server.
 */
import Srf from 'drachtio-srf';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot, systemClock, type Clock } from './common/index.js';
import type { Logger } from './common/index.js';
import { checkMediaFiles, createConfigVersions, type ConfigVersions, type PbxConfig, type RuntimeSettings } from './config/index.js';
import { connectionLimits, createDrachtioLite, wsListeners, type DrachtioLite } from './drachtio-lite/index.js';
import type { SipStackStats, TransportProtocol } from './sip/index.js';
import { createEngine, type Engine, type NodeHandler, type SrfLike, type VoicemailHost } from './engine/index.js';
import type { FlowNode } from './config/index.js';
import { createDispatcher, createVoicemailMailer, createWebhookAdmin, type Dispatcher, type HostLookup } from './events/index.js';
import { buildApp, createOpsMetrics, type OpsMetrics, type Readiness } from './api/index.js';
import { connectRedis, RedisAgentClaims, RedisLocationStore, RedisPresence, RedisStrategyMemory, type RedisShared } from './redis/index.js';
import type { Binding } from './engine/index.js';
import { createPostgresStore, createSqliteStore, RetentionSweeper, type CallCommit, type Store } from './store/index.js';
import { formatHost } from './common/index.js';
import type { MediaLayer } from './media/index.js';
import { createNgClient, createRtpengineMediaLayer } from './media/rtpengine/index.js';
import { createEmbeddedMediaLayer } from './media/embedded/index.js';
import { recordingLink } from './api/index.js';
import { voicemailLink } from './api/index.js';


/** The repository (or image) root: media/prompts, package.json and console/dist are found from it. */
const ROOT = packageRoot(import.meta.dirname);
/** The built-in prompts committed with the source (media/prompts/README.md says how they were made). */
const PROMPTS_DIR = join(ROOT, 'media', 'prompts');
const PROMPTS = { greeting: join(PROMPTS_DIR, 'greeting-default.wav'), beep: join(PROMPTS_DIR, 'beep.wav'), holdMusic: join(PROMPTS_DIR, 'hold-music.wav') };

/** Switchboard's version, from package.json (User-Agent, OpenAPI, get-system-status). */
export const VERSION: string = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export interface SwitchboardOptions {
  settings: RuntimeSettings;
  /** The configuration file's content (version 1, or a new version if it changed since the last run). */
  config: PbxConfig;
  log: Logger;
  clock?: Clock;
  /** SIP timers (tests use a small T1). */
  sipTimers?: { t1?: number; t2?: number; t4?: number };
  /** Use this store instead of building one from settings (tests). */
  store?: Store;
  /** Extra node handlers (queues, ring groups) registered into the engine. */
  handlers?: NodeHandler<FlowNode>[];
  /** Engine tuning passed through (registrar expiry policy, purge interval). */
  engine?: { purgeIntervalMs?: number; registrar?: Parameters<typeof createEngine>[0]['registrar'] };
  /** Dispatcher tuning passed through (tests shorten the poll interval, or resolve webhook host names themselves). */
  dispatcher?: { pollIntervalMs?: number; jitter?: number; lookup?: HostLookup };
  /** Retention sweeper tuning (tests run it sooner and more often). */
  retention?: { intervalMs?: number; firstRunMs?: number; batchSize?: number };
  /** Where the built web console is (default console/dist; tests build a fresh copy). */
  consoleDir?: string;
  /** How long close() lets HTTP responses in flight finish before it cuts their connections; default 5 s. */
  httpCloseTimeoutMs?: number;
}

/** Opens the media layer `media.driver` names (null for `none`); its close goes onto `cleanup`. */
/**
 * The layer for calls with a browser leg: the rtpengine driver itself, or with the embedded driver an rtpengine at
 * media.rtpengine when `media.rtpengine.webrtc` asks for it; null = such calls pass SDP through.
 */
async function openWebRtcMedia(config: PbxConfig, media: MediaLayer | null, log: Logger, cleanup: Array<() => Promise<void> | void>): Promise<MediaLayer | null> {
  const m = config.media;
  if (m.driver === 'rtpengine') return media;
  if (!m.rtpengine.webrtc) return null;
  const ng = await createNgClient({ address: { host: m.rtpengine.ng_host, port: m.rtpengine.ng_port }, log });
  cleanup.push(() => ng.close());
  const layer = await createRtpengineMediaLayer({ ng, recordingDir: m.rtpengine.recording_dir ?? '', log });
  cleanup.push(() => layer.close());
  log.info({ ng: `${m.rtpengine.ng_host}:${m.rtpengine.ng_port}` }, 'media: rtpengine for calls with a browser (WebRTC) leg');
  return layer;
}

async function openMedia(config: PbxConfig, log: Logger, cleanup: Array<() => Promise<void> | void>): Promise<MediaLayer | null> {
  const m = config.media;
  if (m.driver === 'embedded') {
    const layer = createEmbeddedMediaLayer({
      bindAddress: m.bind_address, ...(m.advertise_address ? { advertiseAddress: m.advertise_address } : {}), portMin: m.port_min, portMax: m.port_max, log,
    });
    cleanup.push(() => layer.close());
    log.info({ rtp: `${m.bind_address}:${m.port_min}-${m.port_max}` }, 'media: embedded G.711 endpoint');
    return layer;
  }
  if (m.driver === 'rtpengine') {
    const ng = await createNgClient({ address: { host: m.rtpengine.ng_host, port: m.rtpengine.ng_port }, log });
    cleanup.push(() => ng.close());
    const layer = await createRtpengineMediaLayer({
      ng, recordingDir: m.rtpengine.recording_dir!, log,
      ...(m.rtpengine.dtmf_port > 0 ? { dtmfListen: { host: '127.0.0.1', port: m.rtpengine.dtmf_port } } : {}),
    });
    cleanup.push(() => layer.close());
    log.info({ ng: `${m.rtpengine.ng_host}:${m.rtpengine.ng_port}` }, 'media: rtpengine');
    return layer;
  }
  log.info('media: none (SDP passes through; nothing is recorded)');
  return null;
}

/** A running Switchboard. */
export interface Switchboard {
  readonly sip: Array<{ transport: TransportProtocol; address: string; port: number }>;
  readonly http: { address: string; port: number };
  readonly store: Store;
  readonly engine: Engine;
  readonly dispatcher: Dispatcher;
  readonly config: ConfigVersions;
  readonly mode: 'drachtio-lite' | 'drachtio-server';
  /** The embedded SIP stack's counters; undefined with a real drachtio-server. */
  sipStats(): SipStackStats | undefined;
  /** Stops accepting, ends calls, flushes and closes everything, in reverse order of start. */
  close(): Promise<void>;
  /**
   * Graceful drain (SIGTERM): /ready turns 503 and new calls are refused (503 + Retry-After) at once; calls in
   * progress get up to `timeoutMs` to finish, then the rest are hung up. Call close() afterwards.
   */
  drain(timeoutMs: number): Promise<{ finished: number; hungUp: number }>;
  /** What /ready reports now. */
  readiness(): Promise<Readiness>;
  readonly metrics: OpsMetrics;
  /** The Redis connection engines share state through (redis.url); undefined without one. */
  readonly redis: RedisShared | undefined;
}

/** How long /ready waits for the store before calling it unreachable. */
const STORE_CHECK_MS = 2000;

/** The store with every call-step commit (one, or a batch in one transaction) timed into the metrics. */
function timedCommits(store: Store, metrics: OpsMetrics): Store {
  const timed = <A extends unknown[]>(fn: (...a: A) => Promise<void>) => async (...a: A): Promise<void> => {
    const t0 = performance.now();
    let ok = false;
    try {
      await fn(...a);
      ok = true;
    } finally {
      metrics.observeStoreCommit((performance.now() - t0) / 1000, ok);
    }
  };
  // commitMany is the batch form some backends offer (engine/records/commit-batcher.ts uses it when present).
  const many = (store as { commitMany?: (cs: readonly CallCommit[]) => Promise<void> }).commitMany?.bind(store);
  const wrapped: Record<string, unknown> = { commit: timed((c: CallCommit) => store.commit(c)), ...(many ? { commitMany: timed(many) } : {}) };
  // Other methods are bound to the real store: its backends keep #private state.
  return new Proxy(store, {
    get(target, key) {
      if (typeof key === 'string' && key in wrapped) return wrapped[key];
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Resolves true when `p` resolves within `ms`, false when it rejects or is late. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p.then(() => true, () => false), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

/** Builds and starts Switchboard. Rejects (after cleaning up what it started) if any part fails to start. */
export async function startSwitchboard(opts: SwitchboardOptions): Promise<Switchboard> {
  const { settings, log } = opts;
  const clock = opts.clock ?? systemClock;
  const cleanup: Array<() => Promise<void> | void> = [];
  const closeAll = async (): Promise<void> => {
    for (const fn of cleanup.reverse()) {
      try { await fn(); } catch (err) { log.warn({ err }, 'error while shutting down'); }
    }
    cleanup.length = 0;
  };
  try {
    // Redis first: an unreachable one stops the start before anything listens (the error names the key).
    const redisUrl = settings.redisUrl ?? opts.config.redis?.url ?? null;
    let redis: RedisShared | undefined;
    if (redisUrl !== null) {
      redis = await connectRedis({ url: redisUrl, keyPrefix: opts.config.redis?.key_prefix ?? 'switchboard:', log, source: settings.redisUrl ? 'SWITCHBOARD_REDIS_URL' : `${settings.configPath}: redis.url` });
      const r = redis;
      cleanup.push(() => r.close());
    }

    const store = opts.store ?? (await openStore(settings, log));
    if (!opts.store) cleanup.push(() => store.close());
    await store.migrate();

    const config = await createConfigVersions({ store, initial: opts.config, clock, log, checkFiles: checkMediaFiles });
    const live = () => config.live().config;
    if (redis) {
      // Apply propagated: an apply here is announced; an announced one (or any missed during an outage) is loaded.
      const r = redis;
      const reload = () => void config.reload().catch((err: unknown) => log.error({ err }, 'loading a configuration version applied at another engine failed'));
      config.on('applied', (v, how) => {
        if (!how.remote) r.publish({ k: 'config', v: v.version }).catch((err: unknown) => log.warn({ err, config_version: v.version }, 'announcing the apply to the other engines failed: they load it when Redis is back'));
      });
      r.on('config', (n) => { if (n.v > config.live().version) reload(); });
      r.onResync(reload);
    }

    let lite: DrachtioLite | undefined;
    let drachtio: { host: string; port: number; secret: string };
    if (settings.drachtio) {
      drachtio = settings.drachtio;
      log.info({ host: drachtio.host, port: drachtio.port }, 'signalling: connecting to a drachtio-server (DRACHTIO_HOST)');
    } else {
      const secret = randomBytes(16).toString('hex');
      lite = await createDrachtioLite({
        sip: {
          listen: [
            { transport: 'udp', address: settings.bind, port: settings.sipPort },
            { transport: 'tcp', address: settings.bind, port: settings.sipPort },
            ...wsListeners(live().sip.ws, settings.bind, settings.configPath),
          ],
          // Read at start: the stack's timers are fixed for its lifetime.
          timers: { ...opts.sipTimers, inviteReaperMs: live().sip.invite_reaper_s * 1000 },
          tcp: () => connectionLimits(live().sip.tcp),
          ws: () => connectionLimits(live().sip.ws),
        },
        control: { address: '127.0.0.1', port: 0 },
        secret,
        log,
        clock,
      });
      cleanup.push(() => lite!.close());
      drachtio = { host: '127.0.0.1', port: lite.controlPort, secret };
      log.info({ control: lite.controlPort }, 'signalling: embedded drachtio-lite');
    }

    const srf = new Srf();
    // Readiness: SIP is "listening" while srf holds its connection to the SIP server (drachtio-lite or drachtio-server).
    let srfConnected = false;
    srf.on('connect', (err: Error | null) => { srfConnected = !err; });
    srf.on('close', () => { srfConnected = false; });
    srf.on('reconnecting', () => { srfConnected = false; });
    srf.on('error', (err: Error) => log.warn({ err }, 'drachtio connection error'));
    cleanup.push(() => srf.disconnect());
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      // srf reports a refused secret as connect(err), not as an error event.
      srf.once('connect', (err: Error | null) => {
        srf.removeListener('error', onError);
        if (err) reject(new Error(`drachtio server ${drachtio.host}:${drachtio.port} refused us: ${err.message} (check DRACHTIO_SECRET)`));
        else resolve();
      });
      srf.once('error', onError);
      srf.connect({ host: drachtio.host, port: drachtio.port, secret: drachtio.secret });
    });

    const dispatcher = createDispatcher({ store, getConfig: live, getConfigVersion: () => config.live().version, clock, log, version: VERSION, ...opts.dispatcher });
    dispatcher.start();
    cleanup.push(() => dispatcher.stop());

    // Media is read from the configuration at startup (a driver change takes effect at the next start).
    const media = await openMedia(live(), log, cleanup);
    const webrtcMedia = await openWebRtcMedia(live(), media, log, cleanup);
    const recordingsDir = resolve(live().recordings.dir ?? join(settings.dataDir, 'recordings'));
    mkdirSync(recordingsDir, { recursive: true });
    // The HTTP address is known once the API listens; links are made only later, during calls.
    let baseUrl = `http://${formatHost(settings.bind)}:${settings.httpPort}`;
    const publicUrl = (): string => live().recordings.public_url ?? baseUrl;

    // Voicemail to e-mail: resumes pending mail after a restart; the engine kicks it when a message is left.
    const mailer = createVoicemailMailer({ store, config: live, clock, log });
    mailer.start();
    cleanup.push(() => mailer.stop());
    const voicemailDir = join(settings.dataDir, 'voicemail');

    const voicemail: VoicemailHost = {
      dir: voicemailDir, defaultGreeting: PROMPTS.greeting, beep: PROMPTS.beep,
      link: (id, c) => voicemailLink(c, publicUrl(), id, clock.now()), left: () => mailer.kick(),
    };

    // The process's identity: SWITCHBOARD_NODE_ID, else the file's pbx.node_id (never an applied version's).
    const nodeId = settings.nodeId ?? opts.config.pbx.node_id;
    const metrics = createOpsMetrics({ node_id: String(nodeId) });
    const engine = createEngine({
      nodeId,
      // PostgreSQL is how engines share a store (SQLite is one process's file).
      sharedStore: !opts.store && settings.databaseUrl !== null,
      srf: srf as unknown as SrfLike,
      store: timedCommits(store, metrics),
      config,
      clock,
      log,
      version: VERSION,
      onCommitted: () => dispatcher.wake(),
      ...(redis ? {
        shared: {
          location: new RedisLocationStore<Binding>(redis), claims: new RedisAgentClaims(redis),
          strategyMemory: new RedisStrategyMemory(redis), presence: new RedisPresence(redis),
        },
      } : {}),
      ...(opts.handlers ? { handlers: opts.handlers } : {}),
      ...(webrtcMedia ? { webrtcMedia } : {}),
      ...(media ? { media, voicemail, holdMusicFile: PROMPTS.holdMusic, recordings: { dir: recordingsDir, link: (id, c) => recordingLink(c, publicUrl(), id, clock.now()) } } : {}),
      ...opts.engine,
    });
    await engine.start();
    cleanup.push(() => engine.stop());
    // A browser's WebSocket closed: the registrations made over it go with it (RFC 7118 flows).
    lite?.onFlowClosed((remote) => engine.flowClosed(remote));

    const sweeper = new RetentionSweeper({
      store, clock, log, retention: () => live().retention, recordingRetentionDays: () => live().recordings.retention_days, ...opts.retention,
    });
    sweeper.start();
    cleanup.push(() => sweeper.stop());

    cleanup.push(metrics.attach({
      live: engine, deliveryStats: () => dispatcher.stats(), draining: () => engine.draining, queueNames: () => live().queues.map((q) => q.name),
      ...(redis ? { redisUp: () => redis.connected } : {}),
    }));
    const readiness = async (): Promise<Readiness> => ({
      store: await within(store.getHeartbeat(nodeId), STORE_CHECK_MS),
      sip: srfConnected && (!lite || lite.sipEndpoints.length > 0),
      draining: engine.draining,
      ...(redis ? { redis: redis.connected && await within(redis.client.ping(), STORE_CHECK_MS) } : {}),
    });

    const webhooksAdmin = createWebhookAdmin({ store, dispatcher, getConfig: live, getConfigVersion: () => config.live().version, clock });
    // Where the softphone page (/phone/) connects: the embedded stack's WebSocket listeners as bound (a real
    // drachtio-server's are its own business, so the page is told of none).
    const wsAt = (t: string): number | null => lite?.sipEndpoints.find((e) => e.transport === t)?.port ?? null;
    const phone = lite ? { path: live().sip.ws.http_path, port: wsAt('ws'), tls_port: wsAt('wss') } : undefined;
    const app = buildApp({
      engine, live: engine, ...(opts.consoleDir ? { consoleDir: opts.consoleDir } : {}), ...(phone ? { phone } : {}), store, getConfig: live, webhooksAdmin, log, clock,
      version: VERSION, startedAt: clock.now(), voicemailDir, baseUrl: publicUrl,
      voicemailLink: (id) => voicemailLink(live(), publicUrl(), id, clock.now()),
      ops: { metrics, readiness },
    });
    await app.listen({ host: settings.bind, port: settings.httpPort });
    cleanup.push(async () => {
      // app.close() waits for responses in flight, and a client that stopped reading a download (a paused
      // recording stream) never lets one finish: after the grace period its connection is cut, so a stop always ends.
      const closing = app.close();
      if (!(await within(closing, opts.httpCloseTimeoutMs ?? 5000))) {
        log.warn('HTTP responses still in flight at shutdown: closing their connections');
        app.server.closeAllConnections();
        await closing;
      }
    });
    const addr = app.server.address();
    const http = typeof addr === 'object' && addr ? { address: addr.address, port: addr.port } : { address: settings.bind, port: settings.httpPort };
    const wsPath = live().sip.ws.http_path;
    if (lite && wsPath) {
      // SIP over WebSocket on the page's own origin: upgrades at sip.ws.http_path go to the SIP stack, others are
      // refused (the API has no WebSocket routes).
      const onUpgrade = lite.attachWebSocket('ws', http);
      app.server.on('upgrade', (req, socket, head) => {
        if ((req.url ?? '').split('?')[0] === wsPath) return onUpgrade(req, socket, head);
        socket.on('error', () => undefined);
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      });
    }
    baseUrl = `http://${formatHost(http.address)}:${http.port}`;

    const sip = lite ? lite.sipEndpoints.map((e) => ({ transport: e.transport, address: e.address, port: e.port })) : [];
    const mode = lite ? 'drachtio-lite' : 'drachtio-server';
    log.info(
      { sip: sip.map((e) => `${e.transport}:${e.address}:${e.port}`), http: `http://${formatHost(http.address)}:${http.port}`, mode, config_version: config.live().version, node_id: nodeId },
      `ready: SIP ${sip.length ? sip.map((e) => `${e.address}:${e.port}/${e.transport}`).join(', ') : `via drachtio-server ${drachtio.host}:${drachtio.port}`}, HTTP http://${formatHost(http.address)}:${http.port}`,
    );
    return {
      sip, http, store, engine, dispatcher, config, mode, sipStats: () => lite?.sipStats(), close: closeAll,
      drain: (timeoutMs) => engine.drain(timeoutMs), readiness, metrics, redis,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function openStore(settings: RuntimeSettings, log: Logger): Promise<Store> {
  if (settings.databaseUrl) return createPostgresStore({ connectionString: settings.databaseUrl, log });
  mkdirSync(settings.dataDir, { recursive: true });
  return createSqliteStore({ file: join(settings.dataDir, 'switchboard.sqlite'), log });
}
