// The standalone softphone page at /phone/ (issue 13): no console sign-in, only a device's own credentials.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Softphone, type PhoneConfig } from './softphone.tsx';
import '../style.css';

function Page() {
  const [config, setConfig] = useState<PhoneConfig | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    fetch('/phone/config.json').then(async (r) => {
      if (!r.ok) throw new Error(`/phone/config.json: ${r.status}`);
      setConfig(await r.json() as PhoneConfig);
    }).catch((err: unknown) => setError((err as Error).message));
  }, []);
  return (
    <main id="main" class="phone-page">
      <h1>Switchboard softphone</h1>
      {error && <p role="alert" class="error">{error}</p>}
      <Softphone config={config} />
    </main>
  );
}

render(<Page />, document.getElementById('app')!);
