/**
 * The Redis connection engines share state through (docs/scale-out.md): one client for commands and scripts, one
 * subscribed to the PBX's notice channel. Commands fail fast while Redis is unreachable (no offline queue), so a
 * REGISTER gets a 500 at once instead of hanging; ioredis reconnects on its own, and after a reconnect every
 * `onResync` listener re-reads what it caches (notices sent meanwhile are lost with pub/sub).
 */
import { Redis } from 'ioredis';
import { randomHex, type Logger } from '../common/index.js';

/** A notice on the PBX's channel; `i` is the sending process, so a process can skip its own. */
export type SharedNotice =
  | { k: 'reg'; u: string; i: string }
  | { k: 'agent'; a: string; i: string }
  | { k: 'busy'; u: string[]; t: number; i: string }
  | { k: 'config'; v: number; i: string };

type NoticeKind = SharedNotice['k'];
/** A notice before the sender's id is added. */
export type NoticeBody = SharedNotice extends infer N ? (N extends SharedNotice ? Omit<N, 'i'> : never) : never;
type NoticeOf<K extends NoticeKind> = Extract<SharedNotice, { k: K }>;

/** Options of {@link connectRedis}. */
export interface RedisSharedOptions {
  url: string;
  /** Prefix of every key and of the channel (`redis.key_prefix`). */
  keyPrefix: string;
  log: Logger;
  /** Where the URL came from (`redis.url` or `SWITCHBOARD_REDIS_URL`), named in the start error. */
  source: string;
  /** Per-command timeout; default 2000 ms. */
  commandTimeoutMs?: number;
}

/** The shared Redis connection. */
export interface RedisShared {
  /** The command client (scripts are defined on it by the stores that use them). */
  readonly client: Redis;
  readonly keyPrefix: string;
  /** This process's id in notices. */
  readonly instance: string;
  readonly log: Logger;
  /** The channel every notice goes to (scripts publish on it too). */
  readonly channel: string;
  /** Publishes a notice (this process's id is added). */
  publish(notice: NoticeBody): Promise<void>;
  /** Calls `fn` for every notice of kind `k` sent by another process. */
  on<K extends NoticeKind>(k: K, fn: (n: NoticeOf<K>) => void): void;
  /** Calls `fn` after the subscription came back from an outage (notices may have been missed). */
  onResync(fn: () => void): void;
  /** True while both connections are ready. */
  readonly connected: boolean;
  close(): Promise<void>;
}

/** The URL with its password hidden, for logs and errors. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, (_m, auth: string) => `//${auth.includes(':') ? `${auth.split(':')[0]}:***` : '***'}@`);
}

/**
 * Connects both clients and subscribes; rejects with an error naming `source` when Redis cannot be reached now
 * (nothing is left running then).
 */
export async function connectRedis(opts: RedisSharedOptions): Promise<RedisShared> {
  const shown = redactRedisUrl(opts.url);
  const log = opts.log.child({ module: 'redis' });
  const common = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    commandTimeout: opts.commandTimeoutMs ?? 2000,
    // Keep trying for ever, at most every 2 s: engines outlive a Redis restart.
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  };
  const client = new Redis(opts.url, { ...common, connectionName: 'switchboard' });
  const sub = new Redis(opts.url, { ...common, connectionName: 'switchboard-sub', commandTimeout: undefined });
  const channel = `${opts.keyPrefix}notices`;
  const instance = randomHex(8);
  const listeners = new Map<NoticeKind, Array<(n: SharedNotice) => void>>();
  const resync: Array<() => void> = [];
  let down = false;
  let closing = false;
  const quiet = (): void => undefined;
  client.on('error', quiet);
  sub.on('error', quiet);
  try {
    await Promise.all([client.connect(), sub.connect()]);
    await sub.subscribe(channel);
  } catch (err) {
    client.disconnect();
    sub.disconnect();
    throw new Error(`${opts.source}: cannot reach Redis at ${shown}: ${(err as Error).message}`, { cause: err });
  }
  // One line per outage, not one per reconnect attempt.
  const onError = (err: Error): void => {
    if (closing || down) return;
    down = true;
    log.error({ err: err.message, redis: shown }, 'redis unreachable: registrations, agent claims and apply notices are not shared until it is back');
  };
  client.on('error', onError);
  sub.on('error', onError);
  // Both connected above, so a later 'ready' follows an outage; once both are back (ioredis resubscribed), every
  // resync listener re-reads what it caches.
  let stale = false;
  const onClose = (): void => { if (!closing) stale = true; };
  const onReady = (): void => {
    if (closing || !stale || client.status !== 'ready' || sub.status !== 'ready') return;
    stale = false;
    if (down) log.info({ redis: shown }, 'redis reachable again: re-reading shared state');
    down = false;
    for (const fn of resync) {
      try { fn(); } catch (err) { log.error({ err }, 'redis resync listener failed'); }
    }
  };
  for (const c of [client, sub]) {
    c.on('close', onClose);
    c.on('ready', onReady);
  }
  sub.on('message', (ch: string, text: string) => {
    if (ch !== channel) return;
    let n: SharedNotice;
    try {
      n = JSON.parse(text) as SharedNotice;
    } catch {
      return;
    }
    if (n.i === instance) return;
    for (const fn of listeners.get(n.k) ?? []) {
      try { fn(n); } catch (err) { log.error({ err, notice: n.k }, 'redis notice listener failed'); }
    }
  });
  log.info({ redis: shown, key_prefix: opts.keyPrefix }, 'redis: shared registrations, agent claims and apply notices');
  return {
    client, keyPrefix: opts.keyPrefix, instance, log, channel,
    async publish(notice) {
      await client.publish(channel, JSON.stringify({ ...notice, i: instance }));
    },
    on(k, fn) {
      const list = listeners.get(k) ?? [];
      list.push(fn as (n: SharedNotice) => void);
      listeners.set(k, list);
    },
    onResync(fn) {
      resync.push(fn);
    },
    get connected() {
      return client.status === 'ready' && sub.status === 'ready';
    },
    async close() {
      closing = true;
      await Promise.allSettled([client.quit(), sub.quit()]);
      client.disconnect();
      sub.disconnect();
    },
  };
}
