/**
 * Where each device can be reached: the registrar's bindings (RFC 3261 §10), cached in memory for routing (reads
 * stay synchronous) and written through to a {@link LocationBackend}: the Store by default, so they survive a
 * restart, or a shared one (Redis: src/redis) that every engine reads, whose change notices re-read the device
 * here. An expired binding is invisible at once and is deleted by a purge timer on the injected clock.
 */
import { ownString, type Clock, type TimerHandle } from '../../common/index.js';
import type { Logger } from '../../common/index.js';
import type { Registration, Store } from '../../store/index.js';

/** A binding's transport (the store's column holds only the dialable ones, udp and tcp). */
export type BindingTransport = Registration['transport'];

/**
 * A binding as the location service keeps it. `reg_id` is RFC 5626's: with the instance id it names one flow of one
 * device instance, and a new REGISTER for the same pair replaces the old flow's binding.
 */
export interface Binding extends Registration {
  reg_id?: string | null;
}

/**
 * Whether a binding lives only as long as its connection (SIP over WebSocket, RFC 7118): such bindings are kept in
 * memory, never written to the store (after a restart the connection is gone), and dropped when the flow closes.
 */
export function isFlowBound(transport: string): boolean {
  return transport === 'ws' || transport === 'wss';
}

/** Where to send a request for one binding: the contact as Request-URI, the source address as next hop (NAT). */
export interface ContactTarget {
  username: string;
  contact: string;
  /** `sip:addr:port;transport=x`: srf's `proxy` option, i.e. where the request is actually sent. */
  proxy: string;
}

/**
 * Where bindings are kept besides the cache. The default ({@link StoreLocationBackend}) is this engine's store; a
 * shared backend (`watch`, `device`) is one all engines use, and tells each of the others' changes.
 */
export interface LocationBackend {
  /** Every live binding (start; and after a shared backend's notices may have been missed). */
  loadAll(nowMs: number): Promise<Binding[]>;
  /** Adds or refreshes a binding; `prev` is the cached one for the same contact. */
  upsert(b: Binding, prev: Binding | undefined): Promise<void>;
  remove(username: string, contact: string, prev: Binding | undefined): Promise<void>;
  removeAll(username: string): Promise<void>;
  /** Deletes expired bindings. */
  purgeExpired(nowMs: number): Promise<unknown>;
  /** Shared backends: one device's live bindings as all engines see them. */
  device?(username: string, nowMs: number): Promise<Binding[]>;
  /** Shared backends: `fn(username)` after another engine changed that device, `fn(null)` to re-read every device. */
  watch?(fn: (username: string | null) => void): void;
}

/**
 * Bindings in this engine's store. Flow-bound (WebSocket) bindings are never written: after a restart their
 * connection is gone.
 */
export class StoreLocationBackend implements LocationBackend {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async loadAll(nowMs: number): Promise<Binding[]> {
    await this.#store.purgeExpiredRegistrations(nowMs);
    return this.#store.listRegistrations();
  }

  async upsert(r: Binding, prev: Binding | undefined): Promise<void> {
    if (!isFlowBound(r.transport)) {
      const { reg_id: _regId, ...stored } = r;
      await this.#store.upsertRegistration(stored);
    } else if (prev && !isFlowBound(prev.transport)) {
      // The same contact moved from UDP/TCP to a WebSocket: its stored row would come back after a restart.
      await this.#store.removeRegistration(r.username, r.contact);
    }
  }

  async remove(username: string, contact: string, prev: Binding | undefined): Promise<void> {
    if (!prev || !isFlowBound(prev.transport)) await this.#store.removeRegistration(username, contact);
  }

  async removeAll(username: string): Promise<void> {
    await this.#store.removeAllRegistrations(username);
  }

  purgeExpired(nowMs: number): Promise<number> {
    return this.#store.purgeExpiredRegistrations(nowMs);
  }
}

/** Options of {@link LocationService}: bindings kept in a `store` ({@link StoreLocationBackend}) or a `backend`. */
export type LocationOptions = ({ store: Store; backend?: undefined } | { backend: LocationBackend; store?: Store }) & {
  clock: Clock;
  log: Logger;
  /** How often expired bindings are deleted; default 10 s. */
  purgeIntervalMs?: number;
};

