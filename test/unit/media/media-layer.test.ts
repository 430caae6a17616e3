import { describe, expect, it } from 'vitest';
import { MediaError, MediaEventEmitter, otherRole, type MediaSessionEvents } from '../../../src/media/index.js';

describe('media layer types', () => {
  it('otherRole swaps caller and callee', () => {
    expect(otherRole('caller')).toBe('callee');
    expect(otherRole('callee')).toBe('caller');
  });

  it('MediaError carries a stable code', () => {
    const e = new MediaError('SB_ERR_MEDIA_SDP', 'no audio stream');
    expect(e).toMatchObject({ code: 'SB_ERR_MEDIA_SDP', name: 'MediaError', message: 'no audio stream' });
  });

  it('the event emitter is typed, survives a throwing listener and reports it', () => {
    const errors: string[] = [];
    const em = new MediaEventEmitter<MediaSessionEvents>((err, event) => errors.push(`${String(event)}: ${(err as Error).message}`));
    const digits: string[] = [];
    const bad = () => { throw new Error('boom'); };
    em.on('dtmf', bad).on('dtmf', (e) => digits.push(e.digit));
    expect(em.safeEmit('dtmf', { role: 'caller', digit: '5', durationMs: 100, source: 'rfc4733' })).toBe(true);
    em.off('dtmf', bad);
    em.safeEmit('dtmf', { role: 'callee', digit: '#', durationMs: 80, source: 'info' });
    expect(digits).toEqual(['5', '#']);
    expect(errors).toEqual(['dtmf: boom']);
    em.removeAllListeners();
    expect(em.safeEmit('dtmf', { role: 'caller', digit: '1', durationMs: 1, source: 'rfc4733' })).toBe(false);
  });
});
