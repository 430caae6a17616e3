/**
 * Configuration versions (SPEC §1 "apply configuration"). The engine runs on one live, deep-frozen
 * {@link ConfigVersion}; a call keeps the version it started with, so a swap never changes a call in progress.
 * Admin edits are staged in the store and become live only on {@link ConfigVersions.apply}, atomically, as a new
 * numbered version. The YAML file seeds version 1, and a new version whenever the file changes.
 */
import { systemClock, type Clock } from '../common/clock.js';
import type { Logger } from '../common/log.js';
import type { ApplyResult, ConfigControl } from '../engine/facade.js';
import type { Store } from '../store/store.js';
import { configDiff, deepFreeze } from './config-diff.js';
import { validateConfig } from './schema.js';
import type { ConfigVersion, PbxConfig } from './types.js';

/** The part of {@link Store} that versions need. */
export type ConfigVersionStore = Pick<Store, 'getLatestConfigVersion' | 'getConfigVersion' | 'insertConfigVersion' | 'getStagedConfig' | 'setStagedConfig'>;

/** Dependencies of {@link createConfigVersions}. */
export interface ConfigVersionsDeps {
  store: ConfigVersionStore;
  /** The configuration loaded from the file (already validated). */
  initial: PbxConfig;
  clock?: Clock;
  log?: Logger;
}

/** Listener of the `applied` event: gets the new live version. */
export type AppliedListener = (version: ConfigVersion) => void;

/** {@link ConfigControl} plus change notification and diffs. */
export interface ConfigVersions extends ConfigControl {
  /** Calls `listener` after each successful apply; returns a function that removes it. */
  on(event: 'applied', listener: AppliedListener): () => void;
  off(event: 'applied', listener: AppliedListener): void;
  /** Paths where `b` differs from `a`. */
  diff(a: PbxConfig, b: PbxConfig): string[];
  /** Paths where the staged configuration differs from the live one (empty when nothing is staged). */
  pendingChanges(): Promise<string[]>;
}

function freezeVersion(v: { version: number; config: PbxConfig; created_at: string }): ConfigVersion {
  return deepFreeze({ version: v.version, config: structuredClone(v.config), created_at: v.created_at });
}

/** A stored configuration re-read through the schema (defaults added since it was stored); undefined if it no longer validates. */
function revalidate(config: PbxConfig, version: number): PbxConfig | undefined {
  const r = validateConfig(config, `config version ${version}`);
  return r.ok ? r.config : undefined;
}

/**
 * The file is "unchanged" when it equals the latest version or any earlier one: admin edits applied after the
 * file seeded a version must survive a restart with the same file.
 */
async function fileUnchanged(store: ConfigVersionStore, file: PbxConfig, latest: number): Promise<boolean> {
  for (let v = latest; v >= 1; v--) {
    const row = await store.getConfigVersion(v);
    const config = row && revalidate(row.config, v);
    if (config && configDiff(config, file).length === 0) return true;
  }
  return false;
}

/**
 * Loads (or seeds) the live version from the store: version 1 from the file when the store is empty, a new
 * version when the file differs from every stored one, the latest stored version otherwise.
 */
export async function createConfigVersions(deps: ConfigVersionsDeps): Promise<ConfigVersions> {
  const { store, log } = deps;
  const clock = deps.clock ?? systemClock;
  const nowIso = (): string => new Date(clock.now()).toISOString();
  const listeners = new Set<AppliedListener>();

  async function insert(config: PbxConfig): Promise<ConfigVersion> {
    const created_at = nowIso();
    const version = await store.insertConfigVersion(config, created_at);
    return freezeVersion({ version, config, created_at });
  }

  let current: ConfigVersion;
  const latest = await store.getLatestConfigVersion();
  if (latest === undefined) {
    current = await insert(deps.initial);
    log?.info({ config_version: current.version }, 'configuration file stored as version 1');
  } else {
    const storedConfig = revalidate(latest.config, latest.version);
    if (storedConfig === undefined) {
      // A schema change made the stored version invalid: the file (valid, or loading would have failed) takes over.
      current = await insert(deps.initial);
      log?.warn({ config_version: current.version, replaced: latest.version }, 'stored configuration no longer validates; stored the file as a new version');
    } else if (configDiff(storedConfig, deps.initial).length === 0 || (await fileUnchanged(store, deps.initial, latest.version - 1))) {
      current = freezeVersion({ ...latest, config: storedConfig });
      log?.info({ config_version: current.version }, 'running stored configuration version');
    } else {
      const changed = configDiff(storedConfig, deps.initial);
      current = await insert(deps.initial);
      log?.info({ config_version: current.version, changed: changed.slice(0, 50) }, 'configuration file changed; stored as a new version');
    }
  }

  // Applies run one at a time so version numbers and the live swap stay in step.
  let queue: Promise<unknown> = Promise.resolve();

  async function applyNow(): Promise<ApplyResult> {
    const staged = await store.getStagedConfig();
    if (staged === undefined) return { ok: true, version: current.version };
    const r = validateConfig(staged, 'staged');
    if (!r.ok) return { ok: false, errors: r.errors.map((e) => (e.path === '' ? e.message : `${e.path}: ${e.message}`)) };
    const next = await insert(r.config);
    const changed = configDiff(current.config, next.config);
    current = next;
    try {
      await store.setStagedConfig(null);
    } catch (err) {
      log?.error({ err, config_version: next.version }, 'applied, but clearing the staged configuration failed');
    }
    log?.info({ config_version: next.version, changed: changed.slice(0, 50) }, 'configuration applied');
    for (const listener of [...listeners]) {
      try {
        listener(next);
      } catch (err) {
        log?.error({ err, config_version: next.version }, 'config applied listener threw');
      }
    }
    return { ok: true, version: next.version };
  }

  return {
    live: () => current,
    async staged() {
      return structuredClone((await store.getStagedConfig()) ?? current.config);
    },
    async stage(config) {
      await store.setStagedConfig(structuredClone(config));
    },
    apply() {
      const run = queue.then(applyNow);
      queue = run.catch(() => undefined);
      return run;
    },
    on(event, listener) {
      if (event !== 'applied') throw new TypeError(`unknown event '${String(event)}'`);
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    off(_event, listener) {
      listeners.delete(listener);
    },
    diff: (a, b) => configDiff(a, b),
    async pendingChanges() {
      const staged = await store.getStagedConfig();
      return staged === undefined ? [] : configDiff(current.config, staged);
    },
  };
}
