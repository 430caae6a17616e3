import { describe, expect, it } from 'vitest';
import { InvalidStateError } from '../../../src/common/errors.js';
import { assertDeliveryEdge, classifyResponse } from '../../../src/events/delivery-state.js';

const now = Date.parse('2026-11-28T15:00:00.000Z');

describe('classifyResponse', () => {
  it.each([200, 201, 202, 204, 299])('treats %i as success', (code) => {
    expect(classifyResponse(code, {}, now, '').kind).toBe('succeeded');
  });
  it.each([500, 502, 503, 504, 599])('retries %i', (code) => {
    expect(classifyResponse(code, {}, now, '')).toMatchObject({ kind: 'retryable', statusCode: code });
  });
  it('retries 429 and carries its Retry-After', () => {
    expect(classifyResponse(429, { 'retry-after': '3' }, now, '')).toMatchObject({ kind: 'retryable', retryAfterMs: 3000 });
  });
  it('disables on 410 Gone', () => expect(classifyResponse(410, {}, now, '').kind).toBe('gone'));
  it.each([400, 401, 403, 404, 405, 408, 413, 422, 301, 302, 304])('fails %i for good', (code) => {
    expect(classifyResponse(code, {}, now, 'nope')).toMatchObject({ kind: 'failed', statusCode: code, error: `HTTP ${code}: nope` });
  });
});

describe('delivery edges', () => {
  it('allows retry, the final statuses from pending, and redelivery back to pending', () => {
    for (const to of ['pending', 'succeeded', 'failed', 'disabled'] as const) expect(() => assertDeliveryEdge('pending', to)).not.toThrow();
    for (const from of ['succeeded', 'failed', 'disabled'] as const) expect(() => assertDeliveryEdge(from, 'pending')).not.toThrow();
  });
  it('rejects a final status changing to another final status', () => {
    expect(() => assertDeliveryEdge('succeeded', 'failed')).toThrow(InvalidStateError);
    expect(() => assertDeliveryEdge('failed', 'succeeded')).toThrow(InvalidStateError);
  });
});
