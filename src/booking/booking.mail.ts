import type { StaffRow } from '../accounts/accounts.repo.js';
import type { ServiceRow } from '../catalog/catalog.js';
import { buildBookingIcs } from '../calendars/ics.js';
import type { NewBookingEvent } from '../calendars/provider.js';
import { approvalToken } from './approval.js';
import type { Deps } from '../deps.js';
import { formatDate, formatTime, zoneLabel } from '../lib/time.js';
import type { OutgoingMail } from '../mail/mailer.js';
import type { ClientSide, ManagedBooking } from './booking.service.js';
import type { PendingBooking } from './opt-in.js';
import { bookingLink } from './booking.js';

/**
 * The e-mails of a booking (docs/messages.md): to the client in the language they booked in,
 * times in their zone, every link with `?tz=`, signed with the business name; to the staff
 * member in theirs. Multipart text + HTML (mailer.ts), the ICS where it applies. Only ever
 * to the client and the staff member.
 */

/** An e-mail could not be handed to the SMTP server now (logged by class only; the mailer retries). */
class MailError extends Error {
  override name = 'MailError';
}

export class BookingLetters {
  constructor(
    private readonly deps: Deps,
    private readonly businessName: () => string,
  ) {}

  /** The manage link the client is given: with their zone. */
  private manageUrl(token: string, tz: string): string {
    return bookingLink(this.deps.config.baseUrl.toString(), token, tz);
  }

  /** Date and time of an instant in a zone, in a language (for subjects and bodies). */
  private when(ms: number, tz: string, lang: string): { when: string; zone: string } {
    const code = this.deps.i18n.getFixedT(lang)('booking:locale_code');
    return { when: `${formatDate(ms, tz, code)} ${formatTime(ms, tz, code)}`, zone: zoneLabel(tz, ms) };
  }

  /** Sends one message; a refusal is logged by class only (the mailer retries passing failures). */
  private async mail(message: OutgoingMail, where: string): Promise<boolean> {
    const mailer = this.deps.mailer;
    if (!mailer) return false;
    const sent = await mailer.send(message);
    if (!sent) this.deps.log.error(new MailError(), where);
    return sent;
  }

  /**
   * The client's e-mail from Creneau when no calendar server invites: the confirmation (with the
   * ICS, iMIP REQUEST), the move, or the cancellation (CANCEL). Times in the client's zone, the
   * manage link with it, signed with the business name.
   */
  async invitation(
    event: NewBookingEvent,
    sequence: number,
    method: 'REQUEST' | 'CANCEL',
    token: string,
    who: ClientSide,
    opts: { readonly bookAgain?: string; readonly moved?: boolean } = {},
  ): Promise<boolean> {
    const { bookAgain } = opts;
    // A request approved is the client's first invitation, though its SEQUENCE has gone up.
    const moved = opts.moved ?? sequence > 0;
    if (!this.deps.mailer) return false;
    const t = this.deps.i18n.getFixedT(who.lang);
    const ics = buildBookingIcs(event, {
      uidHost: this.deps.config.baseUrl.hostname,
      sequence,
      status: method === 'CANCEL' ? 'CANCELLED' : 'CONFIRMED',
      stamp: this.deps.clock.now(),
      method,
    });
    const { when, zone } = this.when(event.start, who.tz, who.lang);
    const service = event.summary;
    const params = { client: event.attendee.name, service, staff: event.organizer.name, when, zone };
    const body =
      method === 'CANCEL'
        ? [t('booking:mail_cancel_body', params), ...(bookAgain ? ['', t('booking:mail_book_again', { url: bookAgain })] : [])]
        : [
            t(moved ? 'booking:mail_moved_body' : 'booking:mail_booked_body', params),
            ...(event.location ? [t('booking:reminder_location', { location: event.location })] : []),
            '',
            t('booking:reminder_manage', { url: this.manageUrl(token, who.tz) }),
          ];
    return this.mail(
      {
        to: { name: event.attendee.name, address: event.attendee.email },
        replyTo: { name: event.organizer.name, address: event.organizer.email },
        subject: t(method === 'CANCEL' ? 'booking:mail_cancel_subject' : moved ? 'booking:mail_moved_subject' : 'booking:mail_request_subject', { service, when }),
        text: [...body, '', t('booking:mail_signature', { business: this.businessName() })].join('\n'),
        calendar: { method, content: ics },
      },
      'booking.sendInvitation',
    );
  }

