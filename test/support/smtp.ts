// A real SMTP server on loopback (smtp-server) that keeps what it receives: the app under test
// delivers mail to it with MAIL_DRIVER=smtp, and tests read links out of the messages.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll } from 'vitest';
import { waitFor } from './wait.ts';

export type CapturedMail = { to: string[]; text: string };

export type SmtpCapture = {
  port: number;
  messages: CapturedMail[];
  /** Waits for the newest message to `to` whose text matches `pattern`; returns the first match group (or the match). */
  waitForLink(to: string, pattern: RegExp): Promise<string>;
  /** Environment that points the app's mail at this server. */
  env(): Record<string, string>;
};

/** Registers beforeAll/afterAll: call it before setupBrowser so the server is up when the app starts. */
export function setupSmtpCapture(): SmtpCapture {
  const messages: CapturedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        // Undo quoted-printable soft line breaks and =3D so links read whole.
        const text = Buffer.concat(chunks)
          .toString('utf8')
          .replace(/=\r?\n/g, '')
          .replace(/=3D/g, '=');
        messages.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), text });
        callback();
      });
    },
  });
  const capture: SmtpCapture = {
    port: 0,
    messages,
    async waitForLink(to, pattern) {
      return waitFor(
        async () => {
          const mail = messages.findLast((m) => m.to.includes(to) && pattern.test(m.text));
          const match = mail ? pattern.exec(mail.text) : null;
          return match ? (match[1] ?? match[0]) : null;
        },
        { what: `a mail to ${to}`, timeoutMs: 20_000 },
      );
    },
    env: () => ({ MAIL_DRIVER: 'smtp', SMTP_HOST: '127.0.0.1', SMTP_PORT: String(capture.port) }),
  };
  beforeAll(async () => {
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    capture.port = (server.server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((done) => server.close(done)));
  return capture;
}
