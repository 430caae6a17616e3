/**
 * The `queue` node (SPEC.md §1–§2, issue #4): the caller joins the queue and hears ringback (or hold music via
 * {@link HoldMusic}); the {@link QueueService} offers it to agents per strategy, each ring lasting
 * `agent_timeout_s`; the first agent to answer is bridged. Outcomes: `answered`; `timeout` after `max_wait_s`;
 * `full` at once when `max_callers` are already waiting; `empty` at once when none of the queue's agents has a
 * registered device (nobody could ever answer, so the caller goes straight to `next` rather than waiting out
 * max_wait_s; checked on arrival only: a caller already waiting stays until max_wait_s, as agents may register
 * again). An agent who answers and is gone before the caller is answered leaves the caller waiting in its place;
 * once the caller is bridged an agent BYE ends the call, recorded as answered. With hold music the PBX answers the
 * caller while it waits and the agent is bridged to that media session. Every visit writes one `queue_call` event
 * and GroupCallRecord ({@link GroupCallLog}): `abandoned` when the caller leaves unanswered or hangs up, `answered`
 * (with the agent) when the call ends.
 */
import type { QueueConfig, QueueNode, UserConfig } from '../../config/index.js';
import type { Call } from '../call/call.js';
import { GroupCallLog } from '../queue/group-record.js';
import type { HoldMusic, HoldMusicPlayback } from '../queue/hold-music.js';
import type { QueueEntry, QueueService } from '../queue/queue-service.js';
import { ringUsers, type RingUsersResult } from './ring-users.js';
import type { HandlerOutcome, NodeHandler } from './node-handler.js';

/** What the queue handler needs. */
export interface QueueHandlerDeps {
  queues: QueueService;
  holdMusic: HoldMusic;
  /** The From shown to agents' devices. */
  callerFrom(call: Call): string;
}

/** Builds the queue-node handler. */
export function createQueueHandler(deps: QueueHandlerDeps): NodeHandler<QueueNode> {
  return {
    type: 'queue',
    run(call: Call, node: QueueNode, signal: AbortSignal): Promise<HandlerOutcome> {
      const config = call.config.config.queues.find((q) => q.name === node.queue);
      if (!config) {
        call.log.warn({ node: node.id, queue: node.queue }, 'queue node names an unknown queue');
        return Promise.resolve('failed');
      }
      return new QueueVisit(deps, call, config, signal).run();
    },
  };
}

/** One caller's time in one queue. */
class QueueVisit {
  readonly #deps: QueueHandlerDeps;
  readonly #call: Call;
  readonly #config: QueueConfig;
  readonly #signal: AbortSignal;
  readonly #group: GroupCallLog;
  #entry: QueueEntry | null = null;
  #hold: HoldMusicPlayback | null = null;
  #ring: AbortController | null = null;
  #finished = false;
  #resolve: (o: HandlerOutcome) => void = () => undefined;
  /** Resolves once hold music (or ringback) has settled the caller: agents are rung only after it. */
  readonly #held: Promise<void>;
  #heldNow: () => void = () => undefined;

  constructor(deps: QueueHandlerDeps, call: Call, config: QueueConfig, signal: AbortSignal) {
    this.#deps = deps;
    this.#call = call;
    this.#config = config;
    this.#signal = signal;
    this.#group = new GroupCallLog(call, 'queue', config.name);
    this.#held = new Promise((r) => { this.#heldNow = r; });
  }

