/**
 * Starts drachtio-lite and connects real drachtio-srf apps to it, for contract tests.
 */
import Srf from 'drachtio-srf';
import { pino, type Logger } from 'pino';
import { createDrachtioLite, type DrachtioLite } from '../../src/drachtio-lite/index.js';
import type { Endpoint } from '../../src/sip/index.js';
import { waitFor } from './drachtio-peer.js';

export const SECRET = 'cymru';

/** A quiet logger, or a debug one when DRACHTIO_LITE_DEBUG is set. */
export function testLogger(): Logger {
  // eslint-disable-next-line no-restricted-properties -- test-only switch for debugging output
  return pino({ level: process.env['DRACHTIO_LITE_DEBUG'] ? 'debug' : 'silent' });
}

/** Starts drachtio-lite on 127.0.0.1 (UDP + TCP, free ports, small T1). */
export async function startLite(opts: { t1?: number } = {}): Promise<DrachtioLite> {
  const t1 = opts.t1 ?? 100;
  return createDrachtioLite({
    sip: { listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }, { transport: 'tcp', address: '127.0.0.1', port: 0 }], timers: { t1, t2: 4 * t1, t4: 5 * t1 } },
    control: { address: '127.0.0.1', port: 0 },
    secret: SECRET,
    log: testLogger(),
  });
}

/** The UDP SIP endpoint of a drachtio-lite. */
export function sipUdp(lite: DrachtioLite): Endpoint {
  return lite.sipEndpoints.find((e) => e.transport === 'udp')!;
}

/** `sip:<user>@127.0.0.1:<udp port>`. */
export function liteUri(lite: DrachtioLite, user = 'app'): string {
  const e = sipUdp(lite);
  return `sip:${user}@${e.address}:${e.port}`;
}

/** Connects an srf app and resolves once authenticated (routes registered before resolve are sent on connect). */
export function connectApp(lite: DrachtioLite, setup?: (srf: Srf) => void, secret = SECRET): Promise<Srf> {
  const srf = new Srf();
  setup?.(srf);
  return new Promise((resolve, reject) => {
    srf.on('connect', (err: Error | null) => (err ? reject(err) : resolve(srf)));
    srf.on('error', (err: Error) => reject(err));
    srf.connect({ host: '127.0.0.1', port: lite.controlPort, secret, reconnect: { maxAttempts: 1 } });
  });
}

/** Disconnects an app without reconnecting. */
export function disconnectApp(srf: Srf): void {
  try {
    srf.disconnect();
  } catch {
    // already gone
  }
}

/** Resolves when `n` apps route `verb` (route commands reach the server asynchronously after `connect`). */
export async function routed(lite: DrachtioLite, verb: string, n = 1): Promise<void> {
  await waitFor(() => lite.server.routedBy(verb) >= n || undefined, `${n} app(s) routing ${verb}`);
}
