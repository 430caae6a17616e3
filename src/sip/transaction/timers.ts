/**
 * RFC 3261 §17 timer values (Table 4 of §A) and RFC 6026 Timers L and M, derived from T1, T2, T4.
 *
 * On a reliable transport the retransmit timers (A, E, G) never fire and the "wait for retransmissions"
 * timers (D, I, J, K) are zero (§17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2).
 */

/** The three base intervals, in milliseconds, and the server transactions' safety reaper. */
export interface TimerConfig {
  t1: number;
  t2: number;
  t4: number;
  /**
   * Not in the RFC: how long an INVITE server transaction waits for its TU's next response (counted from the
   * INVITE, and again from each provisional the TU sends) before it answers 408 itself. Default 3 minutes.
   */
  inviteReaperMs?: number;
}

/** RFC 3261 defaults: T1 = 500 ms, T2 = 4 s, T4 = 5 s (§17.1.1.1, §17.1.2.2). */
export const DEFAULT_TIMERS: Readonly<TimerConfig> = { t1: 500, t2: 4000, t4: 5000 };

/** Default of {@link TimerConfig.inviteReaperMs}: 3 minutes. */
export const DEFAULT_INVITE_REAPER_MS = 180_000;

/** Every transaction timer in milliseconds; `undefined` means "never armed" for this transport. */
export interface TimerValues {
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  /** INVITE request retransmit interval (initially T1, doubling); UDP only. */
  readonly A: number | undefined;
  /** INVITE transaction timeout, 64*T1. */
  readonly B: number;
  /** Wait time for response retransmits: >32 s on UDP, 0 on reliable transports. */
  readonly D: number;
  /** Non-INVITE request retransmit interval (T1 doubling to T2); UDP only. */
  readonly E: number | undefined;
  /** Non-INVITE transaction timeout, 64*T1. */
  readonly F: number;
  /** INVITE final response retransmit interval (T1 doubling to T2); UDP only. */
  readonly G: number | undefined;
  /** Wait time for ACK receipt, 64*T1. */
  readonly H: number;
  /** Wait time for ACK retransmits: T4 on UDP, 0 reliable. */
  readonly I: number;
  /** Wait time for non-INVITE request retransmits: 64*T1 on UDP, 0 reliable. */
  readonly J: number;
  /** Wait time for response retransmits: T4 on UDP, 0 reliable. */
  readonly K: number;
  /** RFC 6026: wait time for accepted INVITE request retransmits, 64*T1. */
  readonly L: number;
  /** RFC 6026: wait time for retransmission of 2xx to INVITE, 64*T1. */
  readonly M: number;
  /**
   * Not in the RFC: the safety reaper of a server transaction whose TU never sends a final response (INVITE:
   * {@link TimerConfig.inviteReaperMs}; non-INVITE: 64*T1, when the client's Timer F has long fired). The
   * transaction then answers 408 itself, so no server transaction lives forever.
   */
  readonly reaperInvite: number;
  readonly reaperNonInvite: number;
}

/** Names of every timer a transaction may arm; `reaper` is ours (see {@link TimerValues.reaperInvite}). */
export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'reaper';

/**
 * Derives timers A–M from `{ t1, t2, t4 }` for a reliable or unreliable transport.
 * @throws TypeError when an interval is not a positive finite number.
 */
export function computeTimers(config: Partial<TimerConfig> | undefined, reliable: boolean): TimerValues {
  const t1 = config?.t1 ?? DEFAULT_TIMERS.t1;
  const t2 = config?.t2 ?? DEFAULT_TIMERS.t2;
  const t4 = config?.t4 ?? DEFAULT_TIMERS.t4;
  const reaperInvite = config?.inviteReaperMs ?? DEFAULT_INVITE_REAPER_MS;
  for (const [k, v] of [['t1', t1], ['t2', t2], ['t4', t4], ['inviteReaperMs', reaperInvite]] as const) {
    if (!Number.isFinite(v) || v <= 0) throw new TypeError(`timer ${k} must be a positive number of ms, got ${v}`);
  }
  const t64 = 64 * t1;
  return {
    t1, t2, t4,
    A: reliable ? undefined : t1,
    B: t64,
    // §17.1.1.2: "Timer D ... at least 32 seconds for unreliable transports, and ... zero seconds for reliable".
    // Scaled with T1 (64*T1 = 32 s at the default T1) so tests with a small T1 stay small.
    D: reliable ? 0 : t64,
    E: reliable ? undefined : t1,
    F: t64,
    G: reliable ? undefined : t1,
    H: t64,
    I: reliable ? 0 : t4,
    J: reliable ? 0 : t64,
    K: reliable ? 0 : t4,
    L: t64,
    M: t64,
    reaperInvite,
    reaperNonInvite: t64,
  };
}
