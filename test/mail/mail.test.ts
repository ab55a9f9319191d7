// Mail through the outbox: written in the caller's transaction, delivered by the mail loop to a real
// SMTP server on loopback (smtp-server, speaking SMTP to nodemailer), retried with backoff, never
// delivered twice by concurrent deliverers, given up after MAIL_MAX_ATTEMPTS.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.ts';
import {
  deliverPendingMail,
  MAIL_MAX_ATTEMPTS,
  sendMail,
  startMailDelivery,
} from '../../server/modules/mail/mail.service.ts';
import { MailOutbox } from '../../server/modules/mail/mail-outbox.entity.ts';
import { createMailTransport, type MailTransport } from '../../server/modules/mail/mail-transport.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createUser, uniqueEmail } from '../support/factories.ts';
import { waitFor } from '../support/wait.ts';

const db = setupTestDatabase();
const em = () => db.orm.em.fork();

type Received = { from: string; to: string[]; raw: string };
const received: Received[] = [];
/** Recipients the SMTP server refuses with 550 (a mailbox that does not exist). */
const refused = new Set<string>();

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onRcptTo(address, _session, callback) {
    if (refused.has(address.address))
      callback(Object.assign(new Error('No such mailbox'), { responseCode: 550 }));
    else callback();
  },
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      received.push({
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
        raw: Buffer.concat(chunks).toString('utf8'),
      });
      callback();
    });
  },
});

let transport: MailTransport;
beforeAll(async () => {
  await new Promise<void>((ready) => smtp.listen(0, '127.0.0.1', ready));
  const { port } = smtp.server.address() as AddressInfo;
  const config = loadConfig({
    NODE_ENV: 'test',
    MAIL_DRIVER: 'smtp',
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(port),
    MAIL_FROM: 'Forgeline <no-reply@forgeline.test>',
  });
  transport = createMailTransport(config, db.logger);
});
afterAll(async () => {
  await transport.close();
  await new Promise<void>((done) => smtp.close(done));
});
beforeEach(async () => {
  // Each test delivers only its own mail.
  await em().nativeUpdate(MailOutbox, { sentAt: null }, { nextAttemptAt: null });
  received.length = 0;
  refused.clear();
});

const deliver = () => deliverPendingMail(em(), transport, db.logger);
const receivedBy = (email: string) => received.filter((mail) => mail.to.includes(email));
/** A quoted-printable body joined back into lines (soft line breaks removed). */
const decoded = (raw: string) => raw.replace(/=\r\n/g, '').replace(/=3D/g, '=');

