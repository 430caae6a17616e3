/**
 * WAV files served by signed link (SPEC §3 `call_recording_link`, `voicemail.audio_file`): `GET <dir>/<id>.wav?
 * expires=…&sig=…` with no API key and no whitelist (a CRM fetches it from wherever it runs); the HMAC signature and
 * the expiry are the authorisation. Missing or wrong signature → 401, expired → 410, unknown or deleted → 404.
 * Recordings and voicemail messages share the key (`recordings.signing_secret`, or one derived from `api.api_key`)
 * and the lifetime (`recordings.link_lifetime_s`).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { checkLink, deriveLinkSecret, signLink, type LinkCheck } from '../common/index.js';
import type { PbxConfig } from '../config/index.js';
import { fail } from './errors.js';
import { sendWav } from './send-wav.js';

/** The key signed links are signed with. */
export function linkSecret(config: PbxConfig): string {
  return config.recordings.signing_secret ?? deriveLinkSecret(`api_key:${config.api.api_key}`);
}

/** The absolute signed link of `path`, valid for `recordings.link_lifetime_s` from `nowMs`. */
export function signedLink(config: PbxConfig, baseUrl: string, path: string, nowMs: number): string {
  const expiresS = Math.floor(nowMs / 1000) + config.recordings.link_lifetime_s;
  return `${baseUrl.replace(/\/+$/, '')}${path}?${signLink(linkSecret(config), path, expiresS)}`;
}

/** The answer to a signed link that did not check out: 401 without or with a wrong signature, 410 once expired. */
export function refuseLink(reply: FastifyReply, check: Exclude<LinkCheck, 'ok'>, renewWith: string): FastifyReply {
  if (check === 'missing') return reply.code(401).send(fail(401, 'Not authorised: the link has no signature (expires and sig are required)'));
  if (check === 'bad-signature') return reply.code(401).send(fail(401, 'Not authorised: the link\'s signature is wrong'));
  return reply.code(410).send(fail(410, `The link has expired: ask for a new one (${renewWith})`));
}

/** One kind of file served by signed link. */
export interface SignedWavKind {
  /** Where its files live: `/api/recordings`; a file is `<dir>/<id>.wav`. */
  dir: string;
  /** The ids' prefix (`rec`, `vm`): ids are `<prefix>_` + 16 hex digits. */
  idPrefix: string;
  tag: string;
  summary: string;
  /** The 200 answer's description (channels, rate). */
  wavDescription: string;
  /** The admin route that gives a fresh link, named in a 410. */
  renewWith: string;
  /** What the 404 calls it (`Recording`, `Voicemail message`). */
  noun: string;
  /** The file of `id`; null when there is no such id (deleted). */
  find(id: string): Promise<{ path: string } | null | undefined>;
}

/** Registers `GET <dir>/:file` at the root, auth mode `signed`. */
export function registerSignedWavRoute(app: FastifyInstance, kind: SignedWavKind, deps: { getConfig: () => PbxConfig; now: () => number }): void {
  const file = new RegExp(`^(${kind.idPrefix}_[0-9a-f]{16})\\.wav$`);
  app.get(`${kind.dir}/:file`, {
    config: { auth: 'signed' },
    schema: {
      tags: [kind.tag], security: [{ signedLink: [] }], summary: kind.summary,
      params: { type: 'object', required: ['file'], properties: { file: { type: 'string', description: `<${kind.idPrefix}_id>.wav` } } },
      querystring: {
        type: 'object',
        properties: { expires: { type: 'string', description: 'Epoch seconds the link is valid until.' }, sig: { type: 'string', description: 'HMAC-SHA256 signature (base64url).' } },
      },
      response: {
        200: { description: kind.wavDescription, content: { 'audio/wav': { schema: { type: 'string', format: 'binary' } } } },
        401: { $ref: 'ErrorEnvelope#' }, 404: { $ref: 'ErrorEnvelope#' }, 410: { $ref: 'ErrorEnvelope#' }, 429: { $ref: 'ErrorEnvelope#' },
      },
    },
  }, async (req, reply) => {
    const { expires, sig } = req.query as { expires?: string; sig?: string };
    const m = file.exec((req.params as { file: string }).file);
    if (!m) return reply.code(404).send(fail(404, 'Not found'));
    const id = m[1]!;
    const check = checkLink(linkSecret(deps.getConfig()), `${kind.dir}/${id}.wav`, expires, sig, deps.now());
    if (check !== 'ok') return refuseLink(reply, check, kind.renewWith);
    const found = await kind.find(id);
    if (!found) return reply.code(404).send(fail(404, `${kind.noun} '${id}' not found (deleted?)`));
    return sendWav(reply, found.path, `${id}.wav`, `${kind.noun} '${id}' has no file (deleted?)`);
  });
}
