/**
 * sip.js user agents in Node for signalling tests (issue 13). sip.js needs a WebSocket (Node 20 has none: the `ws`
 * package's is installed as the global one) and a SessionDescriptionHandler: {@link PlainRtpSdh} stands in for the
 * browser's WebRTC one with a plain RTP/AVP G.711 SDP, so no media stack is needed for these tests.
 */
import { WebSocket } from 'ws';
import {
  Invitation, Inviter, Registerer, RegistererState, SessionState, UserAgent,
  type Session, type SessionDescriptionHandler, type SessionDescriptionHandlerFactory,
} from 'sip.js';

// sip.js constructs `new WebSocket(server, 'sip')`; in a browser that is the DOM's, here the ws package's.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

let nextPort = 30000 + Math.floor(Math.random() * 10000) * 2;

const FINGERPRINT = 'sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08';

/**
 * A SessionDescriptionHandler that offers and answers one plain G.711 audio stream, and records DTMF asked of it.
 * With `webrtc` it writes what a browser would (UDP/TLS/RTP/SAVPF, ICE, DTLS fingerprint, rtcp-mux; opus then G.711)
 * and accepts only WebRTC SDP: signalling tests of the rtpengine anchoring, without a DTLS stack.
 */
export class PlainRtpSdh implements SessionDescriptionHandler {
  readonly port = (nextPort += 2);
  constructor(readonly webrtc = false) {}
  remoteSdp: string | undefined;
  readonly dtmf: string[] = [];
  #version = 1;
  #hold = false;

  /** Our SDP (offer or answer); `hold` (sip.js's session.invite with a hold modifier is not used here). */
  getDescription(): Promise<{ body: string; contentType: string }> {
    if (this.webrtc) {
      const setup = this.remoteSdp ? 'active' : 'actpass';
      return Promise.resolve({ contentType: 'application/sdp', body: [
        'v=0', `o=- 46117314 ${this.#version++} IN IP4 127.0.0.1`, 's=-', 't=0 0', 'a=group:BUNDLE 0',
        `m=audio ${this.port} UDP/TLS/RTP/SAVPF ${this.remoteSdp ? '0 101' : '111 0 8 101'}`, 'c=IN IP4 127.0.0.1',
        `a=candidate:1 1 udp 2122260223 127.0.0.1 ${this.port} typ host generation 0`, 'a=ice-ufrag:Wm3k', 'a=ice-pwd:2m0a5hQk9f4bGcvC7fPq1Xy8',
        `a=fingerprint:${FINGERPRINT}`, `a=setup:${setup}`, 'a=mid:0', this.#hold ? 'a=sendonly' : 'a=sendrecv', 'a=rtcp-mux',
        ...(this.remoteSdp ? [] : ['a=rtpmap:111 opus/48000/2']), 'a=rtpmap:0 PCMU/8000', ...(this.remoteSdp ? [] : ['a=rtpmap:8 PCMA/8000']),
        'a=rtpmap:101 telephone-event/8000', '',
      ].join('\r\n') });
    }
    const body = [
      'v=0', `o=sipjs-test 1 ${this.#version++} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
      `m=audio ${this.port} RTP/AVP 0 8 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16', this.#hold ? 'a=sendonly' : 'a=sendrecv', '',
    ].join('\r\n');
    return Promise.resolve({ body, contentType: 'application/sdp' });
  }

  setDescription(sdp: string): Promise<void> {
    const want = this.webrtc ? /^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /m : /^m=audio \d+ RTP\/AVP /m;
    if (!want.test(sdp)) return Promise.reject(new Error(`not a ${this.webrtc ? 'WebRTC' : 'plain RTP'} audio SDP:\n${sdp}`));
    this.remoteSdp = sdp;
    return Promise.resolve();
  }

  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp';
  }

  sendDtmf(tones: string): boolean {
    this.dtmf.push(tones);
    return true;
  }

  /** Marks the next offer sendonly (hold) or sendrecv. */
  setHold(on: boolean): void {
    this.#hold = on;
  }

  close(): void {
    /* nothing held */
  }
}


