// Where mail goes: `log` writes it to the structured log (the body too, outside production, so a
// developer can follow a reset link; never in production, where links are secrets), `smtp` hands it
// to an SMTP server through nodemailer.
import nodemailer from 'nodemailer';
import type { Logger } from '../../common/logger.ts';
import type { Config } from '../../config.ts';
import type { Mail } from './mail.service.ts';

export type MailTransport = { send(mail: Mail): Promise<void>; close(): Promise<void> };

export function createMailTransport(config: Config, logger: Logger): MailTransport {
  if (config.mail.driver === 'log') {
    return {
      async send(mail) {
        logger.info(
          { to: mail.to, subject: mail.subject, ...(config.isProduction ? {} : { body: mail.body }) },
          'mail (log driver)',
        );
      },
      async close() {},
    };
  }
  const { smtp } = config.mail;
  const transporter = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    pool: true,
    maxConnections: 2,
    connectionTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    async send(mail) {
      await transporter.sendMail({
        from: config.mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.body,
      });
    },
    async close() {
      transporter.close();
    },
  };
}
