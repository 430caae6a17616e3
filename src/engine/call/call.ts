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
import type { SrfDialog, SrfRequest, SrfResponse } from '../srf-types.js';
import { DialogCallerSide, type CallerSide } from './caller-side.js';
import { isCallEdge, type CallState } from './call-state.js';
import { Leg, type LegEndedBy } from './leg.js';
import { relayInDialog, type SdpRelay } from './in-dialog-relay.js';
import { CallMedia } from './call-media.js';
import { isWebRtcSdp, otherRole, type MediaLegRole, type MediaSession } from '../../media/index.js';

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

/** Dialog events the bridge listens to on both dialogs (dropped from the party who stays when the other is replaced). */
const BRIDGE_EVENTS = ['modify', 'info', 'update', 'refresh', 'refer'] as const;

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
  #callee: { dialog: SrfDialog; leg: Leg } | null = null;
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
  /** The media session the bridged legs' re-INVITEs go through (null: passed through). */
  #bridgeMedia: CallMedia | null = null;
  /** The session the PBX answered the caller on (voicemail, play, hold music), once it did. */
  #pbxSession: MediaSession | null = null;
  /** The PBX's answer to the caller while it is on its way (hold music starts it while agents may be rung). */
  #pbxAnswering: Promise<MediaSession | null> | null = null;
  /** Dialogs that moved to another call (attended transfer): this call no longer relays them nor hangs them up. */
  readonly #detached = new Set<SrfDialog>();
  readonly #bridged: CallInit['bridged'];

  constructor(init: CallInit) {
    this.uniqueCallId = init.uniqueCallId;
    this.config = init.config;
    this.ctx = init.ctx;
    this.recorder = init.recorder;
    this.startMs = init.startMs;
    this.#bridged = init.bridged;
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
    const placer = this.recorder.placingUser;
    return callees.some((u) => u.record === 'inbound' || u.record === 'all') || (placer !== null && (placer.record === 'outbound' || placer.record === 'all'));
  }

  /**
   * The SDP offer for INVITEs to `callees` (devices, or the trunk with `[]`): the caller's offer as it is, or — when
   * the call needs media, or already has it — the media session's offer, so RTP flows through us. Undefined when the
   * caller sent no offer.
   */
  async calleeOffer(callees: readonly UserConfig[], opts: { browserCallees?: boolean } = {}): Promise<string | undefined> {
    const sdp = this.#caller?.offer;
    if (sdp === undefined || this.isEnding) return sdp;
    if (this.#pbxAnswering) await this.#pbxAnswering;
    // The PBX answered the caller (play, hold music): the callee is offered our media session, which the caller
    // already talks to. The caller's own offer is useless to a callee now (its answer went to us).
    if (this.#pbxSession && this.#media) return (await this.#media.offerToCallee()) ?? sdp;
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
    if (this.isEnding || this.#pbxSession) return;
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
    if (this.#pbxAnswering) await this.#pbxAnswering;
    const media = calleeLeg.mediaAnchored ? this.#media : null;
    // Answered by the PBX already (play, hold music): the callee's answer only completes the session's offer to it;
    // the caller keeps its dialog and its media, which the session now bridges to the callee.
    const pbxAnswered = this.#pbxSession !== null && !!this.caller.dialog;
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
    this.#callee = { dialog: callee, leg: calleeLeg };
    const a = this.caller.dialog!;
    // The caller's re-INVITEs were answered by the session; from now on they are relayed to the callee.
    if (pbxAnswered) a.removeAllListeners?.('modify');
    this.#bridgeMedia = media;
    this.#bridge();
    if (this.isEnding) {
      // The call ended while the answer was on its way: end() saw no callee, so hang both up here.
      void a.destroy().catch(() => undefined);
      this.#dropCallee(callee, calleeLeg);
      return false;
    }
    if (this.#state !== 'connected') this.transition('connected');
    // Recording starts at answer (SPEC §2), per the answering user's setting or the placing user's.
    if (media && this.ctx.recordings && this.#recordingPlans(user).length > 0) media.startRecording(this.ctx.recordings.dir, now());
    this.#answeredUser = user;
    this.#answeredLeg = calleeLeg;
    // Saved so that a restart after a crash can still hang both sides up (records/recovery.ts).
    const saved = [pbxAnswered ? null : dialogRecordOf(this.uniqueCallId, this.caller.leg, a), dialogRecordOf(this.uniqueCallId, calleeLeg, callee)];
    this.recorder.dialogsAnswered(saved.filter((d) => d !== null));
    if (user) this.#releases.push(this.ctx.presence.hold(user.number));
    // A BYE lost in the network (or a peer that never sends one) must not keep a call up for ever (a PBX answer
    // armed this already).
    const maxMs = pbxAnswered ? 0 : this.config.config.pbx.max_call_duration_s * 1000;
    if (maxMs > 0) {
      const timer = this.ctx.clock.setTimeout(() => this.handle({ kind: 'hangup', reason: 'max-call-duration' }), maxMs);
      this.#releases.push(() => this.ctx.clock.clearTimeout(timer));
    }
    if (calleeGone || callee.connected === false) this.handle({ kind: 'bye', from: 'callee' });
    return true;
  }

  /** The callee's dialog and leg once bridged (transfers). */
  get calleeDialog(): SrfDialog | null {
    return this.#callee?.dialog ?? null;
  }

  get calleeLeg(): Leg | null {
    return this.#callee?.leg ?? null;
  }

  /**
   * A transfer (transfer.ts): `dialog` on `leg` takes `party`'s place in the bridge. The old party's dialog is the
   * call's no more (its BYE no longer ends the call); the party who stays is bridged to the newcomer. `anchored`: the
   * newcomer's SDP went through the call's media session ({@link bridgeMedia}), which goes on (and its recording);
   * otherwise the newcomer talks to the other party directly and re-INVITEs are relayed as they are.
   */
  replaceParty(party: 'caller' | 'callee', dialog: SrfDialog, leg: Leg, anchored = false): void {
    const stays = party === 'caller' ? this.#callee!.dialog : this.caller.dialog!;
    for (const event of BRIDGE_EVENTS) stays.removeAllListeners?.(event);
    if (party === 'caller') this.attachCaller(new DialogCallerSide(leg, dialog));
    else this.#callee = { dialog, leg };
    leg.mediaAnchored = anchored && this.#bridgeMedia !== null;
    if (!leg.mediaAnchored) this.#bridgeMedia = null;
    this.#bridge();
    const saved = dialogRecordOf(this.uniqueCallId, leg, dialog);
    if (saved) this.recorder.dialogsAnswered([saved]);
    if (dialog.connected === false) this.handle({ kind: 'bye', from: party });
  }

  /**
   * The media session the bridged dialogs' SDP goes through (a recorded call), or null (SDP passes through). A
   * transfer offers the new far party from it, so the media (and the recording) stay on the session.
   */
  get bridgeMedia(): CallMedia | null {
    return this.#bridgeMedia;
  }

  /** Which bridged party is on `dialog` (null: neither). */
  partyOf(dialog: SrfDialog): 'caller' | 'callee' | null {
    if (this.#state !== 'connected' || !this.#callee || this.#detached.has(dialog)) return null;
    return this.#caller?.dialog === dialog ? 'caller' : this.#callee.dialog === dialog ? 'callee' : null;
  }

  /** The dialog and leg of a bridged party. */
  party(party: 'caller' | 'callee'): { dialog: SrfDialog; leg: Leg } {
    return party === 'caller' ? { dialog: this.caller.dialog!, leg: this.caller.leg } : { dialog: this.#callee!.dialog, leg: this.#callee!.leg };
  }

  /**
   * Attended transfer (transfer.ts): `party`'s dialog leaves this call for another one, which takes it over. This call
   * stops relaying between its two dialogs and will not hang that one up; it is expected to end next (its end still
   * closes the party's leg and user touch here, as the party leaving this call).
   */
  detachParty(party: 'caller' | 'callee'): SrfDialog {
    const { dialog } = this.party(party);
    const other = this.party(party === 'caller' ? 'callee' : 'caller').dialog;
    for (const event of BRIDGE_EVENTS) {
      dialog.removeAllListeners?.(event);
      other.removeAllListeners?.(event);
    }
    this.#detached.add(dialog);
    return dialog;
  }

  /** Relays between the caller's and the callee's dialogs; a BYE from either ends the call while it is still in it. */
  #bridge(): void {
    const a = this.caller.dialog!;
    const b = this.#callee!.dialog;
    a.on('destroy', () => { if (this.#caller?.dialog === a && !this.#detached.has(a)) this.handle({ kind: 'bye', from: 'caller' }); });
    b.on('destroy', () => { if (this.#callee?.dialog === b && !this.#detached.has(b)) this.handle({ kind: 'bye', from: 'callee' }); });
    const media = this.#bridgeMedia;
    relayModify(a, b, 'caller', media, this.log);
    relayModify(b, a, 'callee', media, this.log);
    relayInDialog(a, b, this.log, media ? sdpRelay(media) : undefined);
    this.#bridged?.(this, a);
    this.#bridged?.(this, b);
  }

  /**
   * Answers the caller with the PBX's own media (voicemail, play, hold music): the media session accepts the
   * caller's offer, the caller gets our SDP, and the session is returned to play and record on. Null when there is
   * no media layer, the caller sent no offer, the session refused it, or the caller left. Idempotent (concurrent
   * calls share one answer). `status` is the call's status at the end unless a user answers (null: unchanged).
   * A callee rung later is offered this session ({@link calleeOffer}) and bridged to the caller through it.
   */
  answerWithMedia(status: string | null): Promise<MediaSession | null> {
    if (this.#pbxSession) {
      if (status !== null) this.recorder.answeredByPbx(status);
      return Promise.resolve(this.#pbxSession);
    }
    if (!this.#pbxAnswering) {
      const answering = this.#answerWithMedia(status);
      this.#pbxAnswering = answering;
      // A failed answer may be tried again by a later node.
      const forget = (): void => { if (this.#pbxAnswering === answering) this.#pbxAnswering = null; };
      void answering.then((s) => { if (!s) forget(); }, forget);
    }
    return this.#pbxAnswering;
  }

  async #answerWithMedia(status: string | null): Promise<MediaSession | null> {
    const offer = this.#caller?.offer;
    if (!this.ctx.media || offer === undefined || this.isEnding || this.caller.dialog) return null;
    this.#media ??= new CallMedia(this.ctx.media, this.uniqueCallId, this.log);
    const accepted = await this.#media.acceptCaller(offer);
    if (!accepted || this.isEnding) return null;
    try {
      await this.caller.answer(accepted.sdp);
    } catch (err) {
      this.log.info({ err: String(err) }, 'caller gone before the PBX answered');
      void this.end('caller-cancel', { by: 'caller' });
      return null;
    }
    const now = this.ctx.clock.now();
    this.caller.leg.answered(now);
    if (status !== null) this.recorder.answeredByPbx(status);
    const a = this.caller.dialog!;
    a.on('destroy', () => this.handle({ kind: 'bye', from: 'caller' }));
    // A re-INVITE from the caller (hold, a new address) is answered by the session, as the first offer was.
    a.on('modify', (req: SrfRequest, res: SrfResponse) => {
      const body = req.body ? req.body : undefined;
      (body === undefined ? Promise.resolve(a.local.sdp) : accepted.session.accept('caller', body))
        .then((sdp) => res.send(Status.OK, { body: sdp, headers: { 'Content-Type': 'application/sdp' } }))
        .catch((err: unknown) => {
          this.log.info({ err: String(err) }, 're-INVITE to the PBX refused');
          res.send(Status.NotAcceptableHere);
        });
    });
    if (this.isEnding) return null;
    if (this.#state !== 'connected') this.transition('connected');
    const saved = dialogRecordOf(this.uniqueCallId, this.caller.leg, a);
    if (saved) this.recorder.dialogsAnswered([saved]);
    const maxMs = this.config.config.pbx.max_call_duration_s * 1000;
    if (maxMs > 0) {
      const timer = this.ctx.clock.setTimeout(() => this.handle({ kind: 'hangup', reason: 'max-call-duration' }), maxMs);
      this.#releases.push(() => this.ctx.clock.clearTimeout(timer));
    }
    this.#pbxSession = accepted.session;
    return accepted.session;
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
    if (caller?.dialog && by !== 'caller' && !this.#detached.has(caller.dialog)) void caller.dialog.destroy().catch(() => undefined);
    if (this.#callee && by !== 'callee' && !this.#detached.has(this.#callee.dialog)) void this.#callee.dialog.destroy().catch(() => undefined);
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

  /** Who the recording is for: the answering user (inbound) and/or the placing user (outbound), per their `record`. */
  #recordingPlans(answered: UserConfig | null): Array<{ direction: 'inbound' | 'outbound'; user: UserConfig }> {
    const out: Array<{ direction: 'inbound' | 'outbound'; user: UserConfig }> = [];
    if (answered && (answered.record === 'inbound' || answered.record === 'all')) out.push({ direction: 'inbound', user: answered });
    const placer = this.recorder.placingUser;
    if (placer && (placer.record === 'outbound' || placer.record === 'all')) out.push({ direction: 'outbound', user: placer });
    return out;
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
        plans: this.#recordingPlans(this.#answeredUser),
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

/** Offers and answers of in-dialog UPDATEs through the media session (the first dialog of the pair is the caller's). */
function sdpRelay(media: CallMedia): SdpRelay {
  const role = (fromFirst: boolean): MediaLegRole => (fromFirst ? 'caller' : 'callee');
  return { offer: (fromFirst, sdp) => media.offer(role(fromFirst), sdp), answer: (fromFirst, sdp) => media.answer(role(fromFirst), sdp) };
}

/**
 * Relays a re-INVITE received on `from` (the `fromRole` leg) to `to`, answering with `to`'s new SDP; through the
 * media session when the call is anchored (hold/unhold included: the session carries the direction attributes over).
 */
function relayModify(from: SrfDialog, to: SrfDialog, fromRole: MediaLegRole, media: CallMedia | null, log: Logger): void {
  from.on('modify', (req: SrfRequest, res: SrfResponse) => {
    const body = req.body ? req.body : undefined;
    const relayed = async (): Promise<string> => {
      if (!media || body === undefined) return to.modify(req.body);
      const back = await to.modify(await media.offer(fromRole, body));
      return back ? media.answer(otherRole(fromRole), back) : back;
    };
    relayed()
      .then((sdp) => res.send(Status.OK, { body: sdp, headers: { 'Content-Type': 'application/sdp' } }))
      .catch((err: unknown) => {
        log.info({ err: String(err) }, 're-INVITE relay failed');
        try {
          res.send(Status.ServerInternalError);
        } catch { /* transaction gone */ }
      });
  });
}