/** One sip.js phone: a UserAgent, its Registerer, and the sessions it saw. */
export interface SipJsPhone {
  ua: UserAgent;
  registerer: Registerer;
  /** Invitations that arrived, in order. */
  incoming: Invitation[];
  /** Every SessionDescriptionHandler made, in order (the SDP each one got). */
  sdhs: PlainRtpSdh[];
  /** Resolves when the next invitation arrives. */
  nextInvitation(timeoutMs?: number): Promise<Invitation>;
  /** Sends an INVITE to `target` (`sip:1002@domain`) and resolves once established (rejects on a final failure). */
  call(target: string, timeoutMs?: number): Promise<Inviter>;
  register(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a sip.js UA connected to `server` (`ws://127.0.0.1:port`) as `username`. */
export async function startSipJsPhone(o: { server: string; username: string; password: string; domain: string; reconnect?: boolean; webrtc?: boolean }): Promise<SipJsPhone> {
  const incoming: Invitation[] = [];
  const sdhs: PlainRtpSdh[] = [];
  const sdhFactory: SessionDescriptionHandlerFactory = () => {
    const h = new PlainRtpSdh(o.webrtc ?? false);
    sdhs.push(h);
    return h;
  };
  const waiting: Array<(i: Invitation) => void> = [];
  let registerer: Registerer | undefined;
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:${o.username}@${o.domain}`)!,
    transportOptions: { server: o.server, connectionTimeout: 5, keepAliveInterval: 0 },
    authorizationUsername: o.username,
    authorizationPassword: o.password,
    sessionDescriptionHandlerFactory: sdhFactory,
    logBuiltinEnabled: false,
    logLevel: 'error',
    ...(o.reconnect ? { reconnectionAttempts: 20, reconnectionDelay: 1 } : {}),
    delegate: {
      onInvite: (inv) => {
        incoming.push(inv);
        const w = waiting.shift();
        if (w) w(inv);
      },
      // As a browser phone does: after the socket came back, register again on the new connection.
      onConnect: () => { if (o.reconnect && registerer) void registerer.register().catch(() => undefined); },
    },
  });
  await ua.start();
  registerer = new Registerer(ua, { expires: 600 });
  const phone: SipJsPhone = {
    ua, registerer, incoming, sdhs,
    nextInvitation(timeoutMs = 10_000) {
      const already = incoming.find((i) => i.state === SessionState.Initial);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${o.username}: no INVITE within ${timeoutMs} ms`)), timeoutMs);
        waiting.push((i) => { clearTimeout(timer); resolve(i); });
      });
    },
    async call(target, timeoutMs = 10_000) {
      const inviter = new Inviter(ua, UserAgent.makeURI(target)!);
      const established = settled(inviter, timeoutMs);
      await inviter.invite();
      await established;
      return inviter;
    },
    async register() {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${o.username}: not registered`)), 10_000);
        const onState = (s: RegistererState): void => {
          if (s === RegistererState.Registered) { clearTimeout(timer); registerer!.stateChange.removeListener(onState); resolve(); }
        };
        registerer!.stateChange.addListener(onState);
        registerer!.register({ requestDelegate: { onReject: (r) => { clearTimeout(timer); reject(new Error(`REGISTER refused: ${r.message.statusCode}`)); } } }).catch(reject);
      });
    },
    async stop() {
      await ua.stop().catch(() => undefined);
    },
  };
  return phone;
}

/** Resolves when `session` is established; rejects when it terminates first or after `timeoutMs`. */
export function settled(session: Session, timeoutMs = 10_000): Promise<void> {
  if (session.state === SessionState.Established) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`session not established within ${timeoutMs} ms (state ${session.state})`)), timeoutMs);
    const onState = (s: SessionState): void => {
      if (s === SessionState.Established) { clearTimeout(timer); session.stateChange.removeListener(onState); resolve(); }
      if (s === SessionState.Terminated) { clearTimeout(timer); session.stateChange.removeListener(onState); reject(new Error('session terminated before it was established')); }
    };
    session.stateChange.addListener(onState);
  });
}

/** Resolves when `session` terminates (the far end hung up, or we did). */
export function terminated(session: Session, timeoutMs = 10_000): Promise<void> {
  if (session.state === SessionState.Terminated) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`session not terminated within ${timeoutMs} ms (state ${session.state})`)), timeoutMs);
    session.stateChange.addListener((s) => { if (s === SessionState.Terminated) { clearTimeout(timer); resolve(); } });
  });
}
