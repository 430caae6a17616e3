// The browser softphone's SIP side (issue 13): one device's account on sip.js over WebSocket, WebRTC media through
// sip.js's own SessionDescriptionHandler. No UI here; the page and the console's screen draw its state.
import {
  Invitation, Inviter, Registerer, RegistererState, SessionState, UserAgent,
  type InvitationAcceptOptions, type Session, type InviterOptions,
} from 'sip.js';
import type { IncomingResponse } from 'sip.js/lib/core';
import type { SessionDescriptionHandler } from 'sip.js/lib/platform/web';

/** What the page shows. */
export interface PhoneState {
  registration: 'off' | 'connecting' | 'registering' | 'registered' | 'failed';
  /** Why the last step failed (a refused REGISTER, a socket that would not open, a call that was refused). */
  error: string | null;
  call: CallState | null;
}

export interface CallState {
  direction: 'outgoing' | 'incoming';
  /** Who: the number dialled, or the caller's display name and user. */
  peer: string;
  state: 'calling' | 'ringing' | 'connected' | 'ended';
  held: boolean;
  /** Digits sent so far, and how the last went: `rtp` (RFC 4733 through the media path) or `info` (SIP INFO). */
  digits: string;
  dtmf: 'rtp' | 'info' | null;
  /** Why it ended (e.g. `486 Busy Here`, `hung up`). */
  ended: string | null;
}

export interface PhoneAccount {
  /** ws:// or wss:// URL of Switchboard's SIP-over-WebSocket listener. */
  server: string;
  domain: string;
  username: string;
  password: string;
}

/**
 * One registered device. The password lives only in this object (and sip.js's) for as long as it is signed in:
 * nothing is written to storage or put in a URL.
 */
export class Phone {
  state: PhoneState = { registration: 'off', error: null, call: null };
  private ua: UserAgent | undefined;
  private registerer: Registerer | undefined;
  private session: Session | undefined;
  private readonly listeners = new Set<(s: PhoneState) => void>();

  constructor(private readonly audio: HTMLAudioElement) {}

  onChange(fn: (s: PhoneState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private set(patch: Partial<PhoneState>): void {
    this.state = { ...this.state, ...patch };
    for (const fn of this.listeners) fn(this.state);
  }

  private setCall(patch: Partial<CallState>): void {
    if (this.state.call) this.set({ call: { ...this.state.call, ...patch } });
  }

  /** Opens the socket and registers; the state says when it is registered (or why not). */
  async signIn(account: PhoneAccount): Promise<void> {
    await this.signOut();
    const uri = UserAgent.makeURI(`sip:${account.username}@${account.domain}`);
    if (!uri) throw new Error(`not a SIP user and domain: ${account.username}@${account.domain}`);
    this.set({ registration: 'connecting', error: null });
    const ua = new UserAgent({
      uri,
      transportOptions: { server: account.server },
      authorizationUsername: account.username,
      authorizationPassword: account.password,
      logLevel: 'warn',
      // The PBX's candidates come from its media anchor (rtpengine), so no STUN server is asked; ICE gathering of
      // host candidates ends at once, the timeout only guards a browser that never reports the end.
      sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [] }, iceGatheringTimeout: 2000 },
      delegate: {
        onInvite: (invitation) => this.incoming(invitation),
        onDisconnect: (err) => { if (err) this.set({ registration: 'failed', error: `WebSocket closed: ${err.message}` }); },
      },
    });
    this.ua = ua;
    try {
      await ua.start();
    } catch (err) {
      this.ua = undefined;
      this.set({ registration: 'failed', error: `Cannot reach ${account.server}: ${(err as Error).message}` });
      return;
    }
    const registerer = new Registerer(ua);
    this.registerer = registerer;
    registerer.stateChange.addListener((s) => {
      if (s === RegistererState.Registered) this.set({ registration: 'registered', error: null });
      else if (s === RegistererState.Unregistered && this.state.registration === 'registered') this.set({ registration: 'off' });
    });
    this.set({ registration: 'registering' });
    await registerer.register({
      requestDelegate: {
        onReject: (res: IncomingResponse) => this.set({ registration: 'failed', error: `Registration refused: ${res.message.statusCode} ${res.message.reasonPhrase}` }),
      },
    });
  }

  /** Hangs up, unregisters and closes the socket. */
  async signOut(): Promise<void> {
    const ua = this.ua;
    if (!ua) return;
    await this.hangUp().catch(() => undefined);
    if (this.registerer?.state === RegistererState.Registered) await this.registerer.unregister().catch(() => undefined);
    this.ua = undefined;
    this.registerer = undefined;
    await ua.stop().catch(() => undefined);
    this.set({ registration: 'off', call: null });
  }

