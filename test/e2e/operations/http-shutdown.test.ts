/**
 * A stop must end even when an HTTP client stopped reading a large response (a paused recording download): the
 * response stays in flight, and Fastify's close waits for responses in flight. Switchboard gives them
 * `httpCloseTimeoutMs`, then cuts their connections. Real sockets: the client is a raw TCP socket that sends a GET
 * for a 16 MiB console asset and never reads.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestSwitchboard } from '../../support/switchboard.js';

const SIZE = 16 * 1024 * 1024; // far more than loopback socket buffers take, so the server's write stalls
const dist = mkdtempSync(join(tmpdir(), 'sb-http-stop-'));
mkdirSync(join(dist, 'assets'));
writeFileSync(join(dist, 'index.html'), '<!doctype html><title>console</title>');
writeFileSync(join(dist, 'assets', 'big.js'), Buffer.alloc(SIZE, 0x20));
afterAll(() => rmSync(dist, { recursive: true, force: true }));

describe('HTTP shutdown', () => {
  it('cuts a download whose client stopped reading once the close grace period is over, and the stop ends', async () => {
    const sb = await startTestSwitchboard({ extra: { consoleDir: dist, httpCloseTimeoutMs: 300 } });
    const url = new URL(sb.baseUrl);
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    await new Promise<void>((r) => socket.once('connect', r));
    socket.write(`GET /console/assets/big.js HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
    // The client never reads until the stop is over (no 'data' listener: the socket stays paused).
    await new Promise((r) => setTimeout(r, 200));
    await sb.stop(); // without the cut this never resolves (the test times out)
    let received = 0;
    socket.on('data', (chunk: Buffer) => { received += chunk.length; });
    await closed;
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(SIZE); // cut, not finished
  }, 30_000);
});
