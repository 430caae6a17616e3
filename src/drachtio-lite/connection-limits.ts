/** The SIP stack's connection limits from a `sip.tcp` or `sip.ws` section, in the stack's units (ms, bytes). */
import type { SipTcpConfig } from '../config/index.js';
import type { TcpLimits } from '../sip/index.js';

export function connectionLimits(c: SipTcpConfig): TcpLimits {
  return {
    maxConnections: c.max_connections, maxConnectionsPerSource: c.max_connections_per_source,
    idleTimeoutMs: c.idle_timeout_s * 1000, writeBufferLimitBytes: c.write_buffer_limit_kib * 1024,
  };
}
