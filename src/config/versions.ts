/**
 * Configuration versions (SPEC §1 "apply configuration"). The engine runs on one live, deep-frozen
 * {@link ConfigVersion}; a call keeps the version it started with, so a swap never changes a call in progress.
 * Admin edits are staged in the store and become live only on {@link ConfigVersions.apply}, atomically, as a new
 * numbered version. The YAML file seeds version 1, and a new version whenever the file changes.
 */
import { systemClock, type Clock } from '../common/index.js';
import type { Logger } from '../common/index.js';
import { configDiff, deepFreeze } from './config-diff.js';
import { validateConfig } from './schema.js';
import type { ConfigIssue } from './errors.js';
import type { ConfigVersion, PbxConfig } from './types.js';

/** Result of staging-and-applying: the new version, or every validation error. */
export type ApplyResult = { ok: true; version: number } | { ok: false; errors: string[] };

/**
 * The configuration versions the engine runs on (SPEC "apply configuration"). Declared here, where it is
 * implemented; the engine and the API use it as a type.
 */
export interface ConfigControl {
  live(): ConfigVersion;
  staged(): Promise<PbxConfig>;
  /** Replaces the staged configuration (not validated until apply). */
  stage(config: PbxConfig): Promise<void>;
  /** Validates the staged configuration and makes it live atomically as a new version. */
  apply(): Promise<ApplyResult>;
}

/** A configuration as stored: opaque JSON, validated again when read. */
export interface StoredConfig {
  version: number;
  config: unknown;
  created_at: string;
}

/**
 * Where versions are kept (the store satisfies it). The store keeps configurations as opaque JSON, so it needs
 * no configuration types and config needs no store types.
 */
export interface ConfigVersionStore {
  getLatestConfigVersion(): Promise<StoredConfig | undefined>;
  getConfigVersion(version: number): Promise<StoredConfig | undefined>;
  /** Stores a new version number (max+1) atomically and returns it. */
  insertConfigVersion(config: unknown, nowIso: string): Promise<number>;
  getStagedConfig(): Promise<unknown>;
  /** `null` clears the staged configuration. */
  setStagedConfig(config: unknown): Promise<void>;
}

/** Dependencies of {@link createConfigVersions}. */
export interface ConfigVersionsDeps {
  store: ConfigVersionStore;
  /** The configuration loaded from the file (already validated). */
  initial: PbxConfig;
  clock?: Clock;
  log?: Logger;
  /** Checks beyond the schema that read the host (audio files exist and play: media-files.ts), run at apply. */
  checkFiles?: (config: PbxConfig, source: string) => ConfigIssue[];
}

/** Listener of the `applied` event: gets the new live version; `remote` when another engine applied it ({@link ConfigVersions.reload}). */
export type AppliedListener = (version: ConfigVersion, how: { remote: boolean }) => void;

/** {@link ConfigControl} plus change notification and diffs. */
export interface ConfigVersions extends ConfigControl {
  /** Calls `listener` after each successful apply; returns a function that removes it. */
  on(event: 'applied', listener: AppliedListener): () => void;
  off(event: 'applied', listener: AppliedListener): void;
  /** Paths where `b` differs from `a`. */
  diff(a: PbxConfig, b: PbxConfig): string[];
  /** Paths where the staged configuration differs from the live one (empty when nothing is staged). */
  pendingChanges(): Promise<string[]>;
  /**
   * Another engine on the same store applied a version: the newest stored version goes live here as if applied
   * locally (listeners run with `remote: true`). Resolves with the new version, or null when there is none newer.
   */
  reload(): Promise<number | null>;
}

function freezeVersion(v: { version: number; config: PbxConfig; created_at: string }): ConfigVersion {
  return deepFreeze({ version: v.version, config: structuredClone(v.config), created_at: v.created_at });
}

