/**
 * The REST surface: integration API v2 (compat), admin API (ours) and the OpenAPI document. Nothing imports
 * `api` except main.ts, which builds the app with {@link buildApp} and listens.
 */
export { buildApp, type AuthMode } from './app.js';
export type { ApiDeps } from './deps.js';
export { bearerToken, createAdminKeys, type AdminIdentity, type AdminKeys, type AdminKeyView } from './admin-keys.js';
export { ApiError, type Envelope } from './errors.js';
export { OPENAPI_PATH, DOCS_PREFIX } from './openapi.js';
export { createOpsMetrics, type OpsMetrics, type OpsDeps, type Readiness } from './ops/index.js';
export { recordingLink } from './recordings.js';
export { voicemailLink } from './voicemail-links.js';
