/**
 * A small reorder buffer on RTP sequence numbers: packets in order pass straight through (no added delay in the
 * common case); a gap holds later packets back until the missing one arrives, `depth` packets are waiting, or the
 * oldest has waited `maxWaitMs` — then the gap is given up (a lost packet) and the held packets go out in order.
 * Duplicates and packets older than what was already released are dropped. A jump of more than
 * {@link RESET_DISTANCE} sequence numbers (a restarted sender, a new SSRC) restarts the buffer at that packet.
 *
 * Sequence numbers are 16 bits; they are extended to a running count so wrap-around at 65535 is seamless.
 */

/** Sequence distance beyond which a packet is a restart, not a late or early packet (RFC 3550 A.1 MAX_DROPOUT is 3000). */
export const RESET_DISTANCE = 3000;

interface Held<T> { ext: number; item: T; at: number }

/** Counters of a {@link ReorderBuffer}. */
export interface ReorderStats {
  /** Packets released out of the order they arrived in. */
  reordered: number;
  /** Sequence numbers given up as lost. */
  lost: number;
  /** Duplicates and packets that came after their turn. */
  late: number;
}

export class ReorderBuffer<T> {
  readonly #depth: number;
  readonly #maxWaitMs: number;
  readonly #release: (item: T) => void;
  /** The extended sequence number released next; null before the first packet. */
  #next: number | null = null;
  #held: Array<Held<T>> = [];
  readonly stats: ReorderStats = { reordered: 0, lost: 0, late: 0 };

  constructor(release: (item: T) => void, opts: { depth?: number; maxWaitMs?: number } = {}) {
    this.#release = release;
    this.#depth = opts.depth ?? 3;
    this.#maxWaitMs = opts.maxWaitMs ?? 60;
    if (!Number.isInteger(this.#depth) || this.#depth < 0) throw new TypeError(`reorder depth must be a non-negative integer, got ${this.#depth}`);
  }

  /** Packets held back now. */
  get held(): number {
    return this.#held.length;
  }

  /**
   * Takes one packet with its 16-bit sequence number at time `nowMs`; releases what is in order. Returns false when
   * the packet was dropped (a duplicate, or later than its turn).
   */
  push(seq: number, item: T, nowMs: number): boolean {
    if (this.#next === null) { this.#next = seq + 1; this.#release(item); return true; }
    // Extend: the value congruent to seq mod 65536 nearest to what is expected next.
    let ext = this.#next + ((((seq - this.#next) % 65536) + 98304) % 65536) - 32768;
    const diff = ext - this.#next;
    if (diff < -RESET_DISTANCE || diff > RESET_DISTANCE) {
      this.flush();
      ext = seq;
      this.#next = ext + 1;
      this.#release(item);
      return true;
    }
    if (diff < 0) { this.stats.late++; return false; }
    if (diff === 0) {
      if (this.#held.length > 0) this.stats.reordered++;
      this.#next = ext + 1;
      this.#release(item);
      this.#drain();
      return true;
    }
    if (this.#held.some((h) => h.ext === ext)) { this.stats.late++; return false; }
    // Insert in order (the list is a handful of packets).
    let i = this.#held.length;
    while (i > 0 && this.#held[i - 1]!.ext > ext) i--;
    this.#held.splice(i, 0, { ext, item, at: nowMs });
    if (this.#held.length > this.#depth) this.#skipGap();
    return true;
  }

  /** Gives up gaps whose held packets have waited `maxWaitMs`; call it from a timer. */
  expire(nowMs: number): void {
    while (this.#held.length > 0 && this.#held.some((h) => nowMs - h.at >= this.#maxWaitMs)) this.#skipGap();
  }

  /** Releases everything held, in order, giving up the gaps. */
  flush(): void {
    while (this.#held.length > 0) this.#skipGap();
  }

  #skipGap(): void {
    const first = this.#held[0]!;
    this.stats.lost += first.ext - this.#next!;
    this.#next = first.ext;
    this.#drain();
  }

  #drain(): void {
    while (this.#held.length > 0 && this.#held[0]!.ext === this.#next) {
      const h = this.#held.shift()!;
      this.#next = h.ext + 1;
      this.#release(h.item);
    }
  }
}
