/**
 * The embedded Store: SQLite through better-sqlite3, run on a worker thread (issue 15). better-sqlite3 is
 * synchronous — every statement, COMMIT and checkpoint fsync would block the event loop that carries SIP — so one
 * worker per process (sqlite-worker.ts) owns the connections of every SqliteStore, and this class forwards each
 * Store call to it and resolves with its reply. Durability is unchanged: a `commit` resolves only after its
 * transaction committed in the worker (WAL, `synchronous=NORMAL`: docs/store.md). The worker handles one request at a
 * time in the order they were sent, so a read sent after a write resolved sees it (read-your-writes).
 *
 * From TypeScript sources (tsx, vitest) the worker registers tsx itself: Node 20 applies no module hooks to workers.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../common/index.js';
import { systemClock, type Clock } from '../../common/index.js';
import { StoreArgumentError, StoreError } from '../errors.js';
import type { CallCommit, Store } from '../store.js';
import { forwardMethods } from '../forward-methods.js';
import { SqliteCore, type AppliedMigration, type SqliteCoreOptions } from './sqlite-core.js';
import type { CommitStats } from './sqlite-committer.js';
import type { WireError, WorkerReply, WorkerRequest } from './sqlite-protocol.js';

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions extends SqliteCoreOptions {
  log?: Logger;
  /** Clock for `schema_migrations.applied_at`; default the system clock. */
  clock?: Clock;
  /** Run {@link SqliteStore.migrate} before returning; default true. */
  migrate?: boolean;
}

/** Opens (and by default migrates) a SQLite store. */
export async function createSqliteStore(opts: SqliteStoreOptions): Promise<SqliteStore> {
  const thread = sqliteThread();
  const db = thread.newDb();
  const core: SqliteCoreOptions = { file: opts.file };
  if (opts.busyTimeoutMs !== undefined) core.busyTimeoutMs = opts.busyTimeoutMs;
  if (opts.synchronous !== undefined) core.synchronous = opts.synchronous;
  if (opts.maxPageCount !== undefined) core.maxPageCount = opts.maxPageCount;
  await thread.call(db, 'open', [core]);
  const store = new SqliteStore(thread, db, opts.log, opts.clock ?? systemClock);
  if (opts.migrate !== false) await store.migrate();
  return store;
}

/**
 * {@link Store} on SQLite, plus `commitMany` (one transaction for many commits: the engine's CommitBatcher) and
 * `commitStats` (what the commit path wrote: transactions, statements, rows; bench/cps-inbound.ts prints it per call).
 */
export interface SqliteStore extends Store {
  commitMany(commits: readonly CallCommit[]): Promise<void>;
  commitStats(): Promise<CommitStats>;
}

/** Build it with {@link createSqliteStore}. The Store methods are forwarded to the worker (defined below the class). */
export class SqliteStore {
  readonly #thread: SqliteThread;
  readonly #db: number;
  readonly #log: Logger | undefined;
  readonly #clock: Clock;
  #closed = false;

  /** @internal */
  constructor(thread: SqliteThread, db: number, log: Logger | undefined, clock: Clock) {
    this.#thread = thread;
    this.#db = db;
    this.#log = log;
    this.#clock = clock;
  }

  async migrate(): Promise<void> {
    const applied = (await this.call('migrate', [this.#clock.now()])) as AppliedMigration[];
    for (const m of applied) this.#log?.info({ version: m.version, name: m.name }, 'store: migration applied');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.call('close', []);
  }

  /** @internal Sends one Store call to the worker. */
  async call(method: string, args: unknown[]): Promise<unknown> {
    try {
      return await this.#thread.call(this.#db, method, args);
    } catch (err) {
      this.#log?.debug({ err, operation: method }, 'store: operation failed');
      throw err;
    }
  }
}

// Every SqliteCore method but the two above, forwarded as is (no list to keep in step with the Store interface).
forwardMethods(SqliteStore, SqliteCore.prototype, (store, name, args) => store.call(name, args), ['migrate', 'close']);

/** Where the worker's code is, and the tsx API it registers first when that code is TypeScript. */
function workerEntry(): { entry: string; tsx: string | null } {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return { entry: pathToFileURL(join(dirname(here), 'sqlite-worker.js')).href, tsx: null };
  let api: string;
  try {
    api = createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs');
  } catch {
    throw new StoreError('open', 'running the SQLite store from TypeScript sources needs tsx (npm install); or run the build (dist/)');
  }
  if (!existsSync(api)) throw new StoreError('open', `tsx's ESM API is not at ${api}`);
  return { entry: pathToFileURL(join(dirname(here), 'sqlite-worker.ts')).href, tsx: pathToFileURL(api).href };
}

const BOOT = `const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((err) => setImmediate(() => { throw err; }));`;

interface Waiting {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** The process's SQLite worker: started with the first store, kept (unreferenced while idle) for later ones. */
class SqliteThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;
  #nextDb = 1;
  #dead: Error | null = null;

  constructor() {
    this.#worker = new Worker(BOOT, { eval: true, workerData: workerEntry(), name: 'sqlite-store' });
    this.#worker.unref();
    this.#worker.on('message', (r: WorkerReply) => this.#settle(r));
    this.#worker.on('error', (err) => this.#fail(err));
    this.#worker.on('exit', (code) => this.#fail(new Error(`the SQLite worker exited (code ${code})`)));
  }

  get dead(): boolean {
    return this.#dead !== null;
  }

  newDb(): number {
    return this.#nextDb++;
  }

  call(db: number, method: string, args: unknown[]): Promise<unknown> {
    if (this.#dead) return Promise.reject(new StoreError(method, this.#dead.message, { cause: this.#dead }));
    const id = this.#nextId++;
    const req: WorkerRequest = { id, db, method, args };
    return new Promise((resolve, reject) => {
      // Referenced while a reply is due, so a process awaiting only the store does not exit under it.
      if (this.#waiting.size === 0) this.#worker.ref();
      this.#waiting.set(id, { method, resolve, reject });
      try {
        this.#worker.postMessage(req);
      } catch (err) {
        this.#waiting.delete(id);
        if (this.#waiting.size === 0) this.#worker.unref();
        reject(new StoreArgumentError(`${method}: ${err instanceof Error ? err.message : String(err)}`));
      }
    });
  }

  #settle(r: WorkerReply): void {
    const w = this.#waiting.get(r.id);
    if (!w) return;
    this.#waiting.delete(r.id);
    if (this.#waiting.size === 0) this.#worker.unref();
    if (r.error) w.reject(fromWire(w.method, r.error));
    else w.resolve(r.value);
  }

  #fail(err: Error): void {
    if (this.#dead) return;
    this.#dead = err;
    if (shared === this) shared = undefined;
    for (const [, w] of this.#waiting) w.reject(new StoreError(w.method, err.message, { cause: err }));
    this.#waiting.clear();
  }
}

let shared: SqliteThread | undefined;

function sqliteThread(): SqliteThread {
  if (!shared || shared.dead) shared = new SqliteThread();
  return shared;
}

function fromWire(method: string, e: WireError): Error {
  if (e.kind === 'argument') return new StoreArgumentError(e.message);
  if (e.kind === 'other') return new StoreError(method, e.message);
  const operation = e.operation ?? method;
  const prefix = `${operation}: `;
  const cause = e.cause ? Object.assign(new Error(e.cause.message), { name: e.cause.name }, e.cause.code ? { code: e.cause.code } : {}) : undefined;
  return new StoreError(operation, e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message, cause ? { cause } : undefined);
}
