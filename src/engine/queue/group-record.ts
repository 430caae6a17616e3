/**
 * The queue / ring-group part of a call's history (SPEC.md §3–§4): one `queue_call` or `ring_group_call` event
 * and one GroupCallRecord row, written together in one commit, exactly once per visit of the call to the group:
 * when the caller leaves the group unanswered (to `next`), or when the call ends (answered, or hung up while
 * waiting/ringing).
 */
import type { UserConfig } from '../../config/index.js';
import type { GroupCallRecord } from '../../store/index.js';
import type { Call } from '../call/call.js';
import { durationS, isoUtc } from '../records/time.js';

/** The group record of one call's visit to a queue or ring group. */
export class GroupCallLog {
  readonly #call: Call;
  readonly #kind: 'queue' | 'ring_group';
  readonly #name: string;
  #written = false;
  #agent: UserConfig | null = null;
  #connectedMs: number | null = null;

  constructor(call: Call, kind: 'queue' | 'ring_group', name: string) {
    this.#call = call;
    this.#kind = kind;
    this.#name = name;
    call.recorder.onFinish((endedMs) => this.close(endedMs));
  }

  /** True once the row is written. */
  get written(): boolean {
    return this.#written;
  }

  /**
   * The member/agent who answered; `connected_at` is the call's (the same instant as its user_inbound_answered).
   * The row is written when the call ends.
   */
  answered(user: UserConfig): void {
    const at = this.#call.recorder.record().connected_at;
    this.#agent = user;
    this.#connectedMs = at === null ? this.#call.ctx.clock.now() : Date.parse(at);
  }

  /** Writes the row and event now (idempotent): `answered` when someone answered, else `abandoned`. */
  close(endedMs: number = this.#call.ctx.clock.now()): void {
    if (this.#written) return;
    this.#written = true;
    const rec = this.#call.recorder.record();
    const start = this.#call.startMs;
    const row: GroupCallRecord = {
      unique_call_id: this.#call.uniqueCallId, group_name: this.#name, caller_id: rec.caller_id, caller_name: rec.caller_name,
      dest_number: rec.dest_number, user_name: this.#agent?.name ?? null, user_number: this.#agent?.number ?? null,
      call_start_at: isoUtc(start), connected_at: this.#connectedMs === null ? null : isoUtc(this.#connectedMs),
      call_duration: durationS(start, endedMs),
      conversation_duration: this.#connectedMs === null ? 0 : durationS(this.#connectedMs, endedMs),
      status: this.#agent ? 'answered' : 'abandoned',
    };
    this.#call.recorder.groupCall(this.#kind, row);
  }
}
