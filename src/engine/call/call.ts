/**
 * A Call (STYLE.md §6): every leg of one conversation under one unique_call_id. It coordinates (state,
 * legs, the current node, the bridge, the history writer) and does not grow: behaviour lives in node handlers.
 * Everything from outside reaches it through `handle(input)`; srf callbacks translate and forward.
 */
import { InvalidStateError } from '../../common/index.js';
import type { Logger } from '../../common/index.js';
import type { ConfigVersion, UserConfig } from '../../config/index.js';
import type { EngineContext } from '../engine-context.js';
import type { CallRecorder } from '../records/call-recorder.js';
import { dialogRecordOf } from '../records/dialog-record.js';
import { Status } from '../../sip/syntax.js';
import type { SrfDialog } from '../srf-types.js';
import type { CallerSide } from './caller-side.js';
import { Bridge } from './bridge.js';
import { isCallEdge, type CallState } from './call-state.js';
import { Leg, type LegEndedBy } from './leg.js';
import { CallMedia, recordingPlans } from './call-media.js';
import { PbxAnswer } from './pbx-answer.js';
import { isWebRtcSdp, type MediaSession } from '../../media/index.js';

/** Inputs from outside the call. */
export type CallInput =
  | { kind: 'caller-cancel' }
  | { kind: 'bye'; from: 'caller' | 'callee' }
  | { kind: 'hangup'; reason: string; status?: number }
  | { kind: 'stop' };

/** How a call is built. */
export interface CallInit {
  ctx: EngineContext;
  uniqueCallId: string;
  /** The configuration version the call runs on from start to end. */
  config: ConfigVersion;
  recorder: CallRecorder;
  startMs: number;
  /**
   * Called for each dialog the call bridges (again after a transfer replaced a party): the call factory listens for
   * REFER there (transfer.ts), so that Call does not import what takes it as an argument. Absent: no transfers.
   */
  bridged?: (call: Call, dialog: SrfDialog) => void;
}

/**
 * The reason every call's and node's AbortSignal aborts with. `abort()` without a reason builds a DOMException
 * (with a stack trace) per signal; nothing reads the reason, so one shared value does.
 */
const CALL_ENDING = Object.freeze({ name: 'CallEnding', message: 'the call is ending' });
const NODE_DONE = Object.freeze({ name: 'NodeDone', message: 'the flow node was abandoned' });

/** One call. */
export class Call {
  readonly uniqueCallId: string;
  readonly config: ConfigVersion;
  readonly ctx: EngineContext;
  readonly recorder: CallRecorder;
  readonly startMs: number;
  readonly legs: Leg[] = [];
  #caller: CallerSide | null = null;
  #state: CallState = 'routing';
  #nodeAbort: AbortController | null = null;
  readonly #callAbort = new AbortController();
  /** The two dialogs relayed to each other once a callee answered. */
  #bridge: Bridge | null = null;
  #releases: Array<() => void> = [];
  #ending: Promise<void> | null = null;
  #endedListeners: Array<(call: Call) => void> = [];
  #log: Logger | null = null;
  #legCount = 0;
  /** The media seam; null until the call needs media (most calls never do: SDP passes through). */
  #media: CallMedia | null = null;
  /** Who answered (null: the trunk) and on which leg, for the recording's events and row. */
  #answeredUser: UserConfig | null = null;
  #answeredLeg: Leg | null = null;
  /** The PBX answering the caller with its own media (voicemail, play, hold music). */
  readonly #pbx: PbxAnswer;
  readonly #bridged: CallInit['bridged'];

