// The console's softphone screen (issue 13): the /phone/ page's phone inside the console, for an administrator
// testing a device. It signs in with the device's own credentials, not the console session.
import { useLoad } from '../common.tsx';
import { Softphone, type PhoneConfig } from '../phone/softphone.tsx';

export function SoftphoneScreen() {
  const [config, error] = useLoad(async () => {
    const r = await fetch('/phone/config.json');
    if (!r.ok) throw new Error(`/phone/config.json: ${r.status}`);
    return (await r.json()) as PhoneConfig;
  });
  return (
    <>
      <p class="help">A browser phone for one device (its username and password, which stay in this page). The same phone is at <a href="/phone/">/phone/</a>.</p>
      {error && <p role="alert" class="error">{error}</p>}
      <Softphone config={config} />
    </>
  );
}
