// The Switchboard web console: sign-in, then one screen per hash route. Live data arrives over server-sent events.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, setCsrf } from './api.js';
import { Dashboard } from './screens/dashboard.jsx';
import { Users } from './screens/users.jsx';
import { Collection } from './screens/collection.jsx';
import { Flows } from './screens/flows.jsx';
import { Webhooks, Deliveries } from './screens/webhooks.jsx';
import { ApiAccess } from './screens/api-access.jsx';
import { Changes } from './screens/changes.jsx';
import { History } from './screens/history.jsx';
import './style.css';

const SCREENS = [
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

function SignIn({ onSignedIn }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const input = e.currentTarget.elements.namedItem('admin-key');
    setBusy(true);
    try {
      // The key goes to the server once; the input is cleared and nothing here keeps it.
      const s = await api('POST', '/console/api/session', { key: input.value });
      input.value = '';
      setCsrf(s.csrf_token);
      onSignedIn(s);
    } catch (err) {
      setError(err.message);
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
  const [session, setSession] = useState(undefined);
  const [navOpen, setNavOpen] = useState(false);
  const route = useRoute();
  useEffect(() => {
    api('GET', '/console/api/session').then((s) => { setCsrf(s.csrf_token); setSession(s); }, () => setSession(null));
  }, []);
  useEffect(() => setNavOpen(false), [route]);
  if (session === undefined) return <main id="main"><p>Loading…</p></main>;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  const signOut = async () => {
    await api('DELETE', '/console/api/session').catch(() => {});
    setCsrf(null);
    setSession(null);
  };
  const screen = SCREENS.find(([id]) => id === route) ?? SCREENS[0];
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
        {screen[2]()}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app'));
