/**
 * One dispatcher pass at a time. A request during a pass queues exactly one more, started with setImmediate so
 * socket I/O runs between passes; requests while one is queued coalesce into it.
 */
export class PassRunner {
  readonly #pass: () => Promise<void>;
  readonly #canRun: () => boolean;
  readonly #onError: (err: unknown) => void;
  #running: Promise<void> | null = null;
  #again = false;
  #queued = false;

  /** `canRun` is asked before each pass (false once stopped); `onError` gets a failed pass's error. */
  constructor(pass: () => Promise<void>, canRun: () => boolean, onError: (err: unknown) => void) {
    this.#pass = pass;
    this.#canRun = canRun;
    this.#onError = onError;
  }

  /** The pass running now, if any. */
  get running(): Promise<void> | null {
    return this.#running;
  }

  /** A follow-up pass is waiting for setImmediate. */
  get queued(): boolean {
    return this.#queued;
  }

  /** Runs a pass now, or one more after the current one. */
  request(): void {
    if (!this.#canRun()) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#again = false;
    this.#running = this.#pass()
      .catch(this.#onError)
      .finally(() => {
        this.#running = null;
        if (this.#again && !this.#queued) {
          this.#queued = true;
          setImmediate(() => {
            this.#queued = false;
            this.request();
          });
        }
      });
  }

  /** From inside a pass: run another one after it (more work is waiting). */
  requestAnother(): void {
    this.#again = true;
  }
}