  constructor(init: CallInit) {
    this.uniqueCallId = init.uniqueCallId;
    this.config = init.config;
    this.ctx = init.ctx;
    this.recorder = init.recorder;
    this.startMs = init.startMs;
    this.#bridged = init.bridged;
    this.#pbx = new PbxAnswer({
      caller: () => this.#caller, ending: () => this.isEnding, log: () => this.log,
      media: () => (this.ctx.media ? (this.#media ??= new CallMedia(this.ctx.media, this.uniqueCallId, this.log)) : null),
      recordStatus: (status) => this.recorder.answeredByPbx(status),
      answered: (dialog, status) => {
        this.caller.leg.answered(this.ctx.clock.now());
        if (status !== null) this.recorder.answeredByPbx(status);
        dialog.on('destroy', () => this.handle({ kind: 'bye', from: 'caller' }));
        if (this.isEnding) return;
        if (this.#state !== 'connected') this.transition('connected');
        this.#answeredDialogs([dialogRecordOf(this.uniqueCallId, this.caller.leg, dialog)], true);
      },
      callerGone: () => void this.end('caller-cancel', { by: 'caller' }),
    });
  }

  /** The call's logger (a child with `unique_call_id`), made on first use: most calls log nothing below `info`. */
  get log(): Logger {
    return (this.#log ??= this.ctx.log.child({ unique_call_id: this.uniqueCallId }));
  }

  /** True when the engine logs at `level`: hot paths check it before building a log line's fields. */
  logs(level: 'debug' | 'info'): boolean {
    return this.ctx.log.isLevelEnabled(level);
  }

  get state(): CallState {
    return this.#state;
  }

  /** Aborts when the call starts ending: for work outside flow nodes (outbound dial, click-to-call). */
  get signal(): AbortSignal {
    return this.#callAbort.signal;
  }

  /** True once the call is ending or ended. */
  get isEnding(): boolean {
    return this.#state === 'ending' || this.#state === 'ended';
  }

  get caller(): CallerSide {
    if (!this.#caller) throw new InvalidStateError(`call ${this.uniqueCallId} has no caller yet`);
    return this.#caller;
  }

  /** Sets (or replaces, for click-to-call) the caller side. */
  attachCaller(caller: CallerSide): void {
    this.#caller = caller;
  }

  /** Moves along an edge of CALL_EDGES; anything else is a bug. */
  transition(to: CallState): void {
    if (!isCallEdge(this.#state, to)) throw new InvalidStateError(`call ${this.uniqueCallId}: illegal transition ${this.#state} → ${to}`);
    if (this.logs('debug')) this.log.debug({ from: this.#state, to }, 'call state');
    this.#state = to;
    this.ctx.events?.publish('call.changed', { unique_call_id: this.uniqueCallId, state: to });
  }

  /** Adds a leg to the call; its id is `leg_<unique_call_id>_<n>` (unique wherever the unique_call_id is). */
  newLeg(init: Omit<ConstructorParameters<typeof Leg>[0], 'startedAtMs' | 'id'>): Leg {
    const leg = new Leg({ ...init, id: `leg_${this.uniqueCallId}_${++this.#legCount}`, startedAtMs: this.ctx.clock.now() });
    // Legs are made right after their INVITE's offer (calleeOffer): anchored when that offer was.
    leg.mediaAnchored = this.#media?.offered ?? false;
    this.legs.push(leg);
    return leg;
  }

  /**
   * Whether ringing `callees` needs the call's media anchored: one of them records inbound calls, or the user placing
   * the call records outbound ones (and there is a media layer and somewhere to put recordings).
   */
  needsMedia(callees: readonly UserConfig[]): boolean {
    if (!this.ctx.media || !this.ctx.recordings) return false;
    return recordingPlans(null, this.recorder.placingUser).length > 0 || callees.some((u) => recordingPlans(u, null).length > 0);
  }

  /**
   * The SDP offer for INVITEs to `callees` (devices, or the trunk with `[]`): the caller's offer as it is, or — when
   * the call needs media, or already has it — the media session's offer, so RTP flows through us. Undefined when the
   * caller sent no offer.
   */
  async calleeOffer(callees: readonly UserConfig[], opts: { browserCallees?: boolean } = {}): Promise<string | undefined> {
    const sdp = this.#caller?.offer;
    if (sdp === undefined || this.isEnding) return sdp;
    await this.#pbx.settled();
    // The PBX answered the caller (play, hold music): the callee is offered our media session, which the caller
    // already talks to. The caller's own offer is useless to a callee now (its answer went to us).
    if (this.#pbx.session && this.#media) return (await this.#media.offerToCallee()) ?? sdp;
    if (!this.#media) {
      // A browser on either side is anchored in rtpengine: DTLS-SRTP + ICE towards it, plain RTP to the other side.
      const webrtc = this.ctx.webrtcMedia && (isWebRtcSdp(sdp) || opts.browserCallees === true);
      if (webrtc) this.#media = new CallMedia(this.ctx.webrtcMedia!, this.uniqueCallId, this.log, opts.browserCallees ? ['callee'] : []);
      else if (!this.needsMedia(callees)) return sdp;
      else this.#media = new CallMedia(this.ctx.media!, this.uniqueCallId, this.log);
    }
    return (await this.#media.offerFromCaller(sdp)) ?? sdp;
  }

  /** Listens for the end of the call (after records are committed). */
  onEnded(fn: (call: Call) => void): void {
    this.#endedListeners.push(fn);
  }

  /** The single entry point for outside inputs. */
  handle(input: CallInput): void {
    switch (input.kind) {
      case 'caller-cancel':
        void this.end('caller-cancel', { by: 'caller' });
        return;
      case 'bye':
        void this.end(input.from === 'caller' ? 'caller-hangup' : 'callee-hangup', { by: input.from === 'caller' ? 'caller' : 'callee' });
        return;
      case 'hangup':
        void this.end(input.reason, { by: 'pbx', ...(input.status !== undefined ? { status: input.status } : {}) });
        return;
      case 'stop':
        void this.end('shutdown', { by: 'pbx', status: Status.ServiceUnavailable });
        return;
    }
  }

  /**
   * A flow node starts (flows/flow-runner.ts): the signal its handler runs with, aborted when the call ends. The call
   * owns its current node, so its end aborts the node before anything else (STYLE.md §6).
   */
  enterNode(): AbortSignal {
    this.#nodeAbort = new AbortController();
    return this.#nodeAbort.signal;
  }

  /** Someone is being rung: 180 to the caller, `routing → ringing`. */
  ringing(): void {
    if (this.isEnding) return;
    this.caller.ringing();
    if (this.#state === 'routing') this.transition('ringing');
  }

  /** A callee's early media (18x with SDP): 183 with that SDP to the caller, once; the call is ringing. */
  earlyMedia(sdp: string): void {
    // A caller the PBX answered keeps hearing what the PBX plays until the callee answers.
    if (this.isEnding || this.#pbx.session) return;
    if (this.#state === 'routing') this.transition('ringing');
    const media = this.#media;
    if (!media?.offered) return this.caller.progress(sdp);
    void media.answerFromCallee(sdp).then((out) => { if (!this.isEnding) this.caller.progress(out ?? sdp); });
  }

  /**
   * Answers the caller with the callee's SDP and bridges the two dialogs (signalling only: SDP passes through,
   * re-INVITEs are relayed). Returns false when the call ended meanwhile (the callee is hung up).
   */
  async connect(callee: SrfDialog, calleeLeg: Leg, user: UserConfig | null): Promise<boolean> {
    const now = () => this.ctx.clock.now();
    if (this.isEnding) return this.#dropCallee(callee, calleeLeg);
    // The callee may hang up while the caller's answer is on its way: remember it, since srf emits 'destroy' once.
    let calleeGone = false;
    callee.on('destroy', () => { calleeGone = true; });
    await this.#pbx.settled();
    const media = calleeLeg.mediaAnchored ? this.#media : null;
    // Answered by the PBX already (play, hold music): the callee's answer only completes the session's offer to it;
    // the caller keeps its dialog and its media, which the session now bridges to the callee.
    const pbxAnswered = this.#pbx.session !== null && !!this.caller.dialog;
    let answer = callee.remote.sdp;
    if (media) answer = (await media.answerFromCallee(answer)) ?? answer;
    if (!pbxAnswered) {
      try {
        await this.caller.answer(answer);
      } catch (err) {
        this.log.info({ err: String(err) }, 'caller gone before the answer');
        this.#dropCallee(callee, calleeLeg);
        void this.end('caller-cancel', { by: 'caller' });
        return false;
      }
      this.caller.leg.answered(now());
    }
    const a = this.caller.dialog!;
    // The caller's re-INVITEs were answered by the session; from now on they are relayed to the callee.
    if (pbxAnswered) a.removeAllListeners?.('modify');
    const bridged = this.#bridged;
    this.#bridge = new Bridge({
      caller: () => this.caller, attachCaller: (c) => this.attachCaller(c), connected: () => this.#state === 'connected',
      bye: (from) => this.handle({ kind: 'bye', from }), log: () => this.log, bridged: bridged && ((d) => bridged(this, d)),
      answered: (leg, dialog) => this.#answeredDialogs([dialogRecordOf(this.uniqueCallId, leg, dialog)], false),
    }, { dialog: callee, leg: calleeLeg }, media);
    if (this.isEnding) {
      // The call ended while the answer was on its way: end() saw no callee, so hang both up here.
      void a.destroy().catch(() => undefined);
      this.#dropCallee(callee, calleeLeg);
      return false;
    }
    if (this.#state !== 'connected') this.transition('connected');
    // Recording starts at answer (SPEC §2), per the answering user's setting or the placing user's.
    if (media && this.ctx.recordings && recordingPlans(user, this.recorder.placingUser).length > 0) media.startRecording(this.ctx.recordings.dir, now());
    this.#answeredUser = user;
    this.#answeredLeg = calleeLeg;
    // A PBX answer saved the caller's dialog and armed the maximum duration already.
    this.#answeredDialogs([pbxAnswered ? null : dialogRecordOf(this.uniqueCallId, this.caller.leg, a), dialogRecordOf(this.uniqueCallId, calleeLeg, callee)], !pbxAnswered);
    if (user) this.#releases.push(this.ctx.presence.hold(user.number));
    if (calleeGone || callee.connected === false) this.handle({ kind: 'bye', from: 'callee' });
    return true;
  }

  /** The bridge once a callee answered (transfers replace or detach its parties); null before. */
  get bridge(): Bridge | null {
    return this.#bridge;
  }

  /**
   * Answers the caller with the PBX's own media (voicemail, play, hold music; pbx-answer.ts): the session to play and
   * record on, or null (no media layer or offer, refused, the caller left). `status` is the call's status at the end
   * unless a user answers (null: unchanged). A callee rung later is offered this session and bridged through it.
   */
  answerWithMedia(status: string | null): Promise<MediaSession | null> {
    return this.#pbx.answer(status);
  }

  /**
   * Saves answered dialogs so that a restart after a crash can still hang them up (records/recovery.ts), and with
   * `armMaxDuration` starts the call's maximum duration: a lost BYE (or a peer that never sends one) must not keep a
   * call up for ever.
   */
  #answeredDialogs(saved: ReadonlyArray<ReturnType<typeof dialogRecordOf>>, armMaxDuration: boolean): void {
    const dialogs = saved.filter((d) => d !== null);
    if (dialogs.length > 0) this.recorder.dialogsAnswered(dialogs);
    const maxMs = armMaxDuration ? this.config.config.pbx.max_call_duration_s * 1000 : 0;
    if (maxMs <= 0) return;
    const timer = this.ctx.clock.setTimeout(() => this.handle({ kind: 'hangup', reason: 'max-call-duration' }), maxMs);
    this.#releases.push(() => this.ctx.clock.clearTimeout(timer));
  }

  /** Holds a user as "on a call" until the call ends (the caller of an outbound call). */
  holdPresence(user: UserConfig): void {
    this.#releases.push(this.ctx.presence.hold(user.number));
  }

  /**
   * Ends the call; idempotent. Cascade (STYLE.md §6): abort the node, end the legs (final response or BYE),
   * release media and presence, write the final record, then tell listeners exactly once.
   */
  end(reason: string, opts: { status?: number; by?: LegEndedBy } = {}): Promise<void> {
    this.#ending ??= this.#end(reason, opts);
    return this.#ending;
  }

  async #end(reason: string, opts: { status?: number; by?: LegEndedBy }): Promise<void> {
    this.transition('ending');
    this.#nodeAbort?.abort(NODE_DONE);
    this.#callAbort.abort(CALL_ENDING);
    const by = opts.by ?? 'pbx';
    const now = this.ctx.clock.now();
    const caller = this.#caller;
    if (caller && !caller.dialog && reason !== 'caller-cancel') caller.reject(opts.status ?? Status.TemporarilyUnavailable);
    const bridge = this.#bridge;
    if (caller?.dialog && by !== 'caller' && !bridge?.isDetached(caller.dialog)) void caller.dialog.destroy().catch(() => undefined);
    if (bridge && by !== 'callee' && !bridge.isDetached(bridge.callee.dialog)) void bridge.callee.dialog.destroy().catch(() => undefined);
    const cancelStatus = caller && !caller.dialog ? (reason === 'caller-cancel' ? Status.RequestTerminated : opts.status ?? Status.TemporarilyUnavailable) : undefined;
    for (const leg of this.legs) leg.end(now, by, leg === caller?.leg ? cancelStatus : undefined);
    for (const release of this.#releases) release();
    // The recording stops at hang-up; its file is closed while the final records are written.
    void this.#media?.stopRecording();
    if (this.logs('info')) this.log.info({ reason, legs: this.legs.length }, 'call ended');
    await this.recorder.finish(reason);
    await this.#finishMedia();
    this.transition('ended');
    for (const fn of this.#endedListeners) {
      try {
        fn(this);
      } catch (err) {
        this.log.error({ err }, 'call-ended listener failed');
      }
    }
  }

  /**
   * Releases the media session and, when a recording was made, writes its row and events — after the call's
   * `*_completed` events (they were committed first), and only now that the file is closed.
   */
  async #finishMedia(): Promise<void> {
    if (!this.#media) return;
    try {
      const done = await this.#media.finish();
      if (!done || !this.ctx.recordings) return;
      const link = this.ctx.recordings.link(done.recordingId, this.config.config);
      this.recorder.recordingReady({
        recordingId: done.recordingId, startedAtMs: done.startedAtMs, result: done.result, link, legId: this.#answeredLeg?.id ?? null,
        plans: recordingPlans(this.#answeredUser, this.recorder.placingUser),
      });
      await this.recorder.flushed();
    } catch (err) {
      this.log.error({ err }, 'finishing the call media failed');
    }
  }

  #dropCallee(callee: SrfDialog, leg: Leg): false {
    leg.end(this.ctx.clock.now(), 'pbx');
    void callee.destroy().catch(() => undefined);
    return false;
  }
}