  /** To the client of a request: received, awaiting the staff member's answer (no ICS: nothing is booked yet). */
  async requestReceived(event: NewBookingEvent, token: string, who: ClientSide): Promise<void> {
    const t = this.deps.i18n.getFixedT(who.lang);
    const { when, zone } = this.when(event.start, who.tz, who.lang);
    const params = { client: event.attendee.name, service: event.summary, staff: event.organizer.name, when, zone };
    await this.mail(
      {
        to: { name: event.attendee.name, address: event.attendee.email },
        replyTo: { name: event.organizer.name, address: event.organizer.email },
        subject: t('booking:mail_received_subject', { service: event.summary, when }),
        text: [t('booking:mail_received_body', params), '', t('booking:reminder_manage', { url: this.manageUrl(token, who.tz) }), '', t('booking:mail_signature', { business: this.businessName() })].join('\n'),
      },
      'booking.sendRequestReceived',
    );
  }

  /** To the staff member: a request with its approve and decline links (HMAC tokens, nothing stored), in their language and zone. */
  async approvalRequest(staff: StaffRow, connectionId: number, event: NewBookingEvent): Promise<void> {
    const t = this.deps.i18n.getFixedT(staff.locale);
    const { when, zone } = this.when(event.start, staff.timeZone, staff.locale);
    const token = approvalToken(this.deps.keyring, { staffId: staff.id, connectionId, bookingId: event.id });
    const base = this.deps.config.baseUrl.toString();
    await this.mail(
      {
        to: { name: staff.displayName, address: staff.email },
        subject: t('booking:mail_approval_subject', { service: event.summary, when }),
        text: [
          t('booking:mail_approval_body', { client: event.attendee.name, email: event.attendee.email, service: event.summary, when, zone }),
          '',
          t('booking:mail_approval_approve', { url: `${base}approve/${token}` }),
          t('booking:mail_approval_decline', { url: `${base}decline/${token}` }),
          '',
          t('booking:mail_signature', { business: this.businessName() }),
        ].join('\n'),
      },
      'booking.sendApprovalRequest',
    );
  }

  /** To the staff member: the client cancelled, with the short message they left (never stored). */
  async cancelledByClient(staff: StaffRow, event: NewBookingEvent, note: string): Promise<void> {
    const t = this.deps.i18n.getFixedT(staff.locale);
    const { when, zone } = this.when(event.start, staff.timeZone, staff.locale);
    await this.mail(
      {
        to: { name: staff.displayName, address: staff.email },
        subject: t('booking:mail_client_cancelled_subject', { service: event.summary, when }),
        text: [
          t('booking:mail_client_cancelled_body', { client: event.attendee.name, service: event.summary, when, zone }),
          ...(note ? ['', t('booking:mail_client_cancelled_note'), note] : []),
          '',
          t('booking:mail_signature', { business: this.businessName() }),
        ].join('\n'),
      },
      'booking.sendCancelledByClient',
    );
  }

  /** To the client whose request was declined. */
  async declined(b: ManagedBooking, who: ClientSide): Promise<void> {
    const t = this.deps.i18n.getFixedT(who.lang);
    const { when, zone } = this.when(b.event.start, who.tz, who.lang);
    const again = `${this.deps.config.baseUrl.toString()}@${b.staff.username}`;
    await this.mail(
      {
        to: { name: b.event.attendee.name, address: b.event.attendee.email },
        replyTo: { name: b.staff.displayName, address: b.staff.email },
        subject: t('booking:mail_declined_subject', { service: b.event.summary, when }),
        text: [
          t('booking:mail_declined_body', { client: b.event.attendee.name, service: b.event.summary, staff: b.staff.displayName, when, zone }),
          '',
          t('booking:mail_book_again', { url: again }),
          '',
          t('booking:mail_signature', { business: this.businessName() }),
        ].join('\n'),
      },
      'booking.sendDeclined',
    );
  }

  /** Double opt-in: the link carrying the sealed request (30 minutes). */
  async optIn(pending: PendingBooking, sealed: string, service: ServiceRow, staff: StaffRow): Promise<boolean> {
    const t = this.deps.i18n.getFixedT(pending.lang);
    const { when, zone } = this.when(pending.start, pending.tz, pending.lang);
    const name = `${pending.client.firstName} ${pending.client.lastName}`;
    const url = `${this.deps.config.baseUrl.toString()}confirm/${sealed}?tz=${encodeURIComponent(pending.tz)}`;
    return this.mail(
      {
        to: { name, address: pending.client.email },
        replyTo: { name: staff.displayName, address: staff.email },
        subject: t('booking:mail_optin_subject', { service: service.title, when }),
        text: [
          t('booking:mail_optin_body', { client: name, service: service.title, staff: staff.displayName, when, zone }),
          '',
          url,
          '',
          t('booking:mail_optin_ignore'),
          '',
          t('booking:mail_signature', { business: this.businessName() }),
        ].join('\n'),
      },
      'booking.requestConfirmation',
    );
  }
}
