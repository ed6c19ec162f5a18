import { findStaffById, type StaffRow } from '../accounts/accounts.repo.js';
import type { ServiceRow } from '../catalog/catalog.js';
import { listServices } from '../catalog/catalog.repo.js';
import type { BookingEvent, CalendarProvider } from '../calendars/provider.js';
import { bookingToken } from '../crypto/token.js';
import type { Deps } from '../deps.js';
import { formatDate, formatTime, zoneLabel } from '../lib/time.js';
import { clientSideOf } from '../booking/booking.service.js';
import { policyOf } from '../booking/policy.js';
import { dueReminders, formatMarker, markSent, normalizeLeads, parseMarker, scanRange, type ReminderMarker } from './reminders.js';
import { bookingLink } from '../booking/booking.js';

/**
 * The reminder scan (DESIGN.md §5 "Reminder scan"). Every interval, each calendar whose staff
 * member has a service with reminders is read once, for the events starting before now + the
 * largest lead time + one interval. Each due reminder is claimed on the event with a
 * conditional write, e-mailed, then marked sent (src/reminders/reminders.ts says why in that
 * order). Nothing is kept between scans: the calendar is the only record.
 */

export interface ReminderScanOptions {
  /** A service's reminder lead times in minutes (its `reminders` field; policyOf by default). */
  readonly leadsOf?: (service: ServiceRow) => readonly number[];
  /** The name the e-mails are signed with: the owner's business name (DESIGN.md §5 "Branding") by default. */
  readonly businessName?: () => Promise<string> | string;
}

/** What one scan did (counts only: no booking, no client). */
export interface ScanReport {
  /** Calendars read (one read each). */
  calendars: number;
  /** Calendars that could not be read; their reminders wait for the next scan. */
  unreadable: number;
  sent: number;
  /** Reminders another process claimed first, or events changed under the scan (retried next time). */
  contended: number;
}

/** Whatever went wrong with one calendar or one message (logged by class only). */
class ReminderError extends Error {
  override name = 'ReminderError';
}

export class ReminderScan {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<ScanReport> | null = null;
  private stopped = false;

  constructor(
    private readonly deps: Deps,
    private readonly opts: ReminderScanOptions = {},
  ) {}

  /** Scans every CRENEAU_REMINDER_INTERVAL_SECONDS until stop(); the timer never keeps the process alive. */
  start(): void {
    this.stopped = false;
    const tick = (): void => {
      this.timer = setTimeout(() => {
        void this.scanOnce()
          .catch((e: unknown) => this.deps.log.error(e, 'reminders.scan'))
          .finally(() => {
            if (!this.stopped) tick();
          });
      }, this.deps.config.reminderIntervalMs);
      this.timer.unref();
    };
    tick();
  }

