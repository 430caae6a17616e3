/**
 * Where each device can be reached: the registrar's bindings (RFC 3261 §10), cached in memory for routing and
 * written through to the Store so they survive a restart. An expired binding is invisible at once and is
 * deleted by a purge timer on the injected clock.
 */
import type { Clock, TimerHandle } from '../../common/index.js';
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
  readonly #bindings = new Map<string, Map<string, Binding>>();
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
  bindings(username: string): Binding[] {
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

  /** Adds or refreshes a binding (a flow-bound one in memory only). */
  async upsert(r: Binding): Promise<void> {
    const prev = this.#bindings.get(r.username)?.get(r.contact);
    this.#put(r);
    this.#changed(r.username);
    if (!isFlowBound(r.transport)) {
      const { reg_id: _regId, ...stored } = r;
      await this.#store.upsertRegistration(stored);
    } else if (prev && !isFlowBound(prev.transport)) {
      // The same contact moved from UDP/TCP to a WebSocket: its stored row would come back after a restart.
      await this.#store.removeRegistration(r.username, r.contact);
    }
  }

  /** Removes one binding. */
  async remove(username: string, contact: string): Promise<void> {
    const m = this.#bindings.get(username);
    const prev = m?.get(contact);
    m?.delete(contact);
    if (m && m.size === 0) this.#bindings.delete(username);
    this.#changed(username);
    if (!prev || !isFlowBound(prev.transport)) await this.#store.removeRegistration(username, contact);
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
    this.#bindings.delete(username);
    this.#changed(username);
    await this.#store.removeAllRegistrations(username);
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
