/**
 * A running Switchboard for the integration e2e tests, with what they need around it: test phones registered as
 * the demo devices, SIPp helpers (a trunk UAS on the trunk port with its messages traced to a file), and polling.
 * Everything started here is closed by {@link IntegrationPbx.close}.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { PbxConfig } from '../../src/config/index.js';
import { TestPhone, type IncomingPolicy } from '../../src/sip/phone/index.js';
import { freePort, killAllSipp, runSipp, type SippResult, type SippRun } from './sipp.js';
import { startTestSwitchboard, type TestSwitchboard } from './switchboard.js';
import type { SwitchboardOptions } from '../../src/switchboard.js';
import { apiClient, type ApiClient } from './integration-http.js';
import { eventually as pollUntil } from './eventually.js';

/** Demo device passwords (SPEC.md §6). */
export const DEVICE_PASSWORDS: Record<string, string> = {
  'alice-desk': 'alice-desk-pw', 'alice-mobile': 'alice-mobile-pw', 'bob-desk': 'bob-desk-pw', 'bob-soft': 'bob-soft-pw',
};

const TIMERS = { t1: 100, t2: 400, t4: 500 };

/** A Switchboard plus the phones, SIPp runs and clients a test file started. */
export interface IntegrationPbx {
  sb: TestSwitchboard;
  api: ApiClient;
  /** The PBX's UDP SIP address. */
  sip: { transport: 'udp'; address: string; port: number };
  domain: string;
  /** A test phone for `username` (a demo device unless `password` is given), registered unless `register: false`. */
  phone(username: string, opts?: { password?: string; onIncoming?: IncomingPolicy; register?: boolean }): Promise<TestPhone>;
  /** Unregisters and closes every phone made so far, kills every SIPp. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Starts Switchboard (demo config changed by `mutate`) with a fast dispatcher poll. */
export async function startIntegrationPbx(opts: { mutate?: (c: PbxConfig) => void; env?: Record<string, string>; extra?: Partial<SwitchboardOptions> } = {}): Promise<IntegrationPbx> {
  const sb = await startTestSwitchboard({
    ...(opts.mutate ? { mutate: opts.mutate } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    extra: { sipTimers: TIMERS, dispatcher: { pollIntervalMs: 50, jitter: 0 }, ...opts.extra },
  });
  const udp = sb.sip.find((e) => e.transport === 'udp')!;
  const sip = { transport: 'udp' as const, address: udp.address, port: udp.port };
  const domain = sb.config.live().config.pbx.domain;
  const api = apiClient(sb.baseUrl);
  let phones: TestPhone[] = [];
  const reset = async (): Promise<void> => {
    killAllSipp();
    for (const p of phones) {
      if (p.events.some((e) => e.kind === 'registered')) await p.unregister().catch(() => undefined);
      await p.close().catch(() => undefined);
    }
    phones = [];
  };
  return {
    sb, api, sip, domain,
    async phone(username, o = {}) {
      const password = o.password ?? DEVICE_PASSWORDS[username];
      const p = await TestPhone.create({
        transport: 'udp', username, domain, registrar: sip, timers: TIMERS,
        ...(password !== undefined ? { password } : {}), ...(o.onIncoming ? { onIncoming: o.onIncoming } : {}),
      });
      phones.push(p);
      if (o.register !== false) {
        const r = await p.register({ expires: 600 });
        if (!r.ok) throw new Error(`${username} failed to register: ${r.status}`);
      }
      return p;
    },
    reset,
    async close() {
      await reset();
      await api.close();
      await sb.stop();
    },
  };
}

/** Asserts SIPp exited 0, with its errors in the message. */
export { sippOk } from './sipp-expect.js';

/** A SIPp run whose SIP messages are traced to a file (`messages()` reads it). */
export interface TracedSipp extends SippRun {
  messages(): string;
  /** Removes the trace directory. */
  cleanup(): void;
}

/** Starts SIPp with `-trace_msg` into a temp file, so a test can read what it received (e.g. the trunk's INVITE). */
export async function runTracedSipp(opts: Parameters<typeof runSipp>[0]): Promise<TracedSipp> {
  const dir = mkdtempSync(join(tmpdir(), 'int-sipp-'));
  const file = join(dir, 'messages.log');
  const run = await runSipp({ ...opts, extra: [...(opts.extra ?? []), '-trace_msg', '-message_file', file] });
  return {
    ...run,
    messages: () => { try { return readFileSync(file, 'utf8'); } catch { return ''; } },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** One message of a SIPp trace (`-trace_msg`). */
export interface TracedMessage {
  /** Local wall-clock time SIPp logged (ms since the epoch). */
  at: number;
  direction: 'received' | 'sent';
  /** The SIP message with LF line ends. */
  text: string;
}

/**
 * Parses a SIPp message trace: blocks headed by `----- YYYY-MM-DD HH:MM:SS.micro` and `UDP message received [n]
 * bytes :` / `UDP message sent (n bytes):`.
 */
export function parseSippTrace(trace: string): TracedMessage[] {
  const out: TracedMessage[] = [];
  const re = /^-{20,} (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.(\d+)\n(?:UDP|TCP) message (received|sent)[^\n]*\n\n/gm;
  const text = trace.replace(/\r\n/g, '\n');
  const heads = [...text.matchAll(re)];
  heads.forEach((m, i) => {
    const end = i + 1 < heads.length ? heads[i + 1]!.index : text.length;
    const local = new Date(`${m[1]}T${m[2]}.${m[3]!.slice(0, 3)}`);
    out.push({ at: local.getTime(), direction: m[4] as 'received' | 'sent', text: text.slice(m.index + m[0].length, end).trim() });
  });
  return out;
}

/** The requests with `method` in a SIPp trace, as raw text (LF line ends), received and sent. */
export function tracedRequests(trace: string, method: string): string[] {
  return parseSippTrace(trace).filter((m) => m.text.startsWith(`${method} `)).map((m) => m.text);
}

/** A free port for a SIPp trunk (to put in `trunks[0].port` before start). */
export const trunkPort = freePort;

/** `eventually` (test/support/eventually.ts) with the integration tests' longer default (a whole PBX behind the API). */
export function eventually<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 8000): Promise<NonNullable<T>> {
  return pollUntil(fn, what, timeoutMs, 20);
}
