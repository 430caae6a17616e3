/**
 * A REGISTER sent by hand over UDP, for tests that must split one digest exchange over two engines: the 401's
 * challenge from one, the authenticated retry to another.
 */
import { createSocket } from 'node:dgram';
import { computeAuthorization } from '../../src/sip/digest.js';

export interface RawResponse { status: number; text: string; header(name: string): string | undefined }

/** Sends `request` to 127.0.0.1:`port` from a fresh socket and resolves with the first final response. */
export function sendUdp(port: number, build: (local: number) => string, timeoutMs = 10_000): Promise<RawResponse> {
  const sock = createSocket('udp4');
  return new Promise<RawResponse>((resolve, reject) => {
    const t = setTimeout(() => { sock.close(); reject(new Error(`no final response from 127.0.0.1:${port}`)); }, timeoutMs);
    sock.on('message', (m) => {
      const text = m.toString('utf8');
      const status = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1]);
      if (!(status >= 200)) return;
      clearTimeout(t);
      sock.close();
      resolve({ status, text, header: (n) => new RegExp(`\\r\\n${n}:\\s*([^\\r\\n]*)`, 'i').exec(text)?.[1] });
    });
    sock.bind(0, '127.0.0.1', () => {
      const local = (sock.address()).port;
      sock.send(build(local), port, '127.0.0.1');
    });
  });
}

/** The REGISTER of `username` to `domain` (expires 600), with an Authorization line when given. */
export function registerText(o: { username: string; domain: string; local: number; callId: string; cseq: number; authorization?: string }): string {
  return [
    `REGISTER sip:${o.domain} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${o.local};branch=z9hG4bK-${o.callId}-${o.cseq};rport`,
    `From: <sip:${o.username}@${o.domain}>;tag=t-${o.callId}`,
    `To: <sip:${o.username}@${o.domain}>`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq} REGISTER`,
    `Contact: <sip:${o.username}@127.0.0.1:${o.local}>`,
    'Expires: 600',
    'Max-Forwards: 70',
    ...(o.authorization ? [`Authorization: ${o.authorization}`] : []),
    'Content-Length: 0',
    '', '',
  ].join('\r\n');
}

/** The 401 from `challengePort`, answered at `answerPort`: the answer's status. */
export async function registerAcross(challengePort: number, answerPort: number, o: { username: string; password: string; domain: string }): Promise<{ challenge: RawResponse; answer: RawResponse }> {
  const callId = `x-${Math.random().toString(36).slice(2)}`;
  const challenge = await sendUdp(challengePort, (local) => registerText({ ...o, local, callId, cseq: 1 }));
  const www = challenge.header('WWW-Authenticate');
  if (challenge.status !== 401 || !www) return { challenge, answer: challenge };
  const authorization = computeAuthorization(www, { username: o.username, password: o.password, method: 'REGISTER', uri: `sip:${o.domain}` });
  const answer = await sendUdp(answerPort, (local) => registerText({ ...o, local, callId, cseq: 2, authorization }));
  return { challenge, answer };
}