/** A stored configuration re-read through the schema (defaults added since it was stored); undefined if it no longer validates. */
function revalidate(config: unknown, version: number): PbxConfig | undefined {
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

/** Inserts `config` as the next version, stamped with the clock. */
async function insertVersion(store: ConfigVersionStore, clock: Clock, config: PbxConfig): Promise<ConfigVersion> {
  const created_at = new Date(clock.now()).toISOString();
  const version = await store.insertConfigVersion(config, created_at);
  return freezeVersion({ version, config, created_at });
}

/** Picks the version to start on (see {@link createConfigVersions}), inserting the file's config when needed. */
async function startingVersion(store: ConfigVersionStore, clock: Clock, initial: PbxConfig, log: Logger | undefined): Promise<ConfigVersion> {
  const latest = await store.getLatestConfigVersion();
  if (latest === undefined) {
    const v = await insertVersion(store, clock, initial);
    log?.info({ config_version: v.version }, 'configuration file stored as version 1');
    return v;
  }
  const stored = revalidate(latest.config, latest.version);
  if (stored === undefined) {
    // A schema change made the stored version invalid: the file (valid, or loading would have failed) takes over.
    const v = await insertVersion(store, clock, initial);
    log?.warn({ config_version: v.version, replaced: latest.version }, 'stored configuration no longer validates; stored the file as a new version');
    return v;
  }
  if (configDiff(stored, initial).length === 0 || (await fileUnchanged(store, initial, latest.version - 1))) {
    log?.info({ config_version: latest.version }, 'running stored configuration version');
    return freezeVersion({ ...latest, config: stored });
  }
  const changed = configDiff(stored, initial);
  const v = await insertVersion(store, clock, initial);
  log?.info({ config_version: v.version, changed: changed.slice(0, 50) }, 'configuration file changed; stored as a new version');
  return v;
}

/** {@link ConfigVersions} over a store; build it with {@link createConfigVersions}. */
class StoredConfigVersions implements ConfigVersions {
  readonly #store: ConfigVersionStore;
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  readonly #checkFiles: ConfigVersionsDeps['checkFiles'];
  readonly #listeners = new Set<AppliedListener>();
  #current: ConfigVersion;
  /** stage() and apply() run one at a time, so version numbers, the live swap and the staged copy stay in step. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(store: ConfigVersionStore, clock: Clock, log: Logger | undefined, current: ConfigVersion, checkFiles?: ConfigVersionsDeps['checkFiles']) {
    this.#checkFiles = checkFiles;
    this.#store = store;
    this.#clock = clock;
    this.#log = log;
    this.#current = current;
  }

  live(): ConfigVersion {
    return this.#current;
  }

  async staged(): Promise<PbxConfig> {
    // Staged edits are whatever stage() was given (validated only on apply), so they are returned as staged.
    const staged = (await this.#store.getStagedConfig()) as PbxConfig | undefined;
    return structuredClone(staged ?? this.#current.config);
  }

  stage(config: PbxConfig): Promise<void> {
    const copy = structuredClone(config);
    return this.#serial(() => this.#store.setStagedConfig(copy));
  }

  apply(): Promise<ApplyResult> {
    return this.#serial(() => this.#applyNow());
  }

  on(event: 'applied', listener: AppliedListener): () => void {
    if (event !== 'applied') throw new TypeError(`unknown event '${String(event)}'`);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  off(_event: 'applied', listener: AppliedListener): void {
    this.#listeners.delete(listener);
  }

  diff(a: PbxConfig, b: PbxConfig): string[] {
    return configDiff(a, b);
  }

  async pendingChanges(): Promise<string[]> {
    const staged = await this.#store.getStagedConfig();
    return staged === undefined ? [] : configDiff(this.#current.config, staged);
  }

  reload(): Promise<number | null> {
    return this.#serial(async () => {
      const latest = await this.#store.getLatestConfigVersion();
      if (latest === undefined || latest.version <= this.#current.version) return null;
      const config = revalidate(latest.config, latest.version);
      if (config === undefined) {
        this.#log?.error({ config_version: latest.version }, 'a version applied at another engine does not validate here (different software version?): keeping the live one');
        return null;
      }
      const next = freezeVersion({ ...latest, config });
      const changed = configDiff(this.#current.config, next.config);
      this.#current = next;
      this.#log?.info({ config_version: next.version, changed: changed.slice(0, 50) }, 'configuration applied at another engine');
      this.#notify(next, true);
      return next.version;
    });
  }

  #notify(next: ConfigVersion, remote: boolean): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(next, { remote });
      } catch (err) {
        this.#log?.error({ err, config_version: next.version }, 'config applied listener threw');
      }
    }
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #applyNow(): Promise<ApplyResult> {
    const staged = await this.#store.getStagedConfig();
    if (staged === undefined) return { ok: true, version: this.#current.version };
    const r = validateConfig(staged, 'staged');
    const issues = r.ok ? this.#checkFiles?.(r.config, 'staged') ?? [] : r.errors;
    if (!r.ok || issues.length > 0) return { ok: false, errors: issues.map((e) => (e.path === '' ? e.message : `${e.path}: ${e.message}`)) };
    const next = await insertVersion(this.#store, this.#clock, r.config);
    const changed = configDiff(this.#current.config, next.config);
    this.#current = next;
    try {
      await this.#store.setStagedConfig(null);
    } catch (err) {
      this.#log?.error({ err, config_version: next.version }, 'applied, but clearing the staged configuration failed');
    }
    this.#log?.info({ config_version: next.version, changed: changed.slice(0, 50) }, 'configuration applied');
    this.#notify(next, false);
    return { ok: true, version: next.version };
  }
}

/**
 * Loads (or seeds) the live version from the store: version 1 from the file when the store is empty, a new
 * version when the file differs from every stored one, the latest stored version otherwise.
 */
export async function createConfigVersions(deps: ConfigVersionsDeps): Promise<ConfigVersions> {
  const clock = deps.clock ?? systemClock;
  const current = await startingVersion(deps.store, clock, deps.initial, deps.log);
  return new StoredConfigVersions(deps.store, clock, deps.log, current, deps.checkFiles);
}
