import { randomBytes } from 'node:crypto';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import type { Config } from '../config.js';
import type { Logger } from '../lib/log.js';
import { htmlFromText } from './html.js';

/**
 * Outgoing mail: invitations for CalDAV servers that do not schedule them, staff invitation
 * links. The transport never logs; a message lives only in memory until the SMTP server has it
 * (or until its retries run out), never on disk.
 */
export interface OutgoingMail {
  readonly to: { readonly name: string; readonly address: string };
  readonly replyTo?: { readonly name: string; readonly address: string };
  readonly subject: string;
  readonly text: string;
  /** The HTML part; derived from the text (escaped, links made clickable) when absent. */
  readonly html?: string;
  /** iMIP: the ICS with its METHOD, sent as text/calendar alternative and as an attachment. */
  readonly calendar?: { readonly method: 'REQUEST' | 'CANCEL'; readonly content: string };
}

export interface Mailer {
  /**
   * Sends one message. Resolves true once the SMTP server has it; false when it did not take it
   * now (never throws): a passing failure is then retried in the background with back-off.
   */
  send(mail: OutgoingMail): Promise<boolean>;
  /** Messages waiting for a retry (in memory only). */
  pending(): number;
}

/** Back-off after a passing failure: about 16 minutes in all, then the message is given up. */
export const RETRY_DELAYS_MS: readonly number[] = [5_000, 30_000, 120_000, 300_000, 500_000];
/** At most this many messages wait for a retry; more are given up at once (memory is bounded). */
const MAX_PENDING = 500;

class MailGivenUp extends Error {
  override name = 'MailGivenUp';
}

export interface MailerOptions {
  readonly log: Logger;
  readonly retryDelaysMs?: readonly number[];
  /**
   * The business's name as the owner set it (null when unset), asked for each message: it becomes
   * the From display name (the address stays CRENEAU_MAIL_FROM's) and the HTML part's heading.
   */
  readonly senderName?: () => string | null;
}

/** The address of CRENEAU_MAIL_FROM, written either `address` or `Name <address>`. */
export function fromAddress(from: string): string {
  return from.replace(/^.*<(.*)>\s*$/, '$1').trim();
}

/** The SMTP mailer from CRENEAU_SMTP_URL, or null when mail is not configured. */
export function createMailer(config: Config, opts: MailerOptions): Mailer | null {
  if (!config.smtp) return null;
  const delays = opts.retryDelaysMs ?? RETRY_DELAYS_MS;
  // Short timeouts: a client or an owner waits on the first attempt; a silent SMTP server must not hang them.
  const transport: Transporter = nodemailer.createTransport(
    { url: config.smtp.url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 },
    { from: config.smtp.from },
  );
  transport.set('logger', false);
  // Message-IDs name the business's own domain (the public URL's host), never the SMTP relay's.
  const domain = config.baseUrl.hostname;
  const address = fromAddress(config.smtp.from);
  let waiting = 0;

  const attempt = async (message: SendMailOptions): Promise<'sent' | 'passing' | 'permanent'> => {
    try {
      await transport.sendMail(message);
      return 'sent';
    } catch (err) {
      // 5xx is the server's final word on this message (e.g. no such mailbox): sending again cannot help.
      const code = (err as { responseCode?: unknown }).responseCode;
      return typeof code === 'number' && code >= 500 && code < 600 ? 'permanent' : 'passing';
    }
  };

  const retry = (message: SendMailOptions, step: number): void => {
    const delay = delays[step];
    if (delay === undefined || waiting >= MAX_PENDING) {
      opts.log.error(new MailGivenUp(), 'mail');
      return;
    }
    waiting += 1;
    opts.log.debug('mail_retry_scheduled', { attempt: step + 2, delay_ms: delay });
    setTimeout(() => {
      void attempt(message).then((outcome) => {
        waiting -= 1;
        if (outcome === 'passing') retry(message, step + 1);
        else if (outcome === 'permanent') opts.log.error(new MailGivenUp(), 'mail');
      });
    }, delay).unref();
  };

  return {
    pending: () => waiting,
    send: async (mail) => {
      const sender = opts.senderName?.() ?? null;
      const message: SendMailOptions = {
        // nodemailer quotes or encodes the name; the form refused control characters in it.
        ...(sender !== null ? { from: { name: sender, address } } : {}),
        to: { name: mail.to.name, address: mail.to.address },
        ...(mail.replyTo ? { replyTo: { name: mail.replyTo.name, address: mail.replyTo.address } } : {}),
        subject: mail.subject,
        // The business's name heads both parts: the plain text is what many clients read.
        text: sender !== null ? `${sender}\n\n${mail.text}` : mail.text,
        html: mail.html ?? htmlFromText(mail.text, sender),
        ...(mail.calendar ? { icalEvent: { method: mail.calendar.method, filename: 'invite.ics', content: mail.calendar.content } } : {}),
        messageId: `<${randomBytes(16).toString('hex')}@${domain}>`,
        // RFC 3834: no auto-replies (vacation notices) back to a machine.
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
        disableUrlAccess: true,
        disableFileAccess: true,
      };
      const outcome = await attempt(message);
      if (outcome === 'sent') return true;
      if (outcome === 'passing') retry(message, 0);
      return false;
    },
  };
}
