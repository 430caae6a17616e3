import { describe, expect, it } from 'vitest';
import { diffConfig, maskSecrets, MASKED_KEY } from '../../../src/api/admin/diff.js';
import { testConfig } from './harness.js';

describe('diffConfig', () => {
  it('is empty for equal configurations', () => {
    expect(diffConfig(testConfig(), testConfig())).toEqual([]);
  });

  it('matches list items by key, so an insert shows as one addition', () => {
    const live = testConfig();
    const staged = testConfig((c) => {
      c.users.unshift({ name: 'Zed', number: '1000' });
      c.users[2].ring_timeout_s = 45;
    });
    expect(diffConfig(live, staged)).toEqual([
      { path: '/users/1002/ring_timeout_s', op: 'changed', live: 30, staged: 45 },
      { path: '/users/1000', op: 'added', staged: staged.users[0] },
    ]);
  });

  it('reports removals and nested changes with escaped keys', () => {
    const live = testConfig((c) => {
      c.trunks.push({ name: 'a/b', host: '192.0.2.1' });
    });
    const staged = testConfig((c) => {
      c.pbx.time_zone = 'UTC';
    });
    expect(diffConfig(live, staged)).toEqual([
      { path: '/pbx/time_zone', op: 'changed', live: 'Australia/Melbourne', staged: 'UTC' },
      { path: '/trunks/a~1b', op: 'removed', live: live.trunks[1] },
    ]);
  });

  it('never shows the API key, only that it changed', () => {
    const staged = testConfig((c) => {
      c.api.api_key = 'new-secret';
    });
    const changes = diffConfig(testConfig(), staged);
    expect(changes).toEqual([{ path: '/api/api_key', op: 'changed', live: MASKED_KEY, staged: MASKED_KEY }]);
    expect(maskSecrets(staged).api.api_key).toBe(MASKED_KEY);
    expect(staged.api.api_key).toBe('new-secret');
  });
});
