/**
 * `npm run edge`: drachtio-lite as its own process — the SIP edge of a scale-out deployment (DESIGN.md §7), in
 * place of a drachtio-server. It listens for SIP on SWITCHBOARD_BIND:SWITCHBOARD_SIP_PORT (UDP and TCP), for SIP over
 * WebSocket as the single process does (`sip.ws.port` ws://, `sip.ws.tls_port` wss://; it has no HTTP server, so
 * `sip.ws.http_path` is not served here) and for engines (`npm run engine`, drachtio-srf) on
 * SWITCHBOARD_BIND:DRACHTIO_PORT with DRACHTIO_SECRET; a new request goes to the engines routing its verb in turn
 * (round-robin per verb), in-dialog requests to the engine owning the dialog. It reads only the `sip` section of the
 * configuration file (TCP and WebSocket listeners and limits, the INVITE reaper), at start. SIGTERM/SIGINT close it.
 */
import { createLogger } from './common/index.js';
import { installProcessGuard } from './common/index.js';
import { ConfigError, loadConfigFile, loadSettings } from './config/index.js';
import { connectionLimits, createDrachtioLite, wsListeners } from './drachtio-lite/index.js';

async function main(): Promise<void> {
  let settings;
  let config;
  try {
    settings = loadSettings(process.env);
    config = loadConfigFile(settings.configPath, settings);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`switchboard edge: configuration error\n${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger({ level: settings.logLevel, name: 'switchboard-edge' });
  const control = settings.edgeControl!;
  if (control.secret === 'cymru') log.warn('the default drachtio secret is in use: set DRACHTIO_SECRET for the edge and every engine');
  const { tcp, ws } = config.sip;
  if (ws.http_path !== null) log.warn({ http_path: ws.http_path }, 'sip.ws.http_path is not served by the edge (it has no HTTP server): browsers connect to sip.ws.port or sip.ws.tls_port');
  const lite = await createDrachtioLite({
    sip: {
      listen: [
        { transport: 'udp', address: settings.bind, port: settings.sipPort },
        { transport: 'tcp', address: settings.bind, port: settings.sipPort },
        ...wsListeners(ws, settings.bind, settings.configPath),
      ],
      timers: { inviteReaperMs: config.sip.invite_reaper_s * 1000 },
      tcp: () => connectionLimits(tcp),
      ws: () => connectionLimits(ws),
    },
    control: { address: settings.bind, port: control.port },
    secret: control.secret,
    log,
  });
  installProcessGuard({ log, shutdown: () => lite.close() });
  const sip = lite.sipEndpoints.map((e) => `${e.address}:${e.port}/${e.transport}`).join(', ');
  log.info({ sip: lite.sipEndpoints, control: { address: lite.controlAddress, port: lite.controlPort } }, `ready: edge SIP ${sip}, engines connect to ${lite.controlAddress}:${lite.controlPort}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'edge shutting down');
    lite.close().then(() => process.exit(0), (err: unknown) => { log.error({ err }, 'edge shutdown failed'); process.exit(1); });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`switchboard edge: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
