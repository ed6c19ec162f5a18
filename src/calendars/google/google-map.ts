import * as z from 'zod';
import { mergeIntervals, type Interval } from '../../lib/interval.js';
import { err, ok, type Result } from '../../lib/result.js';
import { dayRange } from '../../lib/time.js';
import type { BookedSummary, BookingEvent, CalendarFailure, CalendarInfo, NewBookingEvent, Person } from '../provider.js';

/**
 * From Google Calendar v3 JSON to Creneau's shapes and back: busy intervals from freeBusy and
 * events.list, booking events, calendar lists. Pure, no I/O. Answers are taken strictly: a date
 * with an out-of-range field, an event without its times or a calendar missing from a freeBusy
 * answer is `malformed` (the read fails closed), never skipped.
 */

/** Marks our events: Google's privateExtendedProperty filter needs an exact `name=value`. */
export const MARK_KEY = 'creneau';
export const MARK_VALUE = '1';
export const SERVICE_KEY = 'creneauService';
export const LANG_KEY = 'creneauLang';
export const CLIENT_TZ_KEY = 'creneauClientTz';
/** The reminder marker (src/reminders/reminders.ts), written with If-Match on the event's etag. */
export const REMINDED_KEY = 'creneauReminded';

// ---- Dates ----------------------------------------------------------------------------------

const DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function daysIn(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : (MONTH_DAYS[month - 1] ?? 0);
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function validDay(y: number, m: number, d: number): boolean {
  return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m);
}

/**
 * An RFC 3339 date-time as epoch ms, or undefined. Every field is range-checked: month 13,
 * 30 February or hour 99 are refused, never rolled over into another instant.
 */
export function parseDateTime(value: string): number | undefined {
  const m = DATE_TIME_RE.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (!validDay(y, mo, d) || h > 23 || mi > 59 || s > 59) return undefined;
  let offsetMin = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[8] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const fraction = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const at = new Date(0);
  at.setUTCFullYear(y, mo - 1, d);
  at.setUTCHours(h, mi, s, fraction);
  return at.getTime() - offsetMin * 60_000;
}

/** A calendar date YYYY-MM-DD whose fields are in range. */
export function isDate(value: string): boolean {
  const m = DATE_RE.exec(value);
  return m !== null && validDay(Number(m[1]), Number(m[2]), Number(m[3]));
}

const dateTime = z.string().refine((v) => parseDateTime(v) !== undefined);
const date = z.string().refine(isDate);

// ---- Wire schemas (only what we read; unknown members are ignored) --------------------------

const calendarEntrySchema = z.object({
  id: z.string().min(1),
  summary: z.string().optional(),
  summaryOverride: z.string().optional(),
  accessRole: z.string(),
  primary: z.boolean().optional(),
  deleted: z.boolean().optional(),
});

const freeBusySchema = z.object({
  calendars: z.record(
    z.string(),
    z.object({
      busy: z.array(z.object({ start: dateTime, end: dateTime })).optional(),
      errors: z.array(z.object({ domain: z.string().optional(), reason: z.string().optional() })).optional(),
    }),
  ),
});

const eventTimeSchema = z.object({ dateTime: dateTime.optional(), date: date.optional(), timeZone: z.string().optional() });
type EventTime = z.infer<typeof eventTimeSchema>;

const personSchema = z.object({
  email: z.string().optional(),
  displayName: z.string().optional(),
  organizer: z.boolean().optional(),
  self: z.boolean().optional(),
  resource: z.boolean().optional(),
});

const eventSchema = z.object({
  id: z.string().min(1),
  etag: z.string().min(1),
  status: z.string().optional(),
  summary: z.string().optional(),
  description: z.string().optional(),
  location: z.string().optional(),
  start: eventTimeSchema,
  end: eventTimeSchema,
  sequence: z.number().int().optional(),
  created: z.string().optional(),
  organizer: personSchema.optional(),
  attendees: z.array(personSchema).optional(),
  extendedProperties: z.object({ private: z.record(z.string(), z.string()).optional() }).optional(),
});
/** An event as events.get / insert / patch answer it. */
export type WireEvent = z.infer<typeof eventSchema>;

/** A listed event: a cancelled instance may come back with only id and status. */
const listedEventSchema = eventSchema.partial().extend({ id: z.string().min(1), transparency: z.string().optional() });
type ListedEvent = z.infer<typeof listedEventSchema>;

// ---- Reading --------------------------------------------------------------------------------

