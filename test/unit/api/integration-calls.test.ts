import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OriginateError } from '../../../src/engine/facade.js';
import { auth, makeHarness, type Harness } from './harness.js';

const URL = '/api/integration/v2/call-to-number';
let h: Harness;

beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => h.close());
beforeEach(() => {
  h.engine.originated.length = 0;
});

function multipart(fields: Record<string, string>): { payload: string; headers: Record<string, string> } {
  const boundary = '----switchboard-test-boundary';
  const payload = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('') + `--${boundary}--\r\n`;
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe('call-to-number', () => {
  it('originates from a JSON body and answers the compat data (numbers without +)', async () => {
    const r = await h.app.inject({ method: 'POST', url: URL, headers: auth, payload: { user_number: '1001', number_to_call: '+61400000000', caller_id: '+61390000009' } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      code: 200, status: 'success', message: 'Call started',
      data: { unique_call_id: '17001234567890001', user_name: 'Alice Smith', user_number: '1001', caller_id: '61390000009', dest_number: '61400000000' },
    });
    expect(h.engine.originated).toEqual([{ user_number: '1001', number_to_call: '+61400000000', caller_id: '+61390000009' }]);
  });

  it('accepts application/x-www-form-urlencoded', async () => {
    const r = await h.app.inject({
      method: 'POST', url: URL, headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'user_number=1001&number_to_call=%2B61400000000',
    });
    expect(r.statusCode).toBe(200);
    expect(h.engine.originated).toEqual([{ user_number: '1001', number_to_call: '+61400000000' }]);
  });

  it('accepts multipart/form-data', async () => {
    const m = multipart({ user_number: '1001', number_to_call: '+61400000000', caller_id: '' });
    const r = await h.app.inject({ method: 'POST', url: URL, headers: { ...auth, ...m.headers }, payload: m.payload });
    expect(r.statusCode).toBe(200);
    expect(h.engine.originated).toEqual([{ user_number: '1001', number_to_call: '+61400000000' }]);
  });

  it('ignores unknown body fields (compat)', async () => {
    const r = await h.app.inject({ method: 'POST', url: URL, headers: auth, payload: { user_number: '1001', number_to_call: '+61400000000', extra: 'x' } });
    expect(r.statusCode).toBe(200);
    expect(h.engine.originated).toEqual([{ user_number: '1001', number_to_call: '+61400000000' }]);
  });

  it.each([
    [{ number_to_call: '+61400000000' }, "Missing field 'user_number'"],
    [{ user_number: '1001' }, "Missing field 'number_to_call'"],
    [{ user_number: '1001', number_to_call: '61400000000' }, "'number_to_call': must be an E.164 number"],
    [{ user_number: '1001', number_to_call: '+6140' }, "'number_to_call'"],
    [{ user_number: '1001', number_to_call: '+6140000000000000' }, "'number_to_call'"],
    [{ user_number: '1001', number_to_call: '+0400000000' }, "'number_to_call'"],
    [{ user_number: '1001', number_to_call: '+61400000000', caller_id: 'anonymous' }, "'caller_id'"],
    [{ user_number: 'alice', number_to_call: '+61400000000' }, "'user_number'"],
  ])('answers 400 naming the parameter for %j', async (payload, message) => {
    const r = await h.app.inject({ method: 'POST', url: URL, headers: auth, payload });
    expect(r.statusCode).toBe(400);
    expect(r.json().status).toBe('error');
    expect(r.json().message).toContain(message);
    expect(h.engine.originated).toEqual([]);
  });

  it('answers 400 for a body that is not JSON, without a stack trace', async () => {
    const r = await h.app.inject({ method: 'POST', url: URL, headers: { ...auth, 'content-type': 'application/json' }, payload: '{"user_number":' });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({ code: 400, status: 'error', message: 'Invalid JSON body' });
  });

  it('answers 415 in the envelope for an unsupported content type', async () => {
    const r = await h.app.inject({ method: 'POST', url: URL, headers: { ...auth, 'content-type': 'text/xml' }, payload: '<x/>' });
    expect(r.statusCode).toBe(415);
    expect(r.json()).toMatchObject({ code: 415, status: 'error' });
  });

  it('answers 400 for a missing body', async () => {
    const r = await h.app.inject({ method: 'POST', url: URL, headers: auth });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 400, status: 'error', message: 'Invalid request body: must be object' });
  });

  it('refuses file parts and oversized bodies with 413 in the envelope', async () => {
    const b = '----x';
    const withFile = `--${b}\r\nContent-Disposition: form-data; name="user_number"\r\n\r\n1001\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--${b}--\r\n`;
    const file = await h.app.inject({ method: 'POST', url: URL, headers: { ...auth, 'content-type': `multipart/form-data; boundary=${b}` }, payload: withFile });
    expect(file.statusCode).toBe(413);
    expect(file.json()).toEqual({ code: 413, status: 'error', message: 'File uploads are not accepted here' });
    const big = await h.app.inject({ method: 'POST', url: URL, headers: auth, payload: { user_number: '1001', number_to_call: '+61400000000', x: 'a'.repeat(20_000) } });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toEqual({ code: 413, status: 'error', message: 'Request body too large' });
    expect(h.engine.originated).toEqual([]);
  });

  it('answers 404 in the envelope for an unknown user', async () => {
    const r = await h.app.inject({ method: 'POST', url: URL, headers: auth, payload: { user_number: '1999', number_to_call: '+61400000000' } });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ code: 404, status: 'error', message: 'User 1999 not found' });
  });

  it('answers 409 with a clear message for a user with no registered device', async () => {
    const r = await h.app.inject({ method: 'POST', url: URL, headers: auth, payload: { user_number: '1002', number_to_call: '+61400000000' } });
    expect(r.statusCode).toBe(409);
    expect(r.json()).toEqual({ code: 409, status: 'error', message: 'User 1002 has no registered device' });
  });

  it.each([['no_trunk'], ['engine_unavailable']] as const)('answers 503 for %s', async (code) => {
    const saved = h.engine.originateImpl;
    h.engine.originateImpl = async () => { throw new OriginateError(code, ''); };
    try {
      const r = await h.app.inject({ method: 'POST', url: URL, headers: auth, payload: { user_number: '1001', number_to_call: '+61400000000' } });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toMatchObject({ code: 503, status: 'error' });
      expect(r.json().message.length).toBeGreaterThan(0);
    } finally {
      h.engine.originateImpl = saved;
    }
  });

  it('answers 500 "Internal error" without the stack for an unexpected engine failure', async () => {
    const saved = h.engine.originateImpl;
    h.engine.originateImpl = async () => { throw new Error('boom at secret/place.ts:12'); };
    try {
      const r = await h.app.inject({ method: 'POST', url: URL, headers: auth, payload: { user_number: '1001', number_to_call: '+61400000000' } });
      expect(r.statusCode).toBe(500);
      expect(r.json()).toEqual({ code: 500, status: 'error', message: 'Internal error' });
    } finally {
      h.engine.originateImpl = saved;
    }
  });
});

