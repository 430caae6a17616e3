/**
 * With DRACHTIO_HOST set, Switchboard starts no drachtio-lite of its own: it connects drachtio-srf to that server and
 * serves SIP through it. A standalone drachtio-lite stands in for the real drachtio-server here (same wire protocol).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDrachtioLite, type DrachtioLite } from '../../../src/drachtio-lite/index.js';
import { freePort, killAllSipp, runSipp } from '../../support/sipp.js';
import { startTestSwitchboard, type TestSwitchboard } from '../../support/switchboard.js';

let server: DrachtioLite;
let sb: TestSwitchboard;
let sipPort: number;

beforeAll(async () => {
  sipPort = await freePort();
  server = await createDrachtioLite({
    sip: { listen: [{ transport: 'udp', address: '127.0.0.1', port: sipPort }] },
    control: { address: '127.0.0.1', port: 0 },
    secret: 'external-secret',
    log: pino({ level: 'silent' }),
  });
  sb = await startTestSwitchboard({
    env: { DRACHTIO_HOST: '127.0.0.1', DRACHTIO_PORT: String(server.controlPort), DRACHTIO_SECRET: 'external-secret' },
  });
});

afterAll(async () => {
  killAllSipp();
  await sb?.stop();
  await server?.close();
});

describe('DRACHTIO_HOST mode', () => {
  it('connects to the given drachtio server instead of starting drachtio-lite', () => {
    expect(sb.mode).toBe('drachtio-server');
    expect(sb.sip).toEqual([]);
  });

  it('answers OPTIONS and REGISTER through the external server', async () => {
    const o = await runSipp({ scenario: 'options.xml', target: `127.0.0.1:${sipPort}`, calls: 1, extra: ['-s', 'switchboard'] });
    expect((await o.done).code).toBe(0);
    const r = await runSipp({ scenario: 'register-digest.xml', target: `127.0.0.1:${sipPort}`, calls: 1, extra: ['-s', 'bob-desk', '-au', 'bob-desk', '-ap', 'bob-desk-pw'] });
    expect((await r.done).code).toBe(0);
    expect(await sb.store.listRegistrations('bob-desk')).toHaveLength(1);
  });

  it('refuses to start when the drachtio secret is wrong, naming the problem', async () => {
    await expect(startTestSwitchboard({
      env: { DRACHTIO_HOST: '127.0.0.1', DRACHTIO_PORT: String(server.controlPort), DRACHTIO_SECRET: 'wrong' },
    })).rejects.toThrow(/auth|secret/i);
  });
});
