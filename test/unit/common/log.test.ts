import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/common/log.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'debug', destination }) };
}

describe('createLogger', () => {
  it('MUST write JSON lines at the configured level', () => {
    const { lines, log } = capture();
    log.debug({ legId: 'leg_1' }, 'hello');
    expect(lines[0]).toMatchObject({ level: 20, legId: 'leg_1', msg: 'hello' });
  });

  it('MUST redact Authorization, tokens, X-Pbx-Token, passwords and API keys, also nested', () => {
    const { lines, log } = capture();
    log.info({
      authorization: 'Digest response="x"',
      password: 'pw',
      api_key: 'k',
      headers: { authorization: 'Bearer t', 'x-pbx-token': 'tok', 'X-Pbx-Token': 'tok2', host: 'h' },
      device: { sip: { password: 'deep' } },
      req: { body: { token: 't2' } },
    }, 'secrets');
    const line = JSON.stringify(lines[0]);
    for (const secret of ['Digest response', '"pw"', '"k"', 'Bearer t', '"tok"', '"tok2"', '"deep"', '"t2"']) expect(line).not.toContain(secret);
    expect(lines[0]).toMatchObject({ headers: { host: 'h', authorization: '[redacted]' } });
  });

  it('MUST build child loggers that carry their bindings', () => {
    const { lines, log } = capture();
    log.child({ unique_call_id: 'c1' }).warn('degraded');
    expect(lines[0]).toMatchObject({ unique_call_id: 'c1', level: 40 });
  });
});
