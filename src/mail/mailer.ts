import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../config.js';

/**
 * Outgoing mail (only for CalDAV servers that do not schedule invitations themselves). The
 * transport never logs; a message lives only in memory until the SMTP server has it.
 */
export interface OutgoingMail {
  readonly to: { readonly name: string; readonly address: string };
  readonly replyTo?: { readonly name: string; readonly address: string };
  readonly subject: string;
  readonly text: string;
  /** iMIP: the ICS with its METHOD, sent as text/calendar alternative and as an attachment. */
  readonly calendar?: { readonly method: 'REQUEST' | 'CANCEL'; readonly content: string };
}

export interface Mailer {
  /** Sends one message; resolves false (never throws) when the SMTP server refused or was unreachable. */
  send(mail: OutgoingMail): Promise<boolean>;
}

/** The SMTP mailer from CRENEAU_SMTP_URL, or null when mail is not configured. */
export function createMailer(config: Config): Mailer | null {
  if (!config.smtp) return null;
  // Short timeouts: a client or an owner waits on this; a silent SMTP server must not hang them.
  const transport: Transporter = nodemailer.createTransport(
    { url: config.smtp.url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 },
    { from: config.smtp.from },
  );
  transport.set('logger', false);
  return {
    send: async (mail) => {
      try {
        await transport.sendMail({
          to: { name: mail.to.name, address: mail.to.address },
          ...(mail.replyTo ? { replyTo: { name: mail.replyTo.name, address: mail.replyTo.address } } : {}),
          subject: mail.subject,
          text: mail.text,
          ...(mail.calendar
            ? {
                icalEvent: { method: mail.calendar.method, filename: 'invite.ics', content: mail.calendar.content },
              }
            : {}),
          disableUrlAccess: true,
          disableFileAccess: true,
        });
        return true;
      } catch {
        return false;
      }
    },
  };
}
