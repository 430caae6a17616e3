import { describe, expect, it } from 'vitest';
import { LOG_SECRET_KEYS, REDACT_PATHS } from '../../../src/common/log.js';
import { keepSecrets, redactSecrets, SECRET_FIELDS } from '../../../src/api/admin/secrets.js';

describe('write-only secrets', () => {
  it('takes the secret fields from the configuration schema, and the logger redacts every one', () => {
    expect([...SECRET_FIELDS].sort()).toEqual(['admin_key', 'api_key', 'headers', 'nonce_secret', 'password', 'secret_token', 'signing_secret']);
    for (const k of SECRET_FIELDS) if (k !== 'headers') expect(LOG_SECRET_KEYS).toContain(k);
    // A webhook object's headers: redacted where they travel (not every HTTP/SIP `headers` in a log line).
    for (const p of ['endpoint.headers', '*.endpoint.headers', 'target.headers', '*.nodes[*].headers']) expect(REDACT_PATHS).toContain(p);
  });

  it('replaces each secret by <field>_set at any depth, and masks a diff entry on a secret', () => {
    expect(redactSecrets({ data: [{ username: 'a', password: 'pw' }, { username: 'b', password: '' }], api: { api_key: 'k', admin_key: null } }))
      .toEqual({ data: [{ username: 'a', password_set: true }, { username: 'b', password_set: false }], api: { api_key_set: true, admin_key_set: false } });
    expect(redactSecrets({ path: '/webhook/secret_token', op: 'changed', live: 'old', staged: 'new' }))
      .toEqual({ path: '/webhook/secret_token', op: 'changed', live: '********', staged: '********' });
  });

  it('shows a secret map (a webhook object\'s headers) by its names only, and masks diff entries inside it', () => {
    expect(redactSecrets({ type: 'webhook', headers: { 'X-Crm-Key': 'v' }, secret_token: 't' }))
      .toEqual({ type: 'webhook', headers_set: true, header_names: ['X-Crm-Key'], secret_token_set: true });
    expect(redactSecrets({ path: '/flows/1/nodes/0/headers/X-Crm-Key', op: 'added', live: null, staged: 'v' }))
      .toEqual({ path: '/flows/1/nodes/0/headers/X-Crm-Key', op: 'added', live: null, staged: '********' });
  });

  it('keeps secrets a replacing write leaves out, matching list items by key', () => {
    const prev = { name: 'u', devices: [{ username: 'a', password: 'pa' }, { username: 'b', password: 'pb' }] };
    expect(keepSecrets(prev, { name: 'u', devices: [{ username: 'b' }, { username: 'c', password: 'pc' }] }))
      .toEqual({ name: 'u', devices: [{ username: 'b', password: 'pb' }, { username: 'c', password: 'pc' }] });
    expect(keepSecrets({ password: 'old' }, { password: 'new' })).toEqual({ password: 'new' });
  });
});