/** The binding cache. */
export class LocationService {
  readonly #backend: LocationBackend;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #purgeMs: number;
  readonly #bindings = new Map<string, Map<string, Binding>>();
  #timer: TimerHandle | null = null;
  readonly #listeners: Array<(username: string) => void> = [];
  /** Per device, bumped by every local change: a re-read that started before one is stale and dropped. */
  readonly #generation = new Map<string, number>();
  #watching = false;

  constructor(opts: LocationOptions) {
    this.#backend = opts.backend ?? new StoreLocationBackend(opts.store!);
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#purgeMs = opts.purgeIntervalMs ?? 10_000;
  }

  /** True when the backend is shared with other engines (their registrations are routed to as well). */
  get shared(): boolean {
    return this.#backend.watch !== undefined;
  }

  /** Loads the backend's bindings (dropping expired ones), follows a shared backend's notices, arms the purge timer. */
  async start(): Promise<void> {
    for (const r of await this.#backend.loadAll(this.#clock.now())) this.#put(r);
    if (this.#backend.watch && !this.#watching) {
      this.#watching = true;
      this.#backend.watch((u) => void (u === null ? this.#reloadAll() : this.sync(u)));
    }
    this.#arm();
  }

  /** Stops the purge timer; bindings stay in the backend. */
  stop(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Calls `fn(username)` after a device's bindings change (queues react to agents registering or leaving). */
  onChange(fn: (username: string) => void): void {
    this.#listeners.push(fn);
  }

  #changed(username: string): void {
    this.#generation.set(username, (this.#generation.get(username) ?? 0) + 1);
    for (const fn of this.#listeners) {
      try {
        fn(username);
      } catch (err) {
        this.#log.error({ err, username }, 'location listener failed');
      }
    }
  }

  /**
   * With a shared backend: re-reads one device's bindings from it (another engine changed them, or the registrar is
   * about to). A no-op otherwise. A failed read is logged and the cache kept.
   */
  async sync(username: string): Promise<void> {
    if (!this.#backend.device) return;
    const gen = this.#generation.get(username) ?? 0;
    let list: Binding[];
    try {
      list = await this.#backend.device(username, this.#clock.now());
    } catch (err) {
      this.#log.warn({ err, device: username }, 'reading shared registrations failed: using the cached ones');
      return;
    }
    if ((this.#generation.get(username) ?? 0) !== gen) return; // changed here meanwhile: that change is newer
    const before = this.#bindings.get(username);
    const same = before !== undefined && before.size === list.length && list.every((b) => JSON.stringify(before.get(b.contact)) === JSON.stringify(b));
    if (same || (before === undefined && list.length === 0)) return;
    this.#bindings.delete(username);
    for (const b of list) this.#put(b);
    this.#changed(username);
  }

  async #reloadAll(): Promise<void> {
    let all: Binding[];
    try {
      all = await this.#backend.loadAll(this.#clock.now());
    } catch (err) {
      this.#log.warn({ err }, 'reloading shared registrations failed: using the cached ones');
      return;
    }
    const users = new Set([...this.#bindings.keys(), ...all.map((b) => b.username)]);
    this.#bindings.clear();
    for (const b of all) this.#put(b);
    for (const u of users) this.#changed(u);
    this.#log.info({ bindings: all.length }, 'shared registrations re-read');
  }

  /** Live bindings of a device. */
  bindings(username: string): Binding[] {
    const now = this.#clock.now();
    return [...(this.#bindings.get(username)?.values() ?? [])].filter((r) => r.expires_at > now);
  }

  /** Live targets of a device, one per binding. */
  targets(username: string): ContactTarget[] {
    return this.bindings(username).map((r) => ({ username, contact: r.contact, proxy: proxyFor(r) }));
  }

  /** Devices with at least one live binding; `isKnown` limits the count to devices of the live configuration. */
  registeredDeviceCount(isKnown: (username: string) => boolean = () => true): number {
    let n = 0;
    for (const u of this.#bindings.keys()) if (isKnown(u) && this.bindings(u).length > 0) n++;
    return n;
  }

  /** Adds or refreshes a binding (with the store backend a flow-bound one in memory only). */
  async upsert(binding: Binding): Promise<void> {
    const r = ownStrings(binding);
    const prev = this.#bindings.get(r.username)?.get(r.contact);
    // Shared: Redis first, so a failed write (Redis down) leaves the cache as every engine sees it.
    if (this.shared) await this.#backend.upsert(r, prev);
    this.#put(r);
    this.#changed(r.username);
    if (!this.shared) await this.#backend.upsert(r, prev);
  }

  /** Removes one binding. */
  async remove(username: string, contact: string): Promise<void> {
    const prev = this.#bindings.get(username)?.get(contact);
    if (this.shared) await this.#backend.remove(username, contact, prev);
    const m = this.#bindings.get(username);
    m?.delete(contact);
    if (m && m.size === 0) this.#bindings.delete(username);
    this.#changed(username);
    if (!this.shared) await this.#backend.remove(username, contact, prev);
  }

  /**
   * A connection-bound flow closed (RFC 7118: the browser's WebSocket): every binding registered over it is
   * removed, so calls stop ringing a device that cannot be reached. Returns how many were removed.
   */
  flowClosed(flow: { transport: string; address: string; port: number }): number {
    if (!isFlowBound(flow.transport)) return 0;
    let n = 0;
    for (const [u, m] of [...this.#bindings]) {
      let changed = false;
      for (const [c, r] of [...m]) {
        if (r.transport === flow.transport && r.source_address === flow.address && r.source_port === flow.port) {
          m.delete(c);
          changed = true;
          n++;
          // A shared backend keeps flow-bound bindings too; the store backend never wrote them.
          if (this.shared) void this.#backend.remove(u, c, r).catch((err: unknown) => this.#log.warn({ err, device: u }, 'removing a closed flow\'s binding failed'));
        }
      }
      if (m.size === 0) this.#bindings.delete(u);
      if (changed) {
        this.#log.debug({ device: u, flow }, 'websocket closed: its bindings removed');
        this.#changed(u);
      }
    }
    return n;
  }

  /** Removes every binding of a device (`Contact: *`). */
  async removeAll(username: string): Promise<void> {
    if (this.shared) await this.#backend.removeAll(username);
    this.#bindings.delete(username);
    this.#changed(username);
    if (!this.shared) await this.#backend.removeAll(username);
  }

  #put(r: Binding): void {
    let m = this.#bindings.get(r.username);
    if (!m) this.#bindings.set(r.username, (m = new Map()));
    m.set(r.contact, r);
  }

  #arm(): void {
    this.#timer = this.#clock.setTimeout(() => void this.#purge(), this.#purgeMs);
  }

  async #purge(): Promise<void> {
    const now = this.#clock.now();
    for (const [u, m] of this.#bindings) {
      let expired = false;
      for (const [c, r] of m) if (r.expires_at <= now) (m.delete(c), (expired = true));
      if (m.size === 0) this.#bindings.delete(u);
      if (expired) this.#changed(u);
    }
    try {
      const n = await this.#backend.purgeExpired(now);
      if ((typeof n === 'number' && n > 0) || (Array.isArray(n) && n.length > 0)) this.#log.debug({ purged: n }, 'expired registrations purged');
    } catch (err) {
      this.#log.warn({ err }, 'purging expired registrations failed');
    }
    if (this.#timer !== null) this.#arm();
  }
}

/**
 * The binding with its strings as their own copies ({@link ownString}): a REGISTER's Contact, Call-ID and User-Agent
 * come out of srf's parse as slices of the whole message text, which a binding kept for an hour would pin.
 */
function ownStrings(b: Binding): Binding {
  const out = { ...b, contact: ownString(b.contact), source_address: ownString(b.source_address), call_id: ownString(b.call_id) };
  if (b.user_agent) out.user_agent = ownString(b.user_agent);
  if (b.instance_id) out.instance_id = ownString(b.instance_id);
  if (b.reg_id) out.reg_id = ownString(b.reg_id);
  return out;
}

/** `sip:addr:port;transport=x` for a binding's source (IPv6 in brackets). */
export function proxyFor(r: Pick<Registration, 'source_address' | 'source_port' | 'transport'>): string {
  const host = r.source_address.includes(':') && !r.source_address.startsWith('[') ? `[${r.source_address}]` : r.source_address;
  return `sip:${host}:${r.source_port};transport=${r.transport}`;
}
