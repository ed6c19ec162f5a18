import ICAL from 'ical.js';
import type { InvitedBy } from '../provider.js';

/**
 * Exactly one invitation per booking (issue #14.2). An RFC 6638 server (Cyrus/Fastmail, iCloud,
 * SOGo, Nextcloud…) e-mails the attendee itself, but only when the event's organizer is one of
 * the account's own calendar-user addresses; for any other organizer it stores the event and
 * schedules nothing. So Creneau decides per booking: the server invites when it advertises
 * `calendar-auto-schedule` and the organizer (the staff member's profile e-mail) is in the
 * principal's `calendar-user-address-set`; otherwise Creneau sends the iMIP e-mail and writes the
 * attendee with `SCHEDULE-AGENT=CLIENT` (RFC 6638 §7.1) so that no server sends a second one.
 */

/** The e-mail addresses among a principal's calendar-user-address-set hrefs (lower-case, mailto: only). */
export function mailtoAddresses(hrefs: readonly string[]): string[] {
  const out: string[] = [];
  for (const h of hrefs) {
    const m = /^mailto:(.+)$/i.exec(h.trim());
    if (!m?.[1]) continue;
    let address = m[1];
    try {
      address = decodeURIComponent(address);
    } catch {
      // keep it as written
    }
    out.push(address.toLowerCase());
  }
  return out;
}

/**
 * Who invites for a new booking. `addresses` null = they could not be read: Creneau invites
 * (and marks the attendee SCHEDULE-AGENT=CLIENT), which can never lead to two invitations.
 */
export function inviterFor(autoSchedule: boolean, addresses: readonly string[] | null, organizerEmail: string): InvitedBy {
  if (!autoSchedule || addresses === null) return 'creneau';
  return addresses.includes(organizerEmail.trim().toLowerCase()) ? 'server' : 'creneau';
}

export interface AttendeeScheduling {
  /** The SCHEDULE-AGENT parameter (upper-case), or null (= SERVER). */
  readonly agent: string | null;
  /** The SCHEDULE-STATUS the server wrote back (RFC 6638 §3.2.9), or null. */
  readonly status: string | null;
}

/** The scheduling parameters of the (first) ATTENDEE of a stored booking; null when unreadable. */
export function attendeeScheduling(ics: string): AttendeeScheduling | null {
  try {
    const root = new ICAL.Component(ICAL.parse(ics) as unknown[]);
    const ev = root.getAllSubcomponents('vevent').find((e) => !e.hasProperty('recurrence-id'));
    const attendee = ev?.getFirstProperty('attendee');
    if (!attendee) return null;
    const agent = attendee.getParameter('schedule-agent');
    const status = attendee.getParameter('schedule-status');
    const first = (v: unknown): string | null => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : null);
    return { agent: first(agent)?.toUpperCase() ?? null, status: first(status) };
  } catch {
    return null;
  }
}

/**
 * Who invited for a stored booking: Creneau when the attendee says SCHEDULE-AGENT=CLIENT, or
 * when the server did not report a delivery (no SCHEDULE-STATUS, or a 3.x/5.x failure); the
 * server when it wrote a 1.x/2.x status for a booking it was expected to schedule.
 */
export function invitedByOf(expected: InvitedBy, scheduling: AttendeeScheduling | null): InvitedBy {
  if (expected === 'creneau' || !scheduling || scheduling.agent === 'CLIENT') return 'creneau';
  return scheduling.status !== null && /^[12]\./.test(scheduling.status.trim()) ? 'server' : 'creneau';
}
