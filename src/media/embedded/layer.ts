/**
 * {@link MediaLayer} in process (DESIGN.md decision 4, the default): G.711 RTP anchored, relayed, played and
 * recorded by this process. Each session binds two even/odd port pairs from the configured range (one per leg)
 * for its whole life; one shared 20 ms timer drives every session's playback, recording flush and timeouts.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { systemClock, type Clock } from '../../common/index.js';
import type { Logger } from '../../common/index.js';
import { MediaError } from '../errors.js';
import type { MediaLayer, MediaSessionId, MediaSessionInit } from '../media-layer.js';
import { PortPool, type PortPair } from './port-pool.js';
import { EmbeddedSession } from './session.js';
import { Ticker } from './ticker.js';

export interface EmbeddedMediaLayerOptions {
  /** Address the RTP sockets bind to (`0.0.0.0` for all interfaces needs `advertiseAddress`). */
  bindAddress: string;
  /** Address put in our SDP (c= and o=); default `bindAddress`. */
  advertiseAddress?: string;
  /** RTP port range (inclusive); each leg takes an even port and the odd one above it. */
  portMin: number;
  portMax: number;
  log: Logger;
  /** Timers (default the system clock). */
  clock?: Clock;
  /** Monotonic milliseconds for pacing and media time (default `performance.now`; with a manual `clock`, its `now`). */
  now?: () => number;
  /** `media-timeout` after this long without RTP from a leg that should send; 0 = never. Default 30 000. */
  mediaTimeoutMs?: number;
  /** Packets the reorder buffer holds back waiting for a missing one. Default 3. */
  reorderDepth?: number;
}

/** The embedded media layer. */
export interface EmbeddedMediaLayer extends MediaLayer {
  readonly kind: 'embedded';
  createSession(init: MediaSessionInit): Promise<EmbeddedSession>;
  /** Port pairs in the range and in use now. */
  readonly ports: { capacity: number; inUse: number };
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

/** Builds the layer (nothing is bound until a session is created). Throws TypeError for bad options. */
export function createEmbeddedMediaLayer(opts: EmbeddedMediaLayerOptions): EmbeddedMediaLayer {
  const advertiseAddress = opts.advertiseAddress ?? opts.bindAddress;
  if (WILDCARD.has(advertiseAddress)) throw new TypeError(`embedded media: advertiseAddress is needed when binding to '${opts.bindAddress}' (it goes into SDP c= lines)`);
  const mediaTimeoutMs = opts.mediaTimeoutMs ?? 30_000;
  if (!Number.isFinite(mediaTimeoutMs) || mediaTimeoutMs < 0) throw new TypeError(`embedded media: mediaTimeoutMs must be >= 0, got ${mediaTimeoutMs}`);
  const pool = new PortPool(opts);
  const clock = opts.clock ?? systemClock;
  const now = opts.now ?? (opts.clock ? () => clock.now() : () => performance.now());
  const log = opts.log;
  const ticker = new Ticker({ clock, now, periodMs: 20, onError: (err) => log.error({ err }, 'embedded media tick failed') });
  const sessions = new Set<EmbeddedSession>();
  let closed = false;

  return {
    kind: 'embedded',
    get sessionCount() { return sessions.size; },
    get ports() { return { capacity: pool.capacity, inUse: pool.inUse }; },
    async createSession(init: MediaSessionInit): Promise<EmbeddedSession> {
      if (closed) throw new MediaError('SB_ERR_MEDIA_BACKEND', 'embedded media layer is closed');
      const caller = await pool.allocate();
      let callee: PortPair;
      try { callee = await pool.allocate(); } catch (err) { await pool.release(caller); throw err; }
      const id = `med_${randomBytes(8).toString('hex')}` as MediaSessionId;
      const session: EmbeddedSession = new EmbeddedSession(id, { caller, callee }, {
        advertiseAddress, now, mediaTimeoutMs, reorderDepth: opts.reorderDepth ?? 3,
        log: log.child({ unique_call_id: init.uniqueCallId, media: id }),
        addTick: (task) => ticker.add(task),
        release: async (pairs) => { await Promise.all(pairs.map((p) => pool.release(p))); },
        onClosed: () => sessions.delete(session),
      });
      sessions.add(session);
      if (closed) await session.close('media layer closed');
      return session;
    },
    async close() {
      closed = true;
      await Promise.all([...sessions].map((s) => s.close('media layer closed')));
    },
  };
}


