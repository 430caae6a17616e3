/**
 * The webhook settings a global delivery was created under: those of its configuration version (`config_version`),
 * read once per version from the store (versions are immutable, so the cache is never stale; it is bounded).
 */
import type { Logger } from '../common/log.js';
import type { PbxConfig } from '../config/types.js';
import type { Delivery, Store } from '../store/store.js';

const MAX_VERSIONS = 64;

/** `webhookOf(delivery, live)`: the settings to sign and send a global delivery with. */
export function createdUnder(store: Pick<Store, 'getConfigVersion'>, log: Logger, liveVersion: (() => number) | undefined) {
  const cache = new Map<number, Promise<Pick<PbxConfig, 'webhook'> | undefined>>();
  return async function webhookOf(d: Delivery, live: PbxConfig): Promise<Pick<PbxConfig, 'webhook'>> {
    const v = d.config_version;
    if (v === null || v === undefined || v === liveVersion?.()) return live;
    let p = cache.get(v);
    if (!p) {
      if (cache.size >= MAX_VERSIONS) cache.delete(cache.keys().next().value!);
      // Versions are stored as opaque JSON that config validated before writing them.
      p = store.getConfigVersion(v).then((row) => (row ? { webhook: (row.config as PbxConfig).webhook } : undefined));
      p.catch(() => cache.delete(v));
      cache.set(v, p);
    }
    const row = await p;
    if (!row) log.warn({ delivery_id: d.delivery_id, config_version: v }, 'webhook delivery: its configuration version is missing; using the live webhook settings');
    return row ?? live;
  };
}
