/**
 * RFC 3261 §13.3.1.1: "If the UAS desires an extended period of time to answer the INVITE, it will need to ask for
 * an "extension" in order to prevent proxies from canceling the transaction. A proxy has the option of canceling a
 * transaction when there is a gap of 3 minutes between responses in a transaction. To prevent cancellation, the UAS
 * MUST send a non-100 provisional response at every minute, to handle the possibility of lost provisional responses."
 *
 * A caller waiting in a queue (max_wait_s up to 300 s) or ringing a long time gets its last provisional again every
 * `intervalMs` until a final response goes out.
 */
import type { Clock, TimerHandle } from '../../common/index.js';
import type { Logger } from '../../common/index.js';

/** Re-sends the caller's last provisional at a fixed interval while the INVITE has no final response. */
export class ProvisionalRepeater {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #log: Logger;
  #timer: TimerHandle | undefined;
  #resend: (() => void) | undefined;
  #status = 0;
  #repeats = 0;
  #stopped = false;

  constructor(opts: { clock: Clock; intervalMs: number; log: Logger }) {
    if (!Number.isFinite(opts.intervalMs) || opts.intervalMs <= 0) throw new TypeError(`intervalMs must be positive, got ${opts.intervalMs}`);
    this.#clock = opts.clock;
    this.#intervalMs = opts.intervalMs;
    this.#log = opts.log;
  }

  /** How many times a provisional was re-sent. */
  get repeats(): number {
    return this.#repeats;
  }

  /** A provisional `status` was just sent; `resend` sends it again. The interval counts from now. */
  sent(status: number, resend: () => void): void {
    if (this.#stopped) return;
    this.#status = status;
    this.#resend = resend;
    this.#arm();
  }

  /** A final response went out (or the caller left): no more repeats. Idempotent. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => this.#fire(), this.#intervalMs);
  }

  #fire(): void {
    this.#timer = undefined;
    if (this.#stopped || !this.#resend) return;
    this.#repeats++;
    if (this.#repeats === 1) {
      this.#log.info({ status: this.#status, every_s: this.#intervalMs / 1000 }, 'caller still waiting: repeating its provisional (RFC 3261 §13.3.1.1)');
    } else if (this.#log.isLevelEnabled('debug')) this.#log.debug({ status: this.#status, repeats: this.#repeats }, 'provisional repeated');
    this.#resend();
    this.#arm();
  }
}
