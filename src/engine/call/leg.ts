/**
 * A Leg: one SIP dialog (or dialog attempt) of a call: the caller, a device being rung, or the trunk.
 * It carries what the call record needs; the srf objects stay with whoever drives the leg.
 */
import { newId, type Brand } from '../../common/index.js';
import type { LegRecord } from '../../store/index.js';
import { isoUtc } from '../records/time.js';

/** Leg identifier (`leg_…`). */
export type LegId = Brand<'LegId'>;

/** What the leg connects to. */
export type LegKind = 'caller' | 'device' | 'trunk';

/** Who ended a leg. */
export type LegEndedBy = 'caller' | 'callee' | 'pbx';

/** One leg of a call, mutated as it progresses. */
export class Leg {
  readonly id: LegId;
  readonly kind: LegKind;
  readonly userNumber: string | null;
  readonly device: string | null;
  readonly remote: string | null;
  readonly startedAtMs: number;
  answeredAtMs: number | null = null;
  endedAtMs: number | null = null;
  finalStatus: number | null = null;
  endedBy: LegEndedBy | null = null;
  /** True when this leg was sent the call's anchored offer (its SDP goes through the call's media session). */
  mediaAnchored = false;

  /** `id`: given by the call (`Call.newLeg`); a random `leg_…` otherwise. */
  constructor(init: { kind: LegKind; id?: string; userNumber?: string | null; device?: string | null; remote?: string | null; startedAtMs: number }) {
    this.id = (init.id ?? newId('leg')) as LegId;
    this.kind = init.kind;
    this.userNumber = init.userNumber ?? null;
    this.device = init.device ?? null;
    this.remote = init.remote ?? null;
    this.startedAtMs = init.startedAtMs;
  }

  /** True once the leg has ended. */
  get ended(): boolean {
    return this.endedAtMs !== null;
  }

  /** Marks the leg answered (idempotent). */
  answered(atMs: number, status = 200): void {
    if (this.answeredAtMs === null) this.answeredAtMs = atMs;
    this.finalStatus ??= status;
  }

  /** Marks the leg ended (idempotent: the first end wins). */
  end(atMs: number, by: LegEndedBy, status?: number): void {
    if (this.endedAtMs !== null) return;
    this.endedAtMs = atMs;
    this.endedBy = by;
    if (status !== undefined) this.finalStatus ??= status;
  }

  /** The store row for this leg. */
  toRecord(uniqueCallId: string): LegRecord {
    return {
      leg_id: this.id, unique_call_id: uniqueCallId, kind: this.kind, user_number: this.userNumber, device: this.device,
      remote: this.remote, started_at: isoUtc(this.startedAtMs), answered_at: this.answeredAtMs === null ? null : isoUtc(this.answeredAtMs),
      ended_at: this.endedAtMs === null ? null : isoUtc(this.endedAtMs), final_status: this.finalStatus, ended_by: this.endedBy,
    };
  }
}
