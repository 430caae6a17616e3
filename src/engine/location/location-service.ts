/**
 * Where each device can be reached: the registrar's bindings (RFC 3261 §10), cached in memory for routing and
 * written through to the Store so they survive a restart. An expired binding is invisible at once and is
 * deleted by a purge timer on the injected clock.
 */
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import type { Registration, Store } from '../../store/index.js';

/** Where to send a request for one binding: the contact as Request-URI, the source address as next hop (NAT). */
export interface ContactTarget {
  username: string;
  contact: string;
  /** `sip:addr:port;transport=x`: srf's `proxy` option, i.e. where the request is actually sent. */
  proxy: string;
}

/** Options of {@link LocationService}. */
export interface LocationOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  /** How often expired bindings are deleted; default 10 s. */
  purgeIntervalMs?: number;
}

/** The binding cache. */
export class LocationService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #purgeMs: number;
  readonly #bindings = new Map<string, Map<string, Registration>>();
  #timer: TimerHandle | null = null;
  readonly #listeners: Array<(username: string) => void> = [];

  constructor(opts: LocationOptions) {
    this.#store = opts.store;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#purgeMs = opts.purgeIntervalMs ?? 10_000;
  }

  /** Loads stored bindings (dropping expired ones) and arms the purge timer. */
  async start(): Promise<void> {
    await this.#store.purgeExpiredRegistrations(this.#clock.now());
    for (const r of await this.#store.listRegistrations()) this.#put(r);
    this.#arm();
  }

  /** Stops the purge timer; bindings stay in the store. */
  stop(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Calls `fn(username)` after a device's bindings change (queues react to agents registering or leaving). */
  onChange(fn: (username: string) => void): void {
    this.#listeners.push(fn);
  }

  #changed(username: string): void {
    for (const fn of this.#listeners) {
      try {
        fn(username);
      } catch (err) {
        this.#log.error({ err, username }, 'location listener failed');
      }
    }
  }

  /** Live bindings of a device. */
  bindings(username: string): Registration[] {
    const now = this.#clock.now();
    return [...(this.#bindings.get(username)?.values() ?? [])].filter((r) => r.expires_at > now);
  }

  /** Live targets of a device, one per binding. */
  targets(username: string): ContactTarget[] {
    return this.bindings(username).map((r) => ({ username, contact: r.contact, proxy: proxyFor(r) }));
  }

  /** Number of devices with at least one live binding. */
  /** Devices with at least one live binding; `isKnown` limits the count to devices of the live configuration. */
  registeredDeviceCount(isKnown: (username: string) => boolean = () => true): number {
    let n = 0;
    for (const u of this.#bindings.keys()) if (isKnown(u) && this.bindings(u).length > 0) n++;
    return n;
  }

  /** Adds or refreshes a binding. */
  async upsert(r: Registration): Promise<void> {
    this.#put(r);
    this.#changed(r.username);
    await this.#store.upsertRegistration(r);
  }

  /** Removes one binding. */
  async remove(username: string, contact: string): Promise<void> {
    const m = this.#bindings.get(username);
    m?.delete(contact);
    if (m && m.size === 0) this.#bindings.delete(username);
    this.#changed(username);
    await this.#store.removeRegistration(username, contact);
  }

  /** Removes every binding of a device (`Contact: *`). */
  async removeAll(username: string): Promise<void> {
    this.#bindings.delete(username);
    this.#changed(username);
    await this.#store.removeAllRegistrations(username);
  }

  #put(r: Registration): void {
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
      const n = await this.#store.purgeExpiredRegistrations(now);
      if (n > 0) this.#log.debug({ purged: n }, 'expired registrations purged');
    } catch (err) {
      this.#log.warn({ err }, 'purging expired registrations failed');
    }
    if (this.#timer !== null) this.#arm();
  }
}

/** `sip:addr:port;transport=x` for a binding's source (IPv6 in brackets). */
export function proxyFor(r: Pick<Registration, 'source_address' | 'source_port' | 'transport'>): string {
  const host = r.source_address.includes(':') && !r.source_address.startsWith('[') ? `[${r.source_address}]` : r.source_address;
  return `sip:${host}:${r.source_port};transport=${r.transport}`;
}
