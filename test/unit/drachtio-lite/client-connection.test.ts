/**
 * ClientConnection's framing over a real TCP socket on 127.0.0.1: the frames a turn queues go out as one write, each
 * `<byte length>#<leader><SIP bytes>`, with the SIP bytes exactly as given (multi-byte UTF-8 included).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ClientConnection } from '../../../src/drachtio-lite/client-connection.js';
import { FrameDecoder } from '../../../src/drachtio-lite/wire/frame.js';

let server: Server | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A connection on the server side of a real socket, and the app side's socket. */
async function pair(): Promise<{ conn: ClientConnection; app: Socket }> {
  let conn: ClientConnection | undefined;
  server = createServer((s) => {
    sockets.push(s);
    conn = new ClientConnection(s, pino({ level: 'silent' }), { onCommand: () => undefined, onClose: () => undefined });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const app = connect(port, '127.0.0.1');
  sockets.push(app);
  await new Promise<void>((r) => app.once('connect', () => r()));
  while (!conn) await new Promise((r) => setImmediate(r));
  return { conn, app };
}

/** Reads from `app` until `n` frames are decoded; also counts the reads. */
async function readFrames(app: Socket, n: number): Promise<{ frames: string[]; chunks: number }> {
  const decoder = new FrameDecoder();
  const frames: string[] = [];
  let chunks = 0;
  return new Promise((resolve, reject) => {
    app.on('data', (chunk: Buffer) => {
      chunks++;
      const r = decoder.push(chunk);
      if (!r.ok) return reject(new Error(r.error.message));
      frames.push(...r.frames);
      if (frames.length >= n) resolve({ frames, chunks });
    });
  });
}

describe('ClientConnection framing', () => {
  it('writes leader + SIP bytes as one frame whose length counts bytes, not characters', async () => {
    const { conn, app } = await pair();
    const sip = Buffer.from('INVITE sip:1001@example.com SIP/2.0\r\nFrom: "Zoë Ångström ☎" <sip:z@example.com>;tag=1\r\nContent-Length: 0\r\n\r\n', 'utf8');
    const got = readFrames(app, 3);
    conn.send('m1|sip|network|…|txn|dlg|\r\n', sip);
    conn.send('m2|response|c1|OK');
    conn.send('m3|sip|network|x|\r\n', Buffer.alloc(0));
    const { frames, chunks } = await got;
    expect(frames).toEqual([`m1|sip|network|…|txn|dlg|\r\n${sip.toString('utf8')}`, 'm2|response|c1|OK', 'm3|sip|network|x|\r\n']);
    expect(chunks).toBe(1);
  });

  it('sends nothing once the socket is closed', async () => {
    const { conn, app } = await pair();
    conn.destroy();
    await new Promise((r) => app.once('close', r));
    expect(() => conn.send('m1|response|c1|OK', Buffer.from('x'))).not.toThrow();
  });
});
