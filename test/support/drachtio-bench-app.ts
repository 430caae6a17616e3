/**
 * A tiny drachtio-srf answering app on drachtio-lite, for manual load runs with SIPp (`sipp -sn uac`):
 * `npx tsx test/support/drachtio-bench-app.ts` prints the SIP port, answers every INVITE with createUAS.
 */
import Srf from 'drachtio-srf';
import { pino } from 'pino';
import { createDrachtioLite } from '../../src/drachtio-lite/index.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=sendrecv\r\n';

async function main(): Promise<void> {
  const lite = await createDrachtioLite({
    sip: { listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }] },
    control: { address: '127.0.0.1', port: 0 },
    secret: 'bench',
    log: pino({ level: 'warn' }),
  });
  const srf = new Srf();
  let answered = 0;
  srf.invite((req, res) => {
    srf.createUAS(req, res, { localSdp: SDP }).then(() => { answered++; }, () => undefined);
  });
  srf.connect({ host: '127.0.0.1', port: lite.controlPort, secret: 'bench' });
  await new Promise<void>((resolve) => srf.on('connect', () => resolve()));
  const sip = lite.sipEndpoints[0]!;
  process.stdout.write(`SIP ${sip.address}:${sip.port}\n`);
  setInterval(() => process.stdout.write(`answered ${answered} ${JSON.stringify(lite.server.stats)}\n`), 2000).unref();
  const stop = async (): Promise<void> => {
    process.stdout.write(`answered ${answered} dialogs-left ${lite.server.stats.dialogs}\n`);
    srf.disconnect();
    await lite.close();
    process.exit(0);
  };
  process.on('SIGUSR2', () => { process.stdout.write(`${JSON.stringify(lite.server.describeDialogs(5))}\n`); });
  process.on('SIGTERM', () => { void stop(); });
  process.on('SIGINT', () => { void stop(); });
}

void main();
