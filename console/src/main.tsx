// The Switchboard web console: sign-in, then one screen per hash route. Live data arrives over server-sent events.
import { render, type JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, messageOf, setCsrf } from './api.ts';
import type { SessionInfo } from './types.ts';
import { Dashboard } from './screens/dashboard.tsx';
import { Users } from './screens/users.tsx';
import { Collection } from './screens/collection.tsx';
import { Flows } from './screens/flows.tsx';
import { Webhooks, Deliveries } from './screens/webhooks.tsx';
import { ApiAccess } from './screens/api-access.tsx';
import { Changes } from './screens/changes.tsx';
import { History } from './screens/history.tsx';
import { Voicemail } from './screens/voicemail.tsx';
import { SoftphoneScreen } from './screens/softphone.tsx';
import './style.css';

// Each screen: its route (`#/<id>` or `#/<id>/<arg>`), its title and what it draws.
const SCREENS: [string, string, (arg: string) => JSX.Element][] = [
  ['dashboard', 'Dashboard', () => <Dashboard />],
  ['users', 'Users & devices', () => <Users />],
  ['numbers', 'Numbers', () => <Collection path="numbers" keyField="number" noun="number" />],
  ['flows', 'Flows', () => <Flows />],
  ['queues', 'Queues', () => <Collection path="queues" keyField="name" noun="queue" />],
  ['ring-groups', 'Ring groups', () => <Collection path="ring-groups" keyField="name" noun="ring group" />],
  ['trunks', 'Trunks', () => <Collection path="trunks" keyField="name" noun="trunk" />],
  ['webhooks', 'Webhooks', () => <Webhooks />],
  ['deliveries', 'Delivery log', () => <Deliveries />],
  ['api', 'API access', () => <ApiAccess />],
  ['changes', 'Staged changes', () => <Changes />],
  ['history', 'Call history', () => <History />],
  ['voicemail', 'Voicemail', (arg) => <Voicemail arg={arg} key={arg} />],
  ['softphone', 'Softphone', () => <SoftphoneScreen />],
];

function useRoute() {
  const read = () => (location.hash.replace(/^#\/?/, '') || 'dashboard');
  const [route, setRoute] = useState(read());
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function SignIn({ onSignedIn }: { onSignedIn: (s: SessionInfo) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    const input = e.currentTarget.elements.namedItem('admin-key') as HTMLInputElement;
    setBusy(true);
    try {
      // The key goes to the server once; the input is cleared and nothing here keeps it.
      const s = await api<SessionInfo>('POST', '/console/api/session', { key: input.value });
      input.value = '';
      setCsrf(s.csrf_token);
      onSignedIn(s);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin" id="main">
      <h1>Switchboard console</h1>
      <form onSubmit={submit} aria-label="Sign in">
        <label for="admin-key">Admin key</label>
        <input id="admin-key" name="admin-key" type="password" autocomplete="current-password" required />
        <button type="submit" disabled={busy}>Sign in</button>
        {error && <p role="alert" class="error">{error}</p>}
      </form>
    </main>
  );
}

function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [navOpen, setNavOpen] = useState(false);
  const route = useRoute();
  useEffect(() => {
    api<SessionInfo>('GET', '/console/api/session').then((s) => { setCsrf(s.csrf_token); setSession(s); }, () => setSession(null));
  }, []);
  useEffect(() => setNavOpen(false), [route]);
  if (session === undefined) return <main id="main"><p>Loading…</p></main>;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  const signOut = async () => {
    await api('DELETE', '/console/api/session').catch(() => {});
    setCsrf(null);
    setSession(null);
  };
  const [name = '', arg = ''] = route.split('/');
  const screen = SCREENS.find(([id]) => id === name) ?? SCREENS[0]!;
  return (
    <div class="layout">
      <header class="top">
        <button type="button" class="menu" aria-expanded={navOpen} aria-controls="nav" onClick={() => setNavOpen(!navOpen)}>Menu</button>
        <span class="brand">Switchboard</span>
        <span class="who">Signed in: {session.name}</span>
        <button type="button" onClick={signOut}>Sign out</button>
      </header>
      <nav id="nav" aria-label="Screens" class={navOpen ? 'open' : ''}>
        <ul>
          {SCREENS.map(([id, label]) => (
            <li key={id}><a href={`#/${id}`} aria-current={id === screen[0] ? 'page' : undefined}>{label}</a></li>
          ))}
        </ul>
      </nav>
      <main id="main">
        <h1>{screen[1]}</h1>
        {screen[2](decodeURIComponent(arg))}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