/** The calendars of calendarList, deleted ones left out. */
export function calendarsFrom(items: readonly unknown[]): Result<CalendarInfo[], 'malformed'> {
  const parsed = z.array(calendarEntrySchema).safeParse(items);
  if (!parsed.success) return err('malformed');
  return ok(
    parsed.data
      .filter((c) => c.deleted !== true)
      .map((c) => ({
        id: c.id,
        name: c.summaryOverride ?? c.summary ?? c.id,
        writable: c.accessRole === 'owner' || c.accessRole === 'writer',
        primary: c.primary === true,
      })),
  );
}

/** The freeBusy.query body for some calendars over a range. */
export function freeBusyBody(ids: readonly string[], range: Interval): Record<string, unknown> {
  return { timeMin: new Date(range.start).toISOString(), timeMax: new Date(range.end).toISOString(), items: ids.map((id) => ({ id })) };
}

/**
 * Busy intervals of a freeBusy answer for the calendars asked, clipped to the range. A calendar
 * missing from the answer, answered with errors or without its busy list is unknown time.
 */
export function freeBusyFrom(json: unknown, ids: readonly string[], range: Interval): Result<Interval[], CalendarFailure> {
  const parsed = freeBusySchema.safeParse(json);
  if (!parsed.success) return err('malformed');
  const busy: Interval[] = [];
  for (const id of ids) {
    const cal = Object.hasOwn(parsed.data.calendars, id) ? parsed.data.calendars[id] : undefined;
    if (!cal) return err('malformed');
    if (cal.errors && cal.errors.length > 0) return err(cal.errors.some((e) => e.reason === 'notFound') ? 'unauthorized' : 'unreachable');
    if (!cal.busy) return err('malformed');
    for (const b of cal.busy) {
      const span = { start: parseDateTime(b.start) ?? NaN, end: parseDateTime(b.end) ?? NaN };
      if (!(span.end >= span.start)) return err('malformed');
      const clipped = { start: Math.max(span.start, range.start), end: Math.min(span.end, range.end) };
      if (clipped.end > clipped.start) busy.push(clipped);
    }
  }
  return ok(mergeIntervals(busy));
}

/**
 * Busy time of one calendar from its listed events (recurrences expanded by Google), leaving
 * out the event `except`: busy unless cancelled or transparent (tentative and outOfOffice are
 * busy); all-day events span local midnight to midnight in `zone`. Clipped, not merged.
 */
export function busyFromEvents(items: readonly unknown[], range: Interval, zone: string | undefined, except: string): Result<Interval[], 'malformed'> {
  const parsed = z.array(listedEventSchema).safeParse(items);
  if (!parsed.success) return err('malformed');
  const busy: Interval[] = [];
  for (const ev of parsed.data) {
    if (ev.status === 'cancelled') continue;
    const span = eventSpan(ev, zone);
    // An event we cannot place is unknown time: fail closed rather than call it free.
    if (!span) return err('malformed');
    if (ev.id === except || ev.transparency === 'transparent') continue;
    const start = Math.max(span.start, range.start);
    const end = Math.min(span.end, range.end);
    if (end > start) busy.push({ start, end });
  }
  return ok(busy);
}

/** Our live bookings among listed events of the booking calendar, overlapping the range. */
export function bookedFrom(items: readonly unknown[], range: Interval): Result<BookedSummary[], 'malformed'> {
  const parsed = z.array(listedEventSchema).safeParse(items);
  if (!parsed.success) return err('malformed');
  const out: BookedSummary[] = [];
  for (const ev of parsed.data) {
    if (ev.status === 'cancelled') continue;
    if (!ev.start || !ev.end) return err('malformed');
    // Someone turned the booking into an all-day event: not a slot-sized booking any more.
    if (ev.start.dateTime === undefined || ev.end.dateTime === undefined) {
      if (eventSpan(ev, 'UTC') === undefined) return err('malformed');
      continue;
    }
    const start = parseDateTime(ev.start.dateTime);
    const end = parseDateTime(ev.end.dateTime);
    if (start === undefined || end === undefined || end < start) return err('malformed');
    if (!(end > range.start && start < range.end)) continue;
    out.push({
      id: ev.id,
      start,
      end,
      serviceSlug: ev.extendedProperties?.private?.[SERVICE_KEY] ?? '',
      attendeeEmail: pickAttendee(ev.attendees).email,
    });
  }
  return ok(out);
}

/** An event answer; a deleted Google event is still served, with status "cancelled": for us it is gone. */
export function eventFrom(json: unknown): Result<WireEvent, 'malformed' | 'not_found'> {
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) return err('malformed');
  if (parsed.data.status === 'cancelled') return err('not_found');
  return ok(parsed.data);
}

/** The etag of an event answer (after an insert or a patch). */
export function etagFrom(json: unknown): Result<string, 'malformed'> {
  const parsed = eventSchema.safeParse(json);
  return parsed.success ? ok(parsed.data.etag) : err('malformed');
}

