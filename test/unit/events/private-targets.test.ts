import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { guardedLookup, refusedTarget } from '../../../src/events/target-guard.js';

/** Calls the guarded lookup the way net.connect does. */
function resolve(on: boolean, host: string, all: boolean): Promise<{ err: NodeJS.ErrnoException | null; address: unknown }> {
  return new Promise((done) => guardedLookup(() => on)(host, { all }, (err, address) => done({ err, address })));
}

describe('SSRF guard (delivery.refuse_private_targets)', () => {
  it('refuses literals and localhost before any lookup, and names that resolve to non-public addresses', async () => {
    expect(await refusedTarget('http://127.0.0.1:9000/hook')).toContain('is a loopback address');
    expect(await refusedTarget('http://[::ffff:169.254.169.254]/latest')).toContain('is a link-local address');
    expect(await refusedTarget('http://localhost:9000/')).toContain('localhost is a loopback address');
    expect(await refusedTarget(`http://${hostname()}:9000/`)).toContain(`${hostname()} resolves to`);
    expect(await refusedTarget('http://8.8.8.8/')).toBeNull();
  });

  it("the connector's own lookup refuses too (a name re-resolved at connect time), in both lookup forms, only while on", async () => {
    for (const all of [false, true]) {
      const refused = await resolve(true, hostname(), all);
      expect(refused.err?.code).toBe('ERR_PRIVATE_TARGET');
      const allowed = await resolve(false, hostname(), all);
      expect(allowed.err).toBeNull();
      expect(all ? Array.isArray(allowed.address) : typeof allowed.address).toBe(all ? true : 'string');
    }
  });
});
