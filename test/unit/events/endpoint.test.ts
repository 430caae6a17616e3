import { describe, expect, it } from 'vitest';
import { routeEvent, targetFor, validateEndpoint, validateWebhookConfig } from '../../../src/events/endpoint.js';
import { deriveSigningSecret } from '../../../src/events/signature.js';
import { callEvent, testConfig } from './fixtures.js';

describe('endpoint validation', () => {
  it('accepts http and https URLs with a token', () => {
    expect(validateEndpoint('http://127.0.0.1:9000/webhook', 't')).toEqual({ ok: true });
    expect(validateEndpoint('https://crm.example.com/hooks?x=1', 't')).toEqual({ ok: true });
  });
  it('refuses other schemes, relative URLs, credentials in the URL and an empty token, naming the problem', () => {
    expect(validateEndpoint('ftp://example.com/', 't')).toMatchObject({ ok: false, error: expect.stringContaining('http or https') });
    expect(validateEndpoint('/webhook', 't')).toMatchObject({ ok: false, error: expect.stringContaining('absolute') });
    expect(validateEndpoint('https://u:p@example.com/', 't')).toMatchObject({ ok: false, error: expect.stringContaining('credentials') });
    expect(validateEndpoint('https://example.com/', ' ')).toMatchObject({ ok: false, error: expect.stringContaining('secret_token') });
  });
  it('lets a disabled global webhook have no URL but not an enabled one', () => {
    expect(validateWebhookConfig(testConfig({ webhook: { enabled: false, url: '' } }).webhook)).toEqual({ ok: true });
    expect(validateWebhookConfig(testConfig({ webhook: { enabled: true, url: '' } }).webhook).ok).toBe(false);
    expect(validateWebhookConfig(testConfig({ webhook: { signing_secret: 'nope' } }).webhook)).toMatchObject({ ok: false, errors: [expect.stringContaining('webhook.signing_secret')] });
  });
});

describe('routeEvent', () => {
  it('sends a ticked type to the enabled global webhook', () => {
    expect(routeEvent(callEvent('1', 1), testConfig())).toEqual({ url: 'http://127.0.0.1:9/hook' });
  });
  it('keeps an unticked type, or any type while the webhook is disabled, without a delivery', () => {
    expect(routeEvent(callEvent('1', 1), testConfig({ webhook: { events: ['voicemail'] } }))).toEqual({ skip: 'type-not-ticked' });
    expect(routeEvent(callEvent('1', 1), testConfig({ webhook: { enabled: false } }))).toEqual({ skip: 'webhook-disabled' });
    expect(routeEvent(callEvent('1', 1), testConfig({ webhook: { url: '' } }))).toEqual({ skip: 'webhook-no-url' });
  });
  it('sends a component event to its own URL whatever the global settings', () => {
    const ev = callEvent('1', 1, { type: 'webhook_component_event', endpoint: { kind: 'component', url: 'http://127.0.0.1:8/c', secret_token: 'ct', headers: { 'X-A': '1' } } });
    expect(routeEvent(ev, testConfig({ webhook: { enabled: false } }))).toEqual({ url: 'http://127.0.0.1:8/c' });
    expect(targetFor(ev, 'http://127.0.0.1:8/c', testConfig())).toEqual({ url: 'http://127.0.0.1:8/c', secretToken: 'ct', signingSecret: deriveSigningSecret('ct'), headers: { 'X-A': '1' } });
  });
});