/** A booking as Creneau reads it back; a booking without clock times cannot be one of ours. */
export function toBookingEvent(ev: WireEvent): Result<BookingEvent, 'malformed'> {
  const start = ev.start.dateTime === undefined ? undefined : parseDateTime(ev.start.dateTime);
  const end = ev.end.dateTime === undefined ? undefined : parseDateTime(ev.end.dateTime);
  if (start === undefined || end === undefined || end < start) return err('malformed');
  const own = ev.extendedProperties?.private ?? {};
  const created = ev.created === undefined ? undefined : parseDateTime(ev.created);
  return ok({
    id: ev.id,
    start,
    end,
    timeZone: ev.start.timeZone ?? 'UTC',
    summary: ev.summary ?? '',
    description: ev.description ?? '',
    location: ev.location ?? '',
    organizer: { name: ev.organizer?.displayName ?? '', email: ev.organizer?.email ?? '' },
    attendee: pickAttendee(ev.attendees),
    serviceSlug: ev.extendedProperties?.private?.[SERVICE_KEY] ?? '',
    cancelled: false,
    etag: ev.etag,
    sequence: ev.sequence ?? 0,
    ...(ev.status === 'tentative' ? { status: 'TENTATIVE' as const } : {}),
    ...(own[LANG_KEY] ? { lang: own[LANG_KEY] } : {}),
    ...(own[CLIENT_TZ_KEY] ? { clientTimeZone: own[CLIENT_TZ_KEY] } : {}),
    ...(created !== undefined ? { created } : {}),
    ...(own[REMINDED_KEY] ? { reminded: own[REMINDED_KEY] } : {}),
  });
}

/** Whether an event found under our id is the booking we meant to write (a lost-answer retry). */
export function sameBooking(found: WireEvent, wanted: NewBookingEvent): boolean {
  return (
    instant(found.start) === wanted.start &&
    instant(found.end) === wanted.end &&
    found.extendedProperties?.private?.[SERVICE_KEY] === wanted.serviceSlug &&
    (found.attendees ?? []).some((a) => (a.email ?? '').toLowerCase() === wanted.attendee.email.toLowerCase())
  );
}

// ---- Writing --------------------------------------------------------------------------------

/** The events.insert body for a booking, marked as ours. */
export function insertBody(ev: NewBookingEvent): Record<string, unknown> {
  // The organizer is not sent: Google makes the calendar's owner the organizer by itself.
  return {
    id: ev.id,
    summary: ev.summary,
    description: ev.description,
    location: ev.location,
    start: eventTime(ev.start, ev.timeZone),
    end: eventTime(ev.end, ev.timeZone),
    attendees: [{ email: ev.attendee.email, displayName: ev.attendee.name }],
    extendedProperties: {
      private: {
        [MARK_KEY]: MARK_VALUE,
        [SERVICE_KEY]: ev.serviceSlug,
        ...(ev.lang ? { [LANG_KEY]: ev.lang } : {}),
        ...(ev.clientTimeZone ? { [CLIENT_TZ_KEY]: ev.clientTimeZone } : {}),
      },
    },
    ...(ev.status === 'TENTATIVE' ? { status: 'tentative' } : {}),
    reminders: { useDefault: true },
  };
}

/** An event time in UTC, with the zone Google should show it in. */
export function eventTime(ms: number, timeZone: string | undefined): { dateTime: string; timeZone?: string } {
  const dateTime = new Date(ms).toISOString();
  return timeZone ? { dateTime, timeZone } : { dateTime };
}

// ---- Helpers --------------------------------------------------------------------------------

function instant(t: EventTime): number | undefined {
  return t.dateTime === undefined ? undefined : parseDateTime(t.dateTime);
}

/** Where an event lies: dateTime as is; an all-day `date` from local midnight in the zone. */
function eventSpan(ev: ListedEvent, zone: string | undefined): Interval | undefined {
  const at = (t: EventTime | undefined): number | undefined => {
    if (t?.dateTime !== undefined) return parseDateTime(t.dateTime);
    if (t?.date === undefined || zone === undefined) return undefined;
    return dayRange(t.date, zone)?.start;
  };
  const start = at(ev.start);
  const end = at(ev.end);
  if (start === undefined || end === undefined || end < start) return undefined;
  return { start, end };
}

/** The client: the first attendee that is neither the organizer, the calendar itself nor a room. */
function pickAttendee(attendees: WireEvent['attendees']): Person {
  const list = attendees ?? [];
  const a = list.find((p) => !p.organizer && !p.self && !p.resource) ?? list[0];
  return { name: a?.displayName ?? '', email: a?.email ?? '' };
}
