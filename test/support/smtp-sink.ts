/**
 * A real SMTP server in process (the `smtp-server` package) on 127.0.0.1 and a free port, for voicemail-to-email
 * tests: it keeps every mail it accepted, parsed by `mailparser`, and can refuse the next N with a 4xx.
 */
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';

export interface SmtpSink {
  port: number;
  mails: ParsedMail[];
  /** Refuse the next `n` messages with `451 <text>` (a transient failure). */
  refuseNext(n: number, text?: string): void;
  /** Resolves when `n` mails have been accepted (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<ParsedMail[]>;
  /** How many DATA commands were refused. */
  refused: number;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  let refuse = 0;
  let refuseText = 'try again later';
  const waiters: Array<() => void> = [];
  const sink: SmtpSink = {
    port: 0, mails: [], refused: 0,
    refuseNext(n, text = 'try again later') { refuse = n; refuseText = text; },
    waitFor(n, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`smtp sink: ${sink.mails.length} of ${n} mails after ${timeoutMs} ms`)), timeoutMs);
        const check = (): void => {
          if (sink.mails.length >= n) { clearTimeout(t); resolve(sink.mails); } else waiters.push(check);
        };
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (refuse > 0) {
          refuse--;
          sink.refused++;
          const err = Object.assign(new Error(refuseText), { responseCode: 451 });
          callback(err);
          return;
        }
        simpleParser(Buffer.concat(chunks)).then((mail) => {
          sink.mails.push(mail);
          callback();
          for (const w of waiters.splice(0)) w();
        }, (err: Error) => callback(err));
      });
    },
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', () => resolve()); });
  sink.port = (server.server.address() as AddressInfo).port;
  return sink;
}
