/**
 * The events module (SPEC.md §3, DESIGN.md §5): the compat event catalogue, the in-process bus, and durable,
 * signed webhook delivery from the outbox with its admin functions. Other modules import from here only.
 */

export * from './event-types.js';
export { createBus, type Bus, type EventMap, type Listener } from './bus.js';
export { createDispatcher, type Dispatcher, type DispatcherDeps, type SendTestResult } from './dispatcher.js';
export type { HostLookup } from './target-guard.js';
export {
  createWebhookAdmin, MAX_LIST_LIMIT, MAX_REDELIVER,
  type WebhookAdmin, type WebhookAdminDeps, type AdminResult, type DeliveryFilter, type DeliveryPage, type EndpointView,
} from './admin.js';
export type { DeliveryStats } from './delivery-stats.js';
export { DELIVERY_EDGES, classifyResponse, type AttemptOutcome } from './delivery-state.js';
export { validateEndpoint, validateWebhookConfig, routeEvent } from './endpoint.js';
export { retryDelayMs, decideRetry, parseRetryAfterMs, DEFAULT_RETRY_SCHEDULE_S, DEFAULT_HORIZON_S, DEFAULT_JITTER } from './retry-policy.js';
export { DEFAULT_DELIVERY, deliverySettings } from './settings.js';
export { deriveSigningSecret, signingSecretFor, parseSigningSecret, sign, signatureHeaders, verifySignature, SIGNING_SECRET_PREFIX } from './signature.js';
export { sampleEvent, isEventType } from './sample-events.js';
export { EVENT_DESCRIPTIONS, FIELD_DESCRIPTIONS } from './event-docs.js';
export { createVoicemailMailer, voicemailTemplateValues, type VoicemailMailer, type VoicemailMailerDeps } from './mail/voicemail-mailer.js';
