/**
 * Creates calls: the unique_call_id, the history writer and the Call, registered in the engine's table of
 * active calls until they end.
 */
import type { ConfigVersion } from '../../config/index.js';
import type { CallDirection } from '../../store/index.js';
import type { EngineContext } from '../engine-context.js';
import { CallRecorder } from '../records/call-recorder.js';
import type { CommitWriter } from '../records/commit-batcher.js';
import type { UniqueCallIdGenerator } from '../unique-call-id.js';
import { Call } from './call.js';
import { acceptTransfers } from './transfer.js';

/** Who is calling whom, as the history shows it. */
export interface CallParties {
  direction: CallDirection;
  callerId: string | null;
  callerName: string | null;
  destNumber: string | null;
}

/** The active calls, and the way to start one. */
export class CallTable {
  readonly #ctx: EngineContext;
  readonly #ids: UniqueCallIdGenerator;
  readonly #calls = new Map<string, Call>();
  readonly #writer: CommitWriter | undefined;

  /** `writer`: where every call's commits go (the engine's `CommitBatcher`); default each call commits on its own. */
  constructor(ctx: EngineContext, ids: UniqueCallIdGenerator, writer?: CommitWriter) {
    this.#ctx = ctx;
    this.#ids = ids;
    this.#writer = writer;
  }

  /** Number of calls not yet ended. */
  get size(): number {
    return this.#calls.size;
  }

  /** Every call not yet ended. */
  all(): Call[] {
    return [...this.#calls.values()];
  }

  get(uniqueCallId: string): Call | undefined {
    return this.#calls.get(uniqueCallId);
  }

  /** A new call on configuration `config`, tracked until it ends. */
  create(config: ConfigVersion, parties: CallParties): Call {
    const uniqueCallId = this.#ids.next();
    const startMs = this.#ctx.clock.now();
    let call: Call | null = null;
    const recorder = new CallRecorder({
      store: this.#ctx.store, clock: this.#ctx.clock, log: this.#ctx.log, onCommitted: () => { this.#ctx.onCommitted?.(); this.#ctx.events?.publish('call.committed', { unique_call_id: uniqueCallId }); },
      ...(this.#writer ? { writer: this.#writer } : {}), uniqueCallId, direction: parties.direction, callerId: parties.callerId, callerName: parties.callerName,
      destNumber: parties.destNumber, configVersion: config.version, startMs, legs: () => call?.legs ?? [],
    });
    // Attended transfer looks among the active calls for the dialog a Replaces names.
    call = new Call({ ctx: this.#ctx, uniqueCallId, config, recorder, startMs, bridged: (c, dialog) => acceptTransfers(c, dialog, () => this.all()) });
    this.#calls.set(uniqueCallId, call);
    this.#ctx.events?.publish('call.changed', { unique_call_id: uniqueCallId, state: call.state });
    call.onEnded((c) => {
      this.#calls.delete(c.uniqueCallId);
      const r = c.recorder.record();
      this.#ctx.events?.publish('call.ended', { unique_call_id: c.uniqueCallId, direction: r.direction, status: r.status });
    });
    return call;
  }
}