  /** Calls a number, an extension or a SIP URI. */
  async call(target: string): Promise<void> {
    if (!this.ua || this.state.registration !== 'registered') throw new Error('Not registered');
    if (this.session) throw new Error('A call is in progress');
    const t = target.trim();
    const uri = UserAgent.makeURI(t.startsWith('sip:') ? t : `sip:${t}@${this.ua.configuration.uri.host}`);
    if (!uri || t === '') throw new Error(`Cannot call '${target}'`);
    const options: InviterOptions = { sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } as never };
    const inviter = new Inviter(this.ua, uri, options);
    this.track(inviter, { direction: 'outgoing', peer: t, state: 'calling', held: false, digits: '', dtmf: null, ended: null });
    await inviter.invite({
      requestDelegate: {
        onReject: (res) => this.setCall({ ended: `${res.message.statusCode} ${res.message.reasonPhrase}` }),
      },
    });
  }

  /** Answers the ringing call. */
  async answer(): Promise<void> {
    const s = this.session;
    if (!(s instanceof Invitation) || s.state !== SessionState.Initial) throw new Error('No call is ringing');
    const options: InvitationAcceptOptions = { sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } as never };
    await s.accept(options);
  }

  /** Ends the call whatever its state: cancel, reject or BYE. */
  async hangUp(): Promise<void> {
    const s = this.session;
    if (!s) return;
    this.setCall({ ended: 'hung up' });
    if (s instanceof Inviter && (s.state === SessionState.Initial || s.state === SessionState.Establishing)) await s.cancel();
    else if (s instanceof Invitation && (s.state === SessionState.Initial || s.state === SessionState.Establishing)) await s.reject({ statusCode: 486 });
    else if (s.state === SessionState.Established) await s.bye();
  }

  /** Puts the call on hold (re-INVITE with sendonly) or takes it off. */
  async hold(on: boolean): Promise<void> {
    const s = this.session;
    if (!s || s.state !== SessionState.Established) throw new Error('No call is connected');
    if (this.state.call?.held === on) return;
    s.sessionDescriptionHandlerOptionsReInvite = { hold: on } as never;
    await new Promise<void>((resolve, reject) => {
      void s.invite({
        requestDelegate: {
          onAccept: () => { this.setCall({ held: on }); this.enableTracks(!on); resolve(); },
          onReject: (res) => reject(new Error(`${on ? 'Hold' : 'Unhold'} refused: ${res.message.statusCode} ${res.message.reasonPhrase}`)),
        },
      }).catch(reject);
    });
  }

  /**
   * Sends one key press: RFC 4733 telephone-events in the RTP stream when the call negotiated them (the PBX's media
   * anchor relays them to the far end), else SIP INFO (application/dtmf-relay), which the PBX relays in the dialog.
   */
  async dtmf(tone: string): Promise<void> {
    const s = this.session;
    if (!s || s.state !== SessionState.Established) throw new Error('No call is connected');
    if (!/^[0-9A-D#*]$/.test(tone)) throw new Error(`Not a DTMF key: ${tone}`);
    const sdh = s.sessionDescriptionHandler as SessionDescriptionHandler | undefined;
    const sender = sdh?.peerConnection?.getSenders().find((x) => x.track?.kind === 'audio')?.dtmf;
    if (sender?.canInsertDTMF) {
      sender.insertDTMF(tone, 100, 70);
      this.setCall({ digits: (this.state.call?.digits ?? '') + tone, dtmf: 'rtp' });
      return;
    }
    await s.info({ requestOptions: { body: { contentDisposition: 'render', contentType: 'application/dtmf-relay', content: `Signal=${tone}\r\nDuration=100` } } });
    this.setCall({ digits: (this.state.call?.digits ?? '') + tone, dtmf: 'info' });
  }

  /** The call's peer connection (tests read its getStats()). */
  get peerConnection(): RTCPeerConnection | undefined {
    return (this.session?.sessionDescriptionHandler as SessionDescriptionHandler | undefined)?.peerConnection;
  }

  private incoming(invitation: Invitation): void {
    if (this.session) {
      void invitation.reject({ statusCode: 486 });
      return;
    }
    const from = invitation.remoteIdentity;
    const peer = from.displayName ? `${from.displayName} <${from.uri.user ?? ''}>` : (from.uri.user ?? from.uri.toString());
    this.track(invitation, { direction: 'incoming', peer, state: 'ringing', held: false, digits: '', dtmf: null, ended: null });
  }

  private track(session: Session, call: CallState): void {
    this.session = session;
    this.set({ call, error: null });
    session.stateChange.addListener((s) => {
      if (this.session !== session) return;
      if (s === SessionState.Established) {
        this.setCall({ state: 'connected' });
        this.attachAudio(session);
      } else if (s === SessionState.Terminated) {
        this.session = undefined;
        this.audio.srcObject = null;
        this.setCall({ state: 'ended', ended: this.state.call?.ended ?? 'hung up by the other side' });
      }
    });
  }

  private attachAudio(session: Session): void {
    const sdh = session.sessionDescriptionHandler as SessionDescriptionHandler | undefined;
    if (!sdh) return;
    this.audio.srcObject = sdh.remoteMediaStream;
    void this.audio.play().catch(() => undefined);
  }

  /** On hold the microphone is muted too, so nothing is sent even if the far end ignores the direction. */
  private enableTracks(on: boolean): void {
    const pc = this.peerConnection;
    for (const sender of pc?.getSenders() ?? []) if (sender.track) sender.track.enabled = on;
  }
}