  /** Stops the timer and waits for a scan under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One scan; a scan already under way is joined, not doubled. */
  scanOnce(): Promise<ScanReport> {
    if (!this.running) {
      this.running = this.scan().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async scan(): Promise<ScanReport> {
    const report: ScanReport = { calendars: 0, unreadable: 0, sent: 0, contended: 0 };
    // Without SMTP no reminder can leave: the calendars are not even read.
    if (!this.deps.mailer) return report;
    const business = this.opts.businessName ? await this.opts.businessName() : this.deps.brand.current().name;
    const leadsOf = this.opts.leadsOf ?? ((service: ServiceRow) => policyOf(service).reminders);
    for (const connection of await this.deps.calendars.all()) {
      if (connection.status !== 'ok') continue;
      const staff = await findStaffById(this.deps.db, connection.staffId);
      if (!staff) continue;
      const services = new Map<string, { service: ServiceRow; leads: number[] }>();
      for (const service of await listServices(this.deps.db, staff.id)) {
        const leads = normalizeLeads(leadsOf(service));
        if (leads.length > 0) services.set(service.slug, { service, leads });
      }
      const now = this.deps.clock.now();
      const range = scanRange(now, [...services.values()].flatMap((s) => s.leads), this.deps.config.reminderIntervalMs);
      if (!range) continue;
      const provider = this.deps.calendars.provider(connection, staff.timeZone);
      report.calendars += 1;
      const events = await provider.upcoming(range);
      if (!events.ok) {
        report.unreadable += 1;
        this.deps.log.debug('reminders.calendar_unreadable', { provider: provider.kind, reason: events.error });
        continue;
      }
      for (const ev of events.value) {
        const target = services.get(ev.serviceSlug);
        // A request still awaiting approval is not an appointment yet; a cancelled one is not listed.
        if (!target || ev.cancelled || ev.status === 'TENTATIVE' || !ev.attendee.email) continue;
        const due = dueReminders({ start: ev.start, created: ev.created ?? 0, marker: parseMarker(ev.reminded) }, target.leads, this.deps.clock.now());
        if (due.kind === 'none') continue;
        const outcome = await this.remind(provider, staff, connection.id, target.service, ev, due.claim, business);
        if (outcome === 'sent') report.sent += 1;
        else report.contended += 1;
      }
    }
    return report;
  }

  /** Claim → e-mail → mark sent. Only the process whose claim lands sends. */
  private async remind(provider: CalendarProvider, staff: StaffRow, connectionId: number, service: ServiceRow, ev: BookingEvent, claim: ReminderMarker, business: string): Promise<'sent' | 'contended'> {
    const claimed = await provider.markReminded(ev.id, ev.etag, formatMarker(claim));
    if (!claimed.ok) {
      if (claimed.error !== 'precondition_failed' && claimed.error !== 'not_found') this.deps.log.debug('reminders.claim_failed', { provider: provider.kind, reason: claimed.error });
      return 'contended';
    }
    // Handed to SMTP or to the mailer's in-memory retries: either way it is on its way.
    const accepted = await this.deps.mailer?.send(this.message(staff, connectionId, service, ev, business));
    if (accepted === false) this.deps.log.debug('reminders.mail_deferred', {});
    const sent = formatMarker(markSent(claim));
    let marked = await provider.markReminded(ev.id, claimed.value.etag, sent);
    if (!marked.ok && marked.error === 'precondition_failed') {
      // The staff member touched the event meanwhile: mark again if our claim is still there.
      const fresh = await provider.getEvent(ev.id);
      if (fresh.ok && fresh.value.reminded === formatMarker(claim)) marked = await provider.markReminded(ev.id, fresh.value.etag, sent);
    }
    if (!marked.ok) this.deps.log.error(new ReminderError(), 'reminders.mark_sent');
    return 'sent';
  }

  /** The reminder in the language the client booked in, with the time in their zone. */
  private message(staff: StaffRow, connectionId: number, service: ServiceRow, ev: BookingEvent, business: string) {
    const { lang, tz } = clientSideOf(ev, staff.timeZone, this.deps.config.defaultLocale);
    const t = this.deps.i18n.getFixedT(lang);
    const code = t('booking:locale_code');
    const when = `${formatDate(ev.start, tz, code)} ${formatTime(ev.start, tz, code)}`;
    const token = bookingToken(this.deps.keyring, { staffId: staff.id, connectionId, bookingId: ev.id });
    const url = bookingLink(this.deps.config.baseUrl.toString(), token, tz);
    const lines = [t('booking:reminder_body', { client: ev.attendee.name, service: service.title, staff: staff.displayName, when, zone: zoneLabel(tz, ev.start) })];
    if (ev.location) lines.push(t('booking:reminder_location', { location: ev.location }));
    lines.push('', t('booking:reminder_manage', { url }), '', t('booking:mail_signature', { business }));
    return {
      to: { name: ev.attendee.name, address: ev.attendee.email },
      replyTo: { name: staff.displayName, address: staff.email },
      subject: t('booking:reminder_subject', { service: service.title, when }),
      text: lines.join('\n'),
    };
  }
}
