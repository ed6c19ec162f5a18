import type { Interval } from '../lib/interval.js';
import type { Result } from '../lib/result.js';

/**
 * One interface for every calendar backend (CalDAV, Google). Expected outcomes are values,
 * never exceptions: a failure is never reported as "no events" (fail closed).
 */

/** Why a calendar call failed. `needs_reconnect` = credentials revoked/expired for good. */
export type CalendarFailure =
  | 'unreachable' // network error, DNS, connection refused, 5xx
  | 'timeout'
  | 'unauthorized' // 401/403 on credentials that might work again after the staff fixes them
  | 'needs_reconnect' // Google invalid_grant and friends
  | 'rate_limited'
  | 'malformed' // unparsable or incomplete XML / ICS / JSON, or response over the size caps
  | 'too_costly' // calendar data over the parsing budget (time, occurrences, rule iterations)
  | 'refused'; // SSRF guard / policy refusal (one uniform reason)

export type CalendarResult<T> = Result<T, CalendarFailure>;

/** Busy intervals, merged and clipped to the range asked for. */
export type BusyResult = Result<Interval[], CalendarFailure>;

/** Who e-mails the client about a booking: the calendar server (RFC 6638, Google) or Creneau (iMIP). */
export type InvitedBy = 'server' | 'creneau';

/** Outcome of a write; `conflict` = the id already exists, `precondition_failed` = stale ETag. */
export type WriteFailure = CalendarFailure | 'conflict' | 'not_found' | 'precondition_failed';
export type WriteResult<T> = Result<T, WriteFailure>;

export interface CalendarInfo {
  /** CalDAV: absolute calendar URL; Google: calendar id. */
  readonly id: string;
  readonly name: string;
  /** Whether events can be written into it (the booking calendar must be writable). */
  readonly writable: boolean;
  readonly primary?: boolean;
}

export interface Person {
  readonly name: string;
  readonly email: string;
}

/** What Creneau writes into the calendar for one booking. */
export interface NewBookingEvent {
  /** 128-bit random id, base32hex lower-case: the CalDAV resource name and UID prefix, the Google event id. */
  readonly id: string;
  readonly start: number; // epoch ms UTC
  readonly end: number;
  readonly timeZone: string; // staff zone, for DTSTART;TZID / Google start.timeZone
  readonly summary: string;
  readonly description: string;
  readonly location: string;
  readonly organizer: Person;
  readonly attendee: Person;
  /** The service slug, stored in the event (X-CRENEAU-SERVICE / extendedProperties.private) for daily caps. */
  readonly serviceSlug: string;
  /** `TENTATIVE` while a request awaits the staff member's approval; `CONFIRMED` when absent. */
  readonly status?: 'CONFIRMED' | 'TENTATIVE';
  /** The language the client booked in (X-CRENEAU-LANG / private property): reminders use it. */
  readonly lang?: string;
  /** The client's zone (X-CRENEAU-CLIENT-TZ / private property): reminders and links use it. */
  readonly clientTimeZone?: string;
}

/** A booking event read back from the calendar. */
export interface BookingEvent extends NewBookingEvent {
  readonly cancelled: boolean;
  /** Opaque version tag for conditional moves (CalDAV ETag / Google etag). */
  readonly etag: string;
  readonly sequence: number;
  /** Who invites for this event; absent = as `serverSchedules` says. */
  readonly invitedBy?: InvitedBy;
  /** When the booking was made (CREATED / Google `created`), when the calendar says. */
  readonly created?: number;
  /** The reminder marker (src/reminders/reminders.ts), as written on the event. */
  readonly reminded?: string;
}

/** A successful create or move; `invitedBy` absent = as `serverSchedules` says. */
export interface Written {
  readonly etag: string;
  readonly invitedBy?: InvitedBy;
}

/** A Creneau-created event in a range, for caps (per service per day, per client e-mail per day). */
export interface BookedSummary {
  readonly id: string;
  readonly start: number;
  readonly end: number;
  readonly serviceSlug: string;
  readonly attendeeEmail: string;
}

export interface BusyOptions {
  /** A booking being moved, which must not block its own new time. */
  readonly exceptBookingId?: string;
  /**
   * Before a booking is written: take no shortcut a server could get wrong (CalDAV lists every
   * ETag instead of trusting an unchanged CTag).
   */
  readonly thorough?: boolean;
}

export interface CalendarProvider {
  readonly kind: 'caldav' | 'google';
  listCalendars(): Promise<CalendarResult<CalendarInfo[]>>;
  /**
   * Busy intervals (merged, clipped to range) across the conflict calendars. Fails closed.
   * `exceptBookingId` leaves one of our bookings out (moving it must not collide with itself);
   * only providers with `excludesFromBusy` honour it (the others keep it busy: fail closed).
   */
  busy(range: Interval, options?: BusyOptions): Promise<BusyResult>;
  /** Whether busy() can leave one booking out (CalDAV reads events; Google reads events.list when asked to). */
  readonly excludesFromBusy: boolean;
  /** Creneau-created, non-cancelled events in the booking calendar overlapping the range. */
  bookings(range: Interval): Promise<CalendarResult<BookedSummary[]>>;
  /** Conditional create (If-None-Match: * / fixed Google id): `conflict` if the id exists. */
  createEvent(event: NewBookingEvent): Promise<WriteResult<Written>>;
  getEvent(id: string): Promise<WriteResult<BookingEvent>>;
  /** Conditional move (If-Match / Google etag); increments SEQUENCE; `description`, when given, replaces it. */
  moveEvent(id: string, start: number, end: number, etag: string, description?: string): Promise<WriteResult<Written>>;
  /**
   * Creneau's booking events starting in the range, with ETag, creation time and reminder
   * marker (the reminder scan: one read per calendar). Cancelled events are left out.
   */
  upcoming(range: Interval): Promise<CalendarResult<BookingEvent[]>>;
  /** Writes the reminder marker only while the event still has `etag` (`precondition_failed` otherwise). */
  markReminded(id: string, etag: string, marker: string): Promise<WriteResult<{ etag: string }>>;
  /** A request approved: TENTATIVE → CONFIRMED while the event still has `etag`; SEQUENCE goes up; the server (if it schedules) invites now. */
  confirmEvent(id: string, etag: string): Promise<WriteResult<Written>>;
  /** Cancels the event; `not_found` when already gone. `note` (the client's message) goes into what stays of it, where the provider keeps one. */
  cancelEvent(id: string, note?: string): Promise<WriteResult<null>>;
  /**
   * True when the server can send invitations itself (Google with sendUpdates=all; CalDAV with
   * RFC 6638 auto-schedule). When false, Creneau sends iMIP e-mails itself. CalDAV decides per
   * booking on top of it (`invitedBy` of writes and reads).
   */
  readonly serverSchedules: boolean;
}
