/** Messages between {@link SqliteStore} (main thread) and sqlite-worker.ts. Plain data: they are structured-cloned. */

/** `open` creates connection `db` (args: [SqliteCoreOptions]); any other method is a SqliteCore method on `db`. */
export interface WorkerRequest {
  id: number;
  db: number;
  method: string;
  args: unknown[];
}

/** A store failure as it crosses the thread boundary (rebuilt as StoreError / StoreArgumentError on the main side). */
export interface WireError {
  kind: 'store' | 'argument' | 'other';
  message: string;
  operation?: string;
  /** The driver's error: its `code` (SQLITE_BUSY, SQLITE_FULL …) decides whether a commit is retried. */
  cause?: { message: string; name: string; code?: string };
}

export interface WorkerReply {
  id: number;
  value?: unknown;
  error?: WireError;
}
