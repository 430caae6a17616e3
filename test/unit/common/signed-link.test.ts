import { describe, expect, it } from 'vitest';
import { checkLink, deriveLinkSecret, signLink } from '../../../src/common/signed-link.js';

const SECRET = 'a-signing-secret-of-some-length';
const PATH = '/api/recordings/rec_0123456789abcdef.wav';

function parts(q: string): { expires: string; sig: string } {
  const p = new URLSearchParams(q);
  return { expires: p.get('expires')!, sig: p.get('sig')! };
}

describe('signed links', () => {
  it('accepts its own link until it expires, then says expired', () => {
    const { expires, sig } = parts(signLink(SECRET, PATH, 2_000_000_000));
    expect(expires).toBe('2000000000');
    expect(checkLink(SECRET, PATH, expires, sig, 1_999_999_999_000)).toBe('ok');
    expect(checkLink(SECRET, PATH, expires, sig, 2_000_000_000_000)).toBe('ok');
    expect(checkLink(SECRET, PATH, expires, sig, 2_000_000_001_000)).toBe('expired');
  });

  it('refuses a missing, tampered, moved or re-dated link, and another secret', () => {
    const { expires, sig } = parts(signLink(SECRET, PATH, 2_000_000_000));
    const now = 1_900_000_000_000;
    expect(checkLink(SECRET, PATH, undefined, sig, now)).toBe('missing');
    expect(checkLink(SECRET, PATH, expires, undefined, now)).toBe('missing');
    expect(checkLink(SECRET, PATH, expires, `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`, now)).toBe('bad-signature');
    expect(checkLink(SECRET, PATH, expires, 'short', now)).toBe('bad-signature');
    expect(checkLink(SECRET, PATH.replace('0123', '9999'), expires, sig, now)).toBe('bad-signature');
    expect(checkLink(SECRET, PATH, '2000000001', sig, now)).toBe('bad-signature');
    expect(checkLink(SECRET, PATH, '1e12', sig, now)).toBe('bad-signature');
    expect(checkLink('another-secret-entirely', PATH, expires, sig, now)).toBe('bad-signature');
    // An expired link whose signature is also wrong is refused as wrong (nothing is learnt from its age).
    expect(checkLink(SECRET, PATH, '1000', sig, now)).toBe('bad-signature');
  });

  it('derives a stable secret that differs per input', () => {
    expect(deriveLinkSecret('k1')).toBe(deriveLinkSecret('k1'));
    expect(deriveLinkSecret('k1')).not.toBe(deriveLinkSecret('k2'));
    expect(deriveLinkSecret('k1').length).toBeGreaterThanOrEqual(40);
  });
});
