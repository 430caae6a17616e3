/**
 * SIP over WebSocket at the edge (issue 16, RFC 7118): `npm run edge` listens on `sip.ws.port` as the single process
 * does. A raw WebSocket SIP client (as sip.js writes its requests) REGISTERs through the edge with digest, the challenge
 * and the answer handed to the two engines in turn; both engines then list the binding (Redis), and a DID call from
 * SIPp handled by each engine in turn reaches the browser device over the connection the edge holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sippOk } from '../../support/integration-pbx.js';
import { eventually } from '../../support/eventually.js';
import { audioSdp } from '../../support/rtp-peer.js';
import { startCluster, type Cluster } from '../../support/scale-cluster.js';
import { freePort, killAllSipp, runSipp } from '../../support/sipp.js';
import { WsSipClient } from '../../support/ws-sip.js';

const DOMAIN = 'switchboard.local';
let cluster: Cluster;
let wsPort = 0;

beforeAll(async () => {
  wsPort = await freePort();
  cluster = await startCluster({
    name: 'edgews', engines: 2,
    config: {
      pbx: { name: 'Edge WebSocket test', domain: DOMAIN },
      sip: { ws: { port: wsPort } },
      users: [{ name: 'Alice', number: '1001', devices: [{ username: 'alice-web', password: 'alice-web-pw-987' }] }],
      numbers: [{ number: '+61390000000', flow: 'to-alice' }],
      flows: [{ id: 'to-alice', nodes: [{ id: 'ring', type: 'user', user: '1001', ring_timeout_s: 20 }] }],
      media: { driver: 'none' },
    },
  });
}, 300_000);

afterAll(async () => {
  killAllSipp();
  await cluster?.stop();
}, 120_000);

describe('the edge process listens for SIP over WebSocket', () => {
  it('lists its ws listener on the ready line', () => {
    const ready = cluster.edge.lines.find((l) => typeof l['msg'] === 'string' && (l['msg'] as string).startsWith('ready: edge'));
    expect(ready?.['msg']).toContain(`127.0.0.1:${wsPort}/ws`);
  });

  it('a WebSocket REGISTER through the edge binds the device at every engine, and calls from both engines reach it over that connection', async () => {
    const c = await WsSipClient.connect(`ws://127.0.0.1:${wsPort}`, { username: 'alice-web', domain: DOMAIN });
    try {
      const { challenge, ok } = await c.registerWithAuth('alice-web-pw-987');
      expect(challenge.status).toBe(401);
      expect(ok.status).toBe(200);
      for (const e of cluster.engines) {
        await eventually(async () => ((await cluster.api(e, 'get-system-status')).body['data'] as { registered_devices: number }).registered_devices === 1, `engine ${e.node} sees alice-web`, 15_000);
      }
      const calls = 2;
      const uac = await runSipp({ scenario: 'engine-uac-did.xml', target: cluster.sipTarget, calls, timeoutS: 60, extra: ['-s', '61390000000', '-d', '300', '-r', '1', '-l', '1'] });
      for (let i = 0; i < calls; i++) {
        const invite = await c.nextRequest('INVITE', 20_000);
        expect(invite.uri).toBe(c.contact);
        expect(invite.get('via')).toMatch(/^SIP\/2\.0\/WS /);
        c.respond(invite, 180, 'Ringing', { toTag: `ws${i}` });
        c.respond(invite, 200, 'OK', { toTag: `ws${i}`, contact: true, body: audioSdp(40000 + 2 * i) });
        await c.nextRequest('ACK');
        const bye = await c.nextRequest('BYE', 20_000);
        c.respond(bye, 200, 'OK');
      }
      sippOk(await uac.done, `${calls} DID calls to the WebSocket device`);
      const nodes = await eventually(async () => {
        const rows = await cluster.db.query<{ unique_call_id: string }>("SELECT l.unique_call_id FROM legs l WHERE l.device = 'alice-web' AND l.answered_at IS NOT NULL");
        return rows.length === calls ? rows.map((r) => r.unique_call_id.slice(-2)).sort() : null;
      }, 'both calls stored', 20_000);
      expect(nodes).toEqual(['01', '02']);
    } finally {
      await c.close();
    }
  }, 120_000);
});
