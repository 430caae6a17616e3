/**
 * A PostgreSQL connection that dies at the worst moment must fail the statement, not the process. The server here is
 * a stand-in on a real TCP socket (an outside service, STYLE.md §8) that completes the startup and sends the FATAL
 * `57P01` of `pg_terminate_backend` in the same segment: node-postgres then emits 'error' on the new client inside
 * the read that completes its checkout, before the transaction that asked for it has resumed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresConnection } from '../../../src/store/postgres/postgres-connection.js';
import { isTransientStoreError } from '../../../src/store/index.js';

/** One backend message: type byte, int32 length (itself included), body. */
function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const AUTH_OK = message('R', Buffer.from([0, 0, 0, 0]));
const READY_IDLE = message('Z', Buffer.from('I', 'latin1'));
const FATAL_TERMINATED = message('E', Buffer.from('SFATAL\0VFATAL\0C57P01\0Mterminating connection due to administrator command\0\0', 'latin1'));

let server: Server | undefined;
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A server that answers the startup message with "ready" and, in the same write, the FATAL; then hangs up. */
async function dyingServer(): Promise<number> {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', () => {
      socket.write(Buffer.concat([AUTH_OK, READY_IDLE, FATAL_TERMINATED]));
      socket.end();
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

describe('PostgreSQL connection errors (issue 11)', () => {
  it('a connection terminated in the read that hands it out fails the transaction, and nothing is uncaught', async () => {
    const port = await dyingServer();
    const conn = new PostgresConnection({ connectionString: `postgres://sb@127.0.0.1:${port}/sb`, schema: undefined, maxConnections: 1, log: undefined });
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => { uncaught.push(err); };
    process.on('uncaughtException', onUncaught);
    try {
      const err = await conn.tx('test', async (c) => c.query('SELECT 1')).then(() => undefined, (e: unknown) => e);
      expect(err).toBeDefined();
      expect(isTransientStoreError(err)).toBe(true);
      // The socket's close and any later events have run.
      await new Promise((r) => setTimeout(r, 50));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await conn.end();
    }
  });
});
