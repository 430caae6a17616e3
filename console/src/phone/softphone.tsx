// The softphone's screen (issue 13), used by the /phone/ page and by the console's Softphone screen: sign in with
// one device's credentials, dial, answer, hang up, hold, DTMF keypad, and the remote party's audio.
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Phone, type PhoneState } from './phone.ts';

/** What Switchboard says about itself at /phone/config.json. */
export interface PhoneConfig {
  domain: string;
  /** WebSocket URLs the page can use, best first (computed by {@link websocketUrls}). */
  websocket: { path: string | null; port: number | null; tls_port: number | null };
}

/** The WebSocket URLs this page can reach Switchboard on: the page's own origin first (no second certificate). */
export function websocketUrls(c: PhoneConfig['websocket'], here: Location): string[] {
  const out: string[] = [];
  const secure = here.protocol === 'https:';
  if (c.path) out.push(`${secure ? 'wss' : 'ws'}://${here.host}${c.path}`);
  if (c.tls_port) out.push(`wss://${here.hostname}:${c.tls_port}`);
  if (c.port && !secure) out.push(`ws://${here.hostname}:${c.port}`);
  return out;
}

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

declare global {
  interface Window {
    /** The page's phone, for the browser tests (they read its peer connection's statistics). */
    softphone?: Phone;
  }
}

function callText(s: PhoneState): string {
  const c = s.call;
  if (!c) return s.registration === 'registered' ? 'Ready' : '';
  switch (c.state) {
    case 'calling': return `Calling ${c.peer}…`;
    case 'ringing': return `Incoming call from ${c.peer}`;
    case 'connected': return c.held ? `On hold: ${c.peer}` : `Connected: ${c.peer}`;
    case 'ended': return `Call ended: ${c.ended ?? ''}`;
  }
}

const REGISTRATION: Record<PhoneState['registration'], string> = {
  off: 'Not signed in', connecting: 'Connecting…', registering: 'Registering…', registered: 'Registered', failed: 'Not registered',
};

export function Softphone({ config }: { config: PhoneConfig | null }): JSX.Element {
  const audio = useRef<HTMLAudioElement>(null);
  const [phone, setPhone] = useState<Phone | null>(null);
  const [state, setState] = useState<PhoneState>({ registration: 'off', error: null, call: null });
  const [actionError, setActionError] = useState<string | null>(null);
  const urls = config ? websocketUrls(config.websocket, location) : [];

  useEffect(() => {
    const p = new Phone(audio.current!);
    window.softphone = p;
    setPhone(p);
    const off = p.onChange(setState);
    return () => { off(); void p.signOut(); if (window.softphone === p) delete window.softphone; };
  }, []);

  const act = (fn: () => Promise<void>) => async () => {
    setActionError(null);
    try { await fn(); } catch (err) { setActionError((err as Error).message); }
  };

  const signIn = async (e: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    // Never submitted to the server: the password stays in this page (and goes only into the digest answer).
    e.preventDefault();
    const f = e.currentTarget.elements;
    const v = (n: string) => (f.namedItem(n) as HTMLInputElement).value.trim();
    const password = f.namedItem('phone-password') as HTMLInputElement;
    setActionError(null);
    await phone?.signIn({ server: v('phone-server'), domain: v('phone-domain'), username: v('phone-username'), password: password.value });
    password.value = '';
  };

  const dial = async (e: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    const target = (e.currentTarget.elements.namedItem('phone-target') as HTMLInputElement).value;
    await act(() => phone!.call(target))();
  };

  const signedIn = state.registration !== 'off' && state.registration !== 'failed';
  const call = state.call;
  const live = call && call.state !== 'ended';
  return (
    <div class="softphone">
      {!signedIn && (
        <form class="card" onSubmit={signIn} aria-label="Device sign-in" method="post" autocomplete="off">
          <div class="field"><label for="phone-server">WebSocket server</label>
            <input id="phone-server" name="phone-server" required list="phone-servers" defaultValue={urls[0] ?? ''} placeholder="ws://127.0.0.1:5066" />
            <datalist id="phone-servers">{urls.map((u) => <option value={u} key={u} />)}</datalist>
            {config && urls.length === 0 && <p class="help">This Switchboard has no WebSocket listener: set sip.ws.http_path or sip.ws.port.</p>}
          </div>
          <div class="field"><label for="phone-domain">SIP domain</label>
            <input id="phone-domain" name="phone-domain" required defaultValue={config?.domain ?? ''} /></div>
          <div class="field"><label for="phone-username">Device username</label>
            <input id="phone-username" name="phone-username" required autocomplete="username" /></div>
          <div class="field"><label for="phone-password">Device password</label>
            <input id="phone-password" name="phone-password" type="password" required autocomplete="current-password" /></div>
          <button type="submit">Sign in</button>
        </form>
      )}
      <p role="status" aria-label="Registration" class={state.registration === 'failed' ? 'error' : ''}>{REGISTRATION[state.registration]}{state.error ? `: ${state.error}` : ''}</p>
      {signedIn && (
        <div class="card">
          <p role="status" aria-label="Call state" class="call-state">{callText(state)}</p>
          {!live && (
            <form class="inline" onSubmit={dial} aria-label="Dial">
              <label for="phone-target">Number or extension</label>
              <input id="phone-target" name="phone-target" required inputMode="tel" autocomplete="off" disabled={state.registration !== 'registered'} />
              <button type="submit" disabled={state.registration !== 'registered'}>Call</button>
            </form>
          )}
          <div class="actions">
            {call?.state === 'ringing' && <button type="button" onClick={act(() => phone!.answer())}>Answer</button>}
            {live && <button type="button" class="danger" onClick={act(() => phone!.hangUp())}>{call.state === 'ringing' ? 'Decline' : 'Hang up'}</button>}
            {call?.state === 'connected' && <button type="button" aria-pressed={call.held} onClick={act(() => phone!.hold(!call.held))}>{call.held ? 'Resume' : 'Hold'}</button>}
          </div>
          {call?.state === 'connected' && (
            <div class="keypad" role="group" aria-label="Keypad">
              {KEYS.map((k) => <button type="button" key={k} aria-label={`Key ${k}`} onClick={act(() => phone!.dtmf(k))}>{k}</button>)}
              <p class="help">Sent: <span aria-label="Digits sent">{call.digits}</span>{call.dtmf ? ` (${call.dtmf === 'rtp' ? 'RFC 4733 in RTP' : 'SIP INFO'})` : ''}</p>
            </div>
          )}
          <div class="actions"><button type="button" onClick={act(() => phone!.signOut())}>Sign out</button></div>
        </div>
      )}
      {actionError && <p role="alert" class="error">{actionError}</p>}
      <audio ref={audio} autoplay aria-label="Remote audio" />
    </div>
  );
}
