/**
 * The admin API (ours), mounted at `/api/admin`: configuration CRUD on the staged version, apply, and the
 * webhook delivery log, admin keys and the audit log. Secrets never leave it (secrets.ts); changes are audited.
 */
import type { FastifyInstance } from 'fastify';
import { systemClock } from '../../common/index.js';
import type { ApiDeps } from '../deps.js';
import { registerAccessControl, registerAdminHooks } from './access-control.js';
import { COLLECTIONS, registerCollection } from './collections.js';
import { sharedConfigSchemas } from './config-schema.js';
import { registerConfigRoutes } from './config-routes.js';
import { registerDevices } from './devices.js';
import { registerSettings } from './settings.js';
import { createStaging } from './staging.js';
import { registerWebhookRoutes } from './webhooks.js';
import { registerVoicemailRoutes } from './voicemail.js';
import { recordingDeps, registerAdminRecordingRoutes } from '../recordings.js';

/** The admin API plugin. */
export async function adminApi(app: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  const { deps } = opts;
  // Admin responses are small and not hot: plain JSON.stringify instead of one fast-json-stringify build per
  // route and status (those builds re-validate every shared schema and cost seconds at startup). The response
  // schemas still document the routes in the OpenAPI document.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  for (const schema of sharedConfigSchemas()) app.addSchema(schema);
  registerAdminHooks(app, { store: deps.store, clock: deps.clock ?? systemClock, log: deps.log });
  const staging = createStaging(deps.engine.config);
  for (const spec of COLLECTIONS) registerCollection(app, staging, spec);
  registerDevices(app, staging);
  registerSettings(app, staging);
  registerConfigRoutes(app, deps.engine, staging);
  registerWebhookRoutes(app, deps.webhooksAdmin);
  registerAccessControl(app, deps.store);
  const clock = deps.clock ?? systemClock;
  if (deps.voicemailDir) {
    registerVoicemailRoutes(app, {
      store: deps.store, getConfig: deps.getConfig, voicemailDir: deps.voicemailDir, now: () => clock.now(),
      ...(deps.voicemailLink ? { messageLink: deps.voicemailLink } : {}),
    });
  }
  registerAdminRecordingRoutes(app, recordingDeps(deps));
}
