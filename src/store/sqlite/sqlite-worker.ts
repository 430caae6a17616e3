/**
 * The SQLite store's worker thread (issue 15): it owns every connection of the process's SQLite stores, so
 * better-sqlite3's synchronous work — statements, COMMIT, the WAL write and the checkpoints' fsync — never runs on
 * the event loop that carries SIP. Requests are handled one at a time in arrival order (one thread, synchronous
 * calls), so a read sent after a write's reply sees that write. Protocol types: sqlite-protocol.ts.
 */
import { parentPort } from 'node:worker_threads';
import { StoreArgumentError, StoreError } from '../errors.js';
import { SqliteCore } from './sqlite-core.js';
import type { WireError, WorkerReply, WorkerRequest } from './sqlite-protocol.js';

const dbs = new Map<number, SqliteCore>();
const port = parentPort!;

port.on('message', (req: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = { id: req.id, value: handle(req) };
  } catch (err) {
    reply = { id: req.id, error: toWire(err) };
  }
  // Every SqliteCore method is synchronous inside an async shell: its promise is already settled here.
  if (reply.value instanceof Promise) {
    reply.value.then((value: unknown) => port.postMessage({ id: req.id, value }), (err: unknown) => port.postMessage({ id: req.id, error: toWire(err) }));
  } else {
    port.postMessage(reply);
  }
});

function handle(req: WorkerRequest): unknown {
  if (req.method === 'open') {
    dbs.set(req.db, new SqliteCore(req.args[0] as ConstructorParameters<typeof SqliteCore>[0]));
    return undefined;
  }
  const core = dbs.get(req.db);
  if (!core) throw new StoreError(req.method, 'the store is closed');
  if (req.method === 'close') dbs.delete(req.db);
  const fn = (core as unknown as Record<string, (...a: unknown[]) => unknown>)[req.method];
  if (typeof fn !== 'function') throw new StoreError(req.method, 'no such store method');
  return fn.apply(core, req.args);
}

function toWire(err: unknown): WireError {
  if (err instanceof StoreArgumentError) return { kind: 'argument', message: err.message };
  const cause = err instanceof StoreError ? (err.cause as { code?: unknown; message?: unknown; name?: unknown } | undefined) : undefined;
  return {
    kind: err instanceof StoreError ? 'store' : 'other',
    message: err instanceof Error ? err.message : String(err),
    ...(err instanceof StoreError ? { operation: err.operation } : {}),
    ...(cause ? { cause: { message: String(cause.message ?? ''), name: String(cause.name ?? 'Error'), ...(typeof cause.code === 'string' ? { code: cause.code } : {}) } } : {}),
  };
}
