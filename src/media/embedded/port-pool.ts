/**
 * RTP ports for the embedded endpoint: an even port for RTP and the odd one above it for RTCP (RFC 3550 §11), out
 * of a configured range, one pair per leg. RTCP is not used; its socket is bound only so the port pair is ours and
 * a phone's RTCP is drained instead of bouncing ICMP errors. Pairs are handed out round-robin (a just-released
 * port is the last to be reused, so late packets of an ended call do not reach a new one); a port another process
 * holds is skipped. No pair left → MediaError SB_ERR_MEDIA_CAPACITY.
 */
import { createSocket, type Socket } from 'node:dgram';
import { MediaError } from '../errors.js';

/** A bound RTP/RTCP socket pair. */
export interface PortPair {
  readonly port: number;
  readonly rtp: Socket;
  readonly rtcp: Socket;
}

function bind(type: 'udp4' | 'udp6', port: number, address: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type, reuseAddr: false });
    s.once('error', (err) => { s.close(); reject(err); });
    // Once bound, an 'error' must still have a listener (an unheard one is an uncaught exception): the RTCP socket
    // only drains, and an RTP socket gets its session's logging listener only when the session is built.
    s.bind({ port, address, exclusive: true }, () => { s.removeAllListeners('error'); s.on('error', () => undefined); resolve(s); });
  });
}

function closeSocket(s: Socket): Promise<void> {
  return new Promise((resolve) => { try { s.close(() => resolve()); } catch { resolve(); } });
}

export class PortPool {
  readonly #address: string;
  readonly #type: 'udp4' | 'udp6';
  readonly #first: number;
  readonly #pairs: number;
  readonly #used = new Set<number>();
  #cursor = 0;

  constructor(opts: { bindAddress: string; portMin: number; portMax: number }) {
    const { portMin, portMax } = opts;
    if (!Number.isInteger(portMin) || !Number.isInteger(portMax) || portMin < 1024 || portMax > 65535 || portMin > portMax) {
      throw new TypeError(`RTP port range ${portMin}-${portMax} must be integers within 1024-65535, min <= max`);
    }
    this.#address = opts.bindAddress;
    this.#type = opts.bindAddress.includes(':') ? 'udp6' : 'udp4';
    this.#first = portMin % 2 === 0 ? portMin : portMin + 1;
    this.#pairs = Math.floor((portMax - this.#first + 1) / 2);
    if (this.#pairs < 1) throw new TypeError(`RTP port range ${portMin}-${portMax} holds no even/odd port pair`);
  }

  /** Pairs in the range. */
  get capacity(): number { return this.#pairs; }
  /** Pairs handed out now. */
  get inUse(): number { return this.#used.size; }

  /** Binds the next free pair. */
  async allocate(): Promise<PortPair> {
    for (let tried = 0; tried < this.#pairs; tried++) {
      const port = this.#first + 2 * this.#cursor;
      this.#cursor = (this.#cursor + 1) % this.#pairs;
      if (this.#used.has(port)) continue;
      this.#used.add(port);
      let rtp: Socket | undefined;
      try {
        rtp = await bind(this.#type, port, this.#address);
        const rtcp = await bind(this.#type, port + 1, this.#address);
        rtcp.on('message', () => undefined);
        return { port, rtp, rtcp };
      } catch (err) {
        if (rtp) await closeSocket(rtp);
        this.#used.delete(port);
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EADDRINUSE' && code !== 'EACCES') throw new MediaError('SB_ERR_MEDIA_BACKEND', `cannot bind RTP port ${port} on ${this.#address}: ${(err as Error).message}`, { cause: err });
      }
    }
    throw new MediaError('SB_ERR_MEDIA_CAPACITY', `no free RTP port pair in ${this.#first}-${this.#first + 2 * this.#pairs - 1} (${this.#used.size} in use)`);
  }

  /** Closes a pair's sockets and gives its port back. */
  async release(pair: PortPair): Promise<void> {
    await Promise.all([closeSocket(pair.rtp), closeSocket(pair.rtcp)]);
    this.#used.delete(pair.port);
  }
}
