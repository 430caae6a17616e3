/**
 * What the API is built from. The API sees the engine only through its facade and the store through its
 * interface; it never sees srf objects, SIP messages or media (STYLE.md §3).
 */
import type { Clock } from '../common/index.js';
import type { Logger } from '../common/index.js';
import type { PbxConfig } from '../config/index.js';
import type { EngineFacade, EngineLive } from '../engine/index.js';
import type { WebhookAdmin } from '../events/index.js';
import type { Store } from '../store/index.js';
import type { AdminKeys } from './admin-keys.js';
import type { OpsDeps } from './ops/index.js';

/** Everything {@link buildApp} needs. */
export interface ApiDeps {
  engine: EngineFacade;
  /** The engine's live views and event stream (the web console's dashboard); without it the console's live routes answer 501. */
  live?: EngineLive;
  /** Where the built console is (default console/dist). */
  consoleDir?: string;
  store: Store;
  /** The live configuration, read per request so an apply takes effect at once (key, whitelist, time zone). */
  getConfig: () => PbxConfig;
  /** The events module's delivery-log functions; without them the webhook admin routes answer 501. */
  webhooksAdmin?: WebhookAdmin;
  log: Logger;
  /** Drives the rate limiter and the fallback uptime; default the system clock. */
  clock?: Clock;
  /** The admin keys; default: built over `store` (pass one to share it with the console). */
  adminKeys?: AdminKeys;
  /** Switchboard version (OpenAPI `info.version`). */
  version: string;
  /** Process start, epoch ms: the uptime reported (with `version`) in the 503 when the engine cannot answer. */
  startedAt: number;
  /** Root of voicemail files (messages, uploaded greetings); without it the mailbox routes are absent. */
  voicemailDir?: string;
  /** The signed link to a voicemail message's audio (as in the `voicemail` event). */
  voicemailLink?: (messageId: string) => string;
  /** The API's base URL as clients reach it (signed recording links); default http://127.0.0.1. */
  baseUrl?: () => string;
  /** Health, readiness and metrics for orchestrators (/health, /ready, /metrics); without it those paths are 404. */
  ops?: OpsDeps;
  /** Where SIP over WebSocket listens (the softphone page connects there); without it the page is told there is none. */
  phone?: PhoneListeners;
}

/** Where SIP over WebSocket listens, as known at start (a port of 0 in the configuration is the bound port here). */
export interface PhoneListeners {
  /** `sip.ws.http_path` on the API's own server (same origin as the page), or null. */
  path: string | null;
  /** ws:// port, or null. */
  port: number | null;
  /** wss:// port, or null. */
  tls_port: number | null;
}
