/**
 * RFC 3261 §8.2 UAS checks (drachtio-lite's request-checks.ts) with SIPp against the engine over UDP and TCP: 405 +
 * Allow (and the same Allow/Supported in OPTIONS), 416 for tel:/mailto:, 420 + Unsupported (100rel and timer
 * accepted), 415 + Accept / Accept-Encoding, a multipart SDP + ISUP INVITE carried on as its SDP, and 482 for a merged
 * INVITE. Each scenario is under test/sipp/check-*.xml and checks the headers itself.
 */
import { describe, expect, it } from 'vitest';
import type { EngineHarness } from '../../support/engine-harness.js';
import { harnessPool } from '../../support/harness-pool.js';
import { sippOk as ok } from '../../support/sipp-expect.js';
import { killAllSipp, runSipp, type SippResult } from '../../support/sipp.js';

const DID = '61390000000';
const harnesses = harnessPool({ removeDb: true, beforeClose: killAllSipp });


async function harness(transport: 'udp' | 'tcp'): Promise<{ h: EngineHarness; target: string; t: 'u1' | 't1' }> {
  const h = await harnesses.start();
  const pbx = transport === 'udp' ? h.sip : h.sipTcp;
  return { h, target: `${pbx.address}:${pbx.port}`, t: transport === 'udp' ? 'u1' : 't1' };
}

async function scenario(transport: 'udp' | 'tcp', file: string, service: string): Promise<SippResult> {
  const { target, t } = await harness(transport);
  const run = await runSipp({ scenario: file, target, transport: t, calls: 1, extra: ['-s', service] });
  return run.done;
}

describe.concurrent.each(['udp', 'tcp'] as const)('RFC 3261 §8.2 checks over %s', (transport) => {
  it('MUST answer 405 with the Allow list of what is handled to a method no app routes (and 481 to a BYE outside a dialog), and list the same Allow and Supported in OPTIONS', async () => {
    ok(await scenario(transport, 'check-405.xml', 'switchboard'), '405');
  });

  it('MUST answer 416 to a Request-URI in a scheme other than sip or sips (tel:, mailto:)', async () => {
    ok(await scenario(transport, 'check-416.xml', DID), '416');
  });

  it('MUST answer 420 listing only the unknown option tags in Unsupported, and accept Require: 100rel, timer', async () => {
    ok(await scenario(transport, 'check-420.xml', DID), '420');
  });

  it('MUST answer 415 with Accept to a body we cannot read, and with Accept-Encoding to an encoded one', async () => {
    ok(await scenario(transport, 'check-415.xml', DID), '415');
  });

  it('MUST answer 482 to a merged INVITE (same From tag, Call-ID and CSeq, another branch) and go on with the first', async () => {
    ok(await scenario(transport, 'check-482.xml', '61399999999'), '482');
  });

  it('MUST carry a multipart/mixed INVITE (SDP + ISUP) on to the device as its SDP part alone', async () => {
    const { h, target, t } = await harness(transport);
    const reg = await runSipp({
      scenario: 'engine-register.xml', target, transport: t, calls: 1,
      extra: ['-key', 'user', 'alice-desk', '-au', 'alice-desk', '-ap', 'alice-desk-pw', '-key', 'domain', h.domain, '-auth_uri', h.domain, '-key', 'expires', '600'],
    });
    ok(await reg.done, 'register');
    const device = await runSipp({ scenario: 'check-multipart-device.xml', port: reg.port, transport: t, calls: 1 });
    const caller = await runSipp({ scenario: 'check-multipart-caller.xml', target, transport: t, calls: 1, extra: ['-s', DID] });
    ok(await caller.done, 'caller');
    ok(await device.done, 'device');
  });
});
