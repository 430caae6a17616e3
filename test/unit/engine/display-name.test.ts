import { describe, expect, it } from 'vitest';
import { displayName } from '../../../src/engine/router/invite-router.js';

describe('displayName (From display-name, RFC 3261 §25.1)', () => {
  it('reads quoted and token display names', () => {
    expect(displayName('"Alice \\"A\\" Smith" <sip:a@x>;tag=1')).toBe('Alice "A" Smith');
    expect(displayName('  Bob Jones <sip:b@x>')).toBe('Bob Jones');
    expect(displayName('<sip:c@x>')).toBeNull();
    expect(displayName('sip:c@x')).toBeNull();
  });

  it('MUST read a name of 200 000 spaces with no closing structure in one linear pass (the old regex backtracked)', () => {
    expect(displayName(`a${' '.repeat(200_000)}"x" <sip:+61400000000@127.0.0.1>`)).toBeNull();
    expect(displayName(`a${' '.repeat(200_000)}`)).toBeNull();
    expect(displayName(`"${' '.repeat(200_000)}`)).toBeNull();
  });
});