describe('mail delivery over SMTP', () => {
  it('delivers a password-reset mail written by the procedure, once, and marks it sent', async () => {
    const user = await createUser(db);
    await callerFor(db, null).auth.requestPasswordReset({ email: user.email });
    const [pending] = await em().find(MailOutbox, { to: user.email });
    expect(pending).toMatchObject({ sentAt: null, attempts: 0 });

    await expect(deliver()).resolves.toEqual({ sent: 1, failed: 0 });
    const [mail] = receivedBy(user.email);
    expect(mail?.from).toBe('no-reply@forgeline.test');
    expect(decoded(mail?.raw ?? '')).toMatch(/\/reset-password\?token=[A-Za-z0-9_-]{20,}/);
    const row = await em().findOneOrFail(MailOutbox, { to: user.email });
    expect(row.sentAt).toBeInstanceOf(Date);
    expect(row).toMatchObject({ attempts: 1, nextAttemptAt: null, error: null });

    await expect(deliver()).resolves.toEqual({ sent: 0, failed: 0 });
    expect(receivedBy(user.email)).toHaveLength(1);
  });

  it('writes nothing when the transaction that asked for the mail rolls back', async () => {
    const to = uniqueEmail('rollback');
    await expect(
      em().transactional(async (tx) => {
        sendMail(tx, { to, subject: 'never', body: 'never' });
        await tx.flush();
        throw new Error('the mutation failed');
      }),
    ).rejects.toThrow('the mutation failed');
    expect(await em().count(MailOutbox, { to })).toBe(0);
  });

  it('retries a refused message with backoff, then delivers it', async () => {
    const to = uniqueEmail('refused');
    refused.add(to);
    await em()
      .persist(em().create(MailOutbox, { to, subject: 'Hello', body: 'Hi', nextAttemptAt: new Date() }))
      .flush();
    await expect(deliver()).resolves.toEqual({ sent: 0, failed: 1 });
    const failed = await em().findOneOrFail(MailOutbox, { to });
    expect(failed).toMatchObject({ sentAt: null, attempts: 1 });
    expect(failed.error).toMatch(/No such mailbox/);
    const waitSeconds = ((failed.nextAttemptAt as Date).getTime() - Date.now()) / 1000;
    expect(waitSeconds).toBeGreaterThan(20);
    expect(waitSeconds).toBeLessThanOrEqual(30);

    // Not due yet: nothing happens.
    await expect(deliver()).resolves.toEqual({ sent: 0, failed: 0 });
    refused.delete(to);
    await em().nativeUpdate(MailOutbox, { to }, { nextAttemptAt: new Date() });
    await expect(deliver()).resolves.toEqual({ sent: 1, failed: 0 });
    expect(await em().findOneOrFail(MailOutbox, { to })).toMatchObject({ attempts: 2, error: null });
    expect(receivedBy(to)).toHaveLength(1);
  });

  it(`gives up after ${MAIL_MAX_ATTEMPTS} attempts and keeps the last error`, async () => {
    const to = uniqueEmail('gone');
    refused.add(to);
    await em()
      .persist(
        em().create(MailOutbox, {
          to,
          subject: 'x',
          body: 'x',
          attempts: MAIL_MAX_ATTEMPTS - 1,
          nextAttemptAt: new Date(),
        }),
      )
      .flush();
    await expect(deliver()).resolves.toEqual({ sent: 0, failed: 1 });
    expect(await em().findOneOrFail(MailOutbox, { to })).toMatchObject({
      attempts: MAIL_MAX_ATTEMPTS,
      nextAttemptAt: null,
      sentAt: null,
      error: expect.stringMatching(/No such mailbox/),
    });
  });

  it('delivers each message exactly once when several deliverers run at the same time', async () => {
    const recipients = Array.from({ length: 30 }, (_, i) => uniqueEmail(`bulk${i}`));
    const fork = em();
    for (const to of recipients)
      fork.create(MailOutbox, { to, subject: 'Bulk', body: to, nextAttemptAt: new Date() });
    await fork.flush();
    const reports = await Promise.all(
      Array.from({ length: 4 }, () => deliverPendingMail(em(), transport, db.logger, { batchSize: 5 })),
    );
    let total = reports.reduce((sum, report) => sum + report.sent, 0);
    while (total < recipients.length) {
      const more = await deliver();
      if (more.sent === 0) break;
      total += more.sent;
    }
    expect(total).toBe(recipients.length);
    for (const to of recipients) expect(receivedBy(to)).toHaveLength(1);
  });

  it('the mail loop delivers what is written while it runs', async () => {
    const loop = startMailDelivery({ fork: em, transport, logger: db.logger, intervalMs: 50 });
    try {
      const user = await createUser(db);
      await callerFor(db, null).auth.requestPasswordReset({ email: user.email });
      await waitFor(async () => receivedBy(user.email).length === 1, { what: 'the reset mail' });
    } finally {
      await loop.stop();
    }
  });
});

describe('mail configuration', () => {
  it('refuses MAIL_DRIVER=smtp without SMTP_HOST, naming the variable', () => {
    expect(() => loadConfig({ MAIL_DRIVER: 'smtp' })).toThrow(ConfigError);
    expect(() => loadConfig({ MAIL_DRIVER: 'smtp' })).toThrow(/SMTP_HOST: required when MAIL_DRIVER=smtp/);
  });

  it('the log driver records the mail and logs it', async () => {
    const lines: string[] = [];
    const { pino } = await import('pino');
    const logger = pino({ level: 'info', base: undefined }, { write: (line: string) => lines.push(line) });
    const log = createMailTransport(loadConfig({ NODE_ENV: 'test' }), logger);
    await log.send({ to: 'a@example.test', subject: 'Hi', body: 'link' });
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      msg: 'mail (log driver)',
      to: 'a@example.test',
      body: 'link',
    });
    const production = createMailTransport(loadConfig({ NODE_ENV: 'production' }), logger);
    await production.send({ to: 'a@example.test', subject: 'Hi', body: 'secret link' });
    expect(JSON.parse(lines[1] ?? '{}')).not.toHaveProperty('body');
  });
});
