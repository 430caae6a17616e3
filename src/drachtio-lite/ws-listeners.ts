/**
 * The WebSocket listeners of a `sip.ws` section (RFC 7118): ws:// on its port, wss:// with the certificate and key
 * read now. Shared by the single process and the edge (`npm run edge`), so both take the same keys. An unreadable
 * or unusable file is a configuration error naming the key.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { ConfigError, type SipWsConfig } from '../config/index.js';
import type { ListenSpec } from '../sip/index.js';

/** `configPath` names the file in errors; `bind` is the SIP bind address. */
export function wsListeners(ws: SipWsConfig, bind: string, configPath: string): ListenSpec[] {
  const out: ListenSpec[] = [];
  if (ws.port !== null) out.push({ transport: 'ws', address: bind, port: ws.port });
  if (ws.tls_port !== null) {
    const read = (key: 'tls_cert' | 'tls_key'): Buffer => {
      const file = ws[key];
      try {
        if (!file) throw new Error('not set');
        return readFileSync(resolve(file));
      } catch (err) {
        throw new ConfigError([{ file: configPath, path: `sip.ws.${key}`, message: `cannot read ${file ?? '(unset)'}: ${(err as Error).message} (wss:// needs it)` }]);
      }
    };
    const tlsFiles = { cert: read('tls_cert'), key: read('tls_key') };
    try {
      createSecureContext(tlsFiles);
    } catch (err) {
      // A key that is not PEM, or not the certificate's: OpenSSL says which; the key is the usual culprit.
      const bad = /cert/i.test((err as Error).message) && !/key/i.test((err as Error).message) ? 'tls_cert' : 'tls_key';
      throw new ConfigError([{ file: configPath, path: `sip.ws.${bad}`, message: `${ws[bad]} is not usable with sip.ws.${bad === 'tls_key' ? 'tls_cert' : 'tls_key'}: ${(err as Error).message}` }]);
    }
    out.push({ transport: 'wss', address: bind, port: ws.tls_port, tls: tlsFiles });
  }
  return out;
}