describe('get-system-status', () => {
  it('reports version, uptime, registered devices, active calls and the live config version', async () => {
    const r = await h.app.inject({ url: '/api/integration/v2/get-system-status', headers: auth });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      code: 200, status: 'success', message: 'System status',
      data: { version: '0.1.0', uptime: 42, registered_devices: 3, active_calls: 1, config_version: 1 },
    });
  });

  it('answers 503 with the API\'s own version and uptime when the engine cannot answer', async () => {
    const saved = h.engine.statusImpl;
    h.engine.statusImpl = async () => { throw new Error('down'); };
    h.clock.advance(90_500);
    try {
      const r = await h.app.inject({ url: '/api/integration/v2/get-system-status', headers: auth });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toEqual({ code: 503, status: 'error', message: 'Call engine unavailable', data: { version: '0.1.0-test', uptime: 90 } });
    } finally {
      h.engine.statusImpl = saved;
    }
  });
});

describe('unknown routes', () => {
  it('answers 404 in the envelope once authenticated', async () => {
    const r = await h.app.inject({ url: '/api/integration/v2/get-everything', headers: auth });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ code: 404, status: 'error', message: 'Not found' });
  });

  it('answers 401 before revealing whether a route exists', async () => {
    const r = await h.app.inject({ url: '/api/integration/v2/get-everything' });
    expect(r.statusCode).toBe(401);
  });
});
