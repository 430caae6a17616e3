import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  deriveSigningSecret, parseSigningSecret, sign, signatureHeaders, signingSecretFor, verifySignature,
} from '../../../src/events/signature.js';

// The Standard Webhooks reference vector (standard-webhooks/standard-webhooks libraries' tests).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signature', () => {
  it('matches the reference vector', () => {
    const parsed = parseSigningSecret(VECTOR.secret);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(sign(parsed.key, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });

  it('builds webhook-id, webhook-timestamp and webhook-signature headers', () => {
    const parsed = parseSigningSecret(VECTOR.secret);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(signatureHeaders(parsed.key, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toEqual({
      'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature,
    });
  });

  it('signs UTF-8 bodies byte for byte', () => {
    const parsed = parseSigningSecret(VECTOR.secret);
    if (!parsed.ok) throw new Error(parsed.error);
    const body = '{"caller_name":"Zoë Ünicode ☎"}';
    const expected = createHmac('sha256', parsed.key).update(Buffer.from(`x.1.${body}`, 'utf8')).digest('base64');
    expect(sign(parsed.key, 'x', 1, body)).toBe(`v1,${expected}`);
  });

  it('verifies a good signature among several and rejects a tampered body or stale timestamp', () => {
    const ok = verifySignature({ ...VECTOR, timestamp: String(VECTOR.timestamp), signature: `v1,bogus ${VECTOR.signature}`, nowS: VECTOR.timestamp + 10 });
    expect(ok).toEqual({ ok: true });
    expect(verifySignature({ ...VECTOR, timestamp: String(VECTOR.timestamp), body: '{"test": 1}', nowS: VECTOR.timestamp }).ok).toBe(false);
    expect(verifySignature({ ...VECTOR, timestamp: String(VECTOR.timestamp), nowS: VECTOR.timestamp + 301 }).ok).toBe(false);
  });

  it('refuses malformed signing secrets with a clear error', () => {
    expect(parseSigningSecret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toMatchObject({ ok: false, error: expect.stringContaining('whsec_') });
    expect(parseSigningSecret('whsec_!!!')).toMatchObject({ ok: false });
    expect(parseSigningSecret('whsec_AAAA')).toMatchObject({ ok: false, error: expect.stringContaining('16') });
  });
});

describe('derived signing secret', () => {
  it('is stable for a token, differs between tokens, and follows the documented formula', () => {
    const a = deriveSigningSecret('demo-token');
    expect(deriveSigningSecret('demo-token')).toBe(a);
    expect(deriveSigningSecret('other-token')).not.toBe(a);
    const documented = 'whsec_' + createHmac('sha256', 'switchboard/webhook-signing/v1').update('demo-token').digest('base64');
    expect(a).toBe(documented);
    expect(parseSigningSecret(a).ok).toBe(true);
  });

  it('is used only when no signing secret is configured', () => {
    expect(signingSecretFor({ secret_token: 't', signing_secret: VECTOR.secret })).toBe(VECTOR.secret);
    expect(signingSecretFor({ secret_token: 't', signing_secret: null })).toBe(deriveSigningSecret('t'));
  });

  it('refuses an empty token', () => expect(() => deriveSigningSecret('')).toThrow(TypeError));
});