  run(): Promise<HandlerOutcome> {
    return new Promise<HandlerOutcome>((resolve) => {
      this.#resolve = resolve;
      if (this.#signal.aborted) return this.#done('failed');
      const joined = this.#deps.queues.join(this.#config, this.#call.uniqueCallId, {
        offer: (agents, entry) => void this.#offer(agents, entry),
        timedOut: () => this.#done('timeout'),
      });
      if (!joined.ok) {
        this.#call.log.info({ queue: this.#config.name, reason: joined.reason }, 'queue refused the caller');
        return this.#done(joined.reason);
      }
      this.#entry = joined.entry;
      if (this.#finished) return; // an offer ended the visit synchronously (not expected)
      this.#hold = this.#deps.holdMusic.start(this.#call, this.#config.hold_music);
      void (this.#hold.ready ?? Promise.resolve()).then(this.#heldNow, this.#heldNow);
      this.#signal.addEventListener('abort', () => this.#done('failed'), { once: true });
      this.#call.log.info({ queue: this.#config.name }, 'caller waiting in queue');
    });
  }

  async #offer(agents: readonly string[], entry: QueueEntry): Promise<void> {
    const { queues } = this.#deps;
    this.#entry = entry;
    // The first offer comes while the caller joins, before hold music answered it: the agents' INVITEs must carry
    // the media session's offer when the caller is answered with music.
    await this.#held;
    // Reserved for a caller who is already gone: give the agents back.
    if (this.#finished || this.#signal.aborted) {
      queues.offerEnded(entry, null);
      return;
    }
    const result = await this.#ringAgents(agents, entry);
    if (result.kind === 'none') queues.offerEnded(entry, null);
    else await this.#bridge(result, entry);
  }

  /** Rings the offered agents for agent_timeout_s (aborted when the caller leaves). */
  async #ringAgents(agents: readonly string[], entry: QueueEntry): Promise<RingUsersResult | { kind: 'none'; reason: 'error' }> {
    const users = agents.map((a) => this.#call.config.config.users.find((u) => u.number === a)).filter((u): u is UserConfig => !!u);
    const ring = new AbortController();
    this.#ring = ring;
    try {
      const from = this.#deps.callerFrom(this.#call);
      return await ringUsers(this.#call, users, {
        headers: () => ({ From: from }), ringTimeoutMs: this.#config.agent_timeout_s * 1000,
        context: { queue_name: this.#config.name, ring_group_name: null }, onRinging: () => this.#deps.queues.ringing(entry),
      }, ring.signal);
    } catch (err) {
      this.#call.log.error({ err, queue: this.#config.name }, 'ringing queue agents failed');
      return { kind: 'none', reason: 'error' };
    } finally {
      if (this.#ring === ring) this.#ring = null;
    }
  }

  /** An agent answered: bridge them to the caller, unless one of the two is already gone. */
  async #bridge(result: Extract<RingUsersResult, { kind: 'answered' }>, entry: QueueEntry): Promise<void> {
    const { queues } = this.#deps;
    const { user, dialog, leg } = result;
    const clock = this.#call.ctx.clock;
    if (dialog.connected === false && !this.#finished) {
      // The agent answered and hung up before we answered the caller: the caller keeps its place and waits on.
      this.#call.log.info({ queue: this.#config.name, agent: user.number }, 'agent hung up before the bridge; caller waits on');
      this.#call.recorder.userMissed(user);
      leg.end(clock.now(), 'callee');
      queues.offerEnded(entry, null);
      return;
    }
    if (this.#finished || !queues.offerEnded(entry, user.number)) {
      // The caller left (max_wait_s, hang-up) as the agent answered: hang the agent up.
      this.#call.recorder.userMissed(user);
      leg.end(clock.now(), 'pbx');
      void dialog.destroy().catch(() => undefined);
      return;
    }
    this.#hold?.stop();
    this.#call.recorder.userAnswered(user);
    this.#group.answered(user);
    const wrapUpMs = this.#config.wrap_up_s * 1000;
    if (this.#call.state === 'ended') queues.callEnded(user.number, wrapUpMs);
    else this.#call.onEnded(() => queues.callEnded(user.number, wrapUpMs));
    this.#finished = true;
    const ok = await this.#call.connect(dialog, leg, user);
    this.#call.log.info({ queue: this.#config.name, agent: user.number, bridged: ok }, 'queue call answered');
    this.#resolve(ok ? 'answered' : 'failed');
  }

  /** Leaves the queue with `outcome` (idempotent): stop ringing and hold music, release agents, write the record. */
  #done(outcome: HandlerOutcome): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#heldNow();
    this.#hold?.stop();
    this.#ring?.abort();
    if (this.#entry) this.#deps.queues.leave(this.#entry);
    // Leaving to `next` unanswered: the queue call ends now. On hang-up the call's end writes it.
    if (!this.#signal.aborted) this.#group.close();
    this.#resolve(outcome);
  }
}
