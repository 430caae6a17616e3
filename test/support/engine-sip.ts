/**
 * Raw SIP for engine e2e tests where a test phone is too polite: REGISTERs with several contacts, `*`,
 * odd Expires, wrong passwords, and unauthenticated INVITEs.
 */
import { randomBytes } from 'node:crypto';
import { computeAuthorization, SipRequest, SipStack, type Endpoint, type SipResponse } from '../../src/sip/index.js';
import { harnessLogger } from './engine-harness.js';
import { splitChallenges } from '../../src/sip/index.js';

/** A bare SIP stack on a free UDP port of 127.0.0.1. */
export async function rawStack(t1 = 100): Promise<SipStack> {
  return SipStack.create({ listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }], timers: { t1, t2: 4 * t1, t4: 5 * t1 }, log: harnessLogger() });
}

/** Sends `req` and resolves with the final response (undefined on timeout). */
export function send(stack: SipStack, req: SipRequest, destination: Endpoint): Promise<SipResponse | undefined> {
  const txn = stack.sendRequest(req, { destination });
  return new Promise((resolve) => {
    txn.on('response', (res: SipResponse) => { if (res.status >= 200) resolve(res); });
    txn.on('timeout', () => resolve(undefined));
    txn.on('transport-error', () => resolve(undefined));
  });
}

/** Options of {@link register}. */
export interface RawRegister {
  username: string;
  password?: string;
  domain: string;
  /** Contact header values (joined into one header), or '*'; omitted = query. */
  contacts?: string[] | '*';
  expires?: number | null;
  callId?: string;
  cseq?: number;
  /** Answer the challenge with this algorithm's challenge (default: the first offered). */
  algorithm?: 'MD5' | 'SHA-256';
}

/** REGISTER, answering one 401 with digest when a password is given. Returns the final response and the challenge. */
export async function register(stack: SipStack, pbx: Endpoint, r: RawRegister): Promise<{ res: SipResponse | undefined; challenge: string | undefined }> {
  const callId = r.callId ?? randomBytes(8).toString('hex');
  let cseq = r.cseq ?? 1;
  const uri = `sip:${r.domain}`;
  const build = (auth?: string): SipRequest => {
    const req = new SipRequest('REGISTER', uri);
    req.append('From', `<sip:${r.username}@${r.domain}>;tag=${randomBytes(4).toString('hex')}`);
    req.append('To', `<sip:${r.username}@${r.domain}>`);
    req.append('Call-ID', callId);
    req.append('CSeq', `${cseq++} REGISTER`);
    if (r.contacts !== undefined) req.append('Contact', r.contacts === '*' ? '*' : r.contacts.join(', '));
    if (r.expires !== undefined && r.expires !== null) req.append('Expires', String(r.expires));
    if (auth) req.append('Authorization', auth);
    return req;
  };
  const first = await send(stack, build(), pbx);
  if (!first || first.status !== 401 || r.password === undefined) return { res: first, challenge: first?.get('www-authenticate') };
  const challenges = first.getAll('www-authenticate').flatMap(splitChallenges);
  const challenge = challenges.join(', ');
  const pick = r.algorithm ? challenges.find((c) => c.includes(`algorithm=${r.algorithm}`))! : challenges[0]!;
  const auth = computeAuthorization(pick, { username: r.username, password: r.password, method: 'REGISTER', uri });
  return { res: await send(stack, build(auth), pbx), challenge };
}

/** Splits a header value holding several `Digest …` challenges (the SIP core's splitter). */
export { splitChallenges };

/** Parses `<uri>;expires=N` entries of a 200's Contact header. */
export function boundContacts(res: SipResponse | undefined): Array<{ uri: string; expires: number }> {
  const v = res?.get('contact');
  if (!v) return [];
  return [...v.matchAll(/<([^>]+)>;expires=(\d+)/g)].map((m) => ({ uri: m[1]!, expires: Number(m[2]) }));
}
