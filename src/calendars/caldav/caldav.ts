import type { Interval } from '../../lib/interval.js';
import type { Clock } from '../../lib/clock.js';
import { systemClock } from '../../lib/clock.js';
import { err, ok } from '../../lib/result.js';
import type { Result } from '../../lib/result.js';
import type {
  BookedSummary,
  BookingEvent,
  BusyOptions,
  BusyResult,
  CalendarFailure,
  CalendarProvider,
  CalendarResult,
  InvitedBy,
  NewBookingEvent,
  WriteResult,
  Written,
} from '../provider.js';
import { sharedBusyPool } from '../busy-pool.js';
import type { BusyEngine } from '../busy-pool.js';
import { buildBookingIcs, cancelBookingIcs, confirmedIcs, moveBookingIcs, parseBookingIcs, withReminderMarker } from '../ics.js';
import { dav, failed, failureOfStatus, propfind } from './dav.js';
import { calendarUserAddresses, discoverCaldav } from './discovery.js';
import { createTransport } from './http.js';
import type { HttpResponse } from './http.js';
import { collectionUrl, objectsOf, textOf } from './map.js';
import { attendeeScheduling, invitedByOf, inviterFor } from './scheduling.js';
import { createCalendarViews, timeRangeQuery, truncated } from './view.js';

export { discoverCaldav } from './discovery.js';
export type { DiscoverFailure, DiscoverOptions, Discovered } from './discovery.js';

/**
 * CalDAV provider: the HTTP client (http.ts, dav.ts), the calendars' in-memory views
 * (view.ts) and the mapping of answers (map.ts) put together. Busy time is expanded by
 * Creneau (busy.ts, in a worker under a budget) from every object of each conflict calendar
 * that the server says overlaps the range (one time-range REPORT each, view.ts `window`).
 */

/** Time one busy read may take over all its requests (several calendars are read at once). */
const READ_DEADLINE_MS = 6_000;
/**
 * How long the booking calendar's bookings, read with the busy time, answer `bookings()`: long
 * enough for the counts a booking makes right after its live read (one read, one snapshot),
 * short enough to be no cache. Any write through this provider drops them.
 */
const SAME_READ_MS = 2_000;

export interface CaldavProviderOptions {
  readonly username: string;
  readonly password: string;
  readonly bookingCalendarUrl: string;
  readonly conflictCalendarUrls: readonly string[];
  readonly allowHosts: readonly string[];
  /** Host of CRENEAU_BASE_URL, for UID = `<id>@<host>`. */
  readonly uidHost: string;
  /** Staff time zone: floating times and all-day events are read in it. */
  readonly timeZone: string;
  /** From discoverCaldav (RFC 6638 auto-schedule); false = Creneau sends iMIP itself. */
  readonly serverSchedules?: boolean;
  /** The origin the staff member entered: no credential is sent anywhere else (defaults to the booking calendar's). */
  readonly origin?: string;
  readonly timeoutMs?: number;
  readonly clock?: Clock;
  /** Where calendar data is parsed and expanded (defaults to the shared worker pool). */
  readonly engine?: BusyEngine;
}

const ID = /^[0-9a-v]{1,64}$/;

type Transport = ReturnType<typeof createTransport>;

/** A resource's current ETag (PROPFIND depth 0). */
async function etagOf(t: Transport, url: string): Promise<CalendarResult<string>> {
  const r = await propfind(t, url, '0', '<d:getetag/>');
  if (!r.ok) return failed(r);
  const etag = textOf(r.value.items[0]?.props['getetag']);
  return etag ? ok(etag) : err('malformed');
}

/** The ETag after a write: from the answer when strong, else read back. */
async function written(t: Transport, res: HttpResponse, url: string): Promise<WriteResult<{ etag: string }>> {
  const etag = res.headers['etag'];
  if (etag && !etag.startsWith('W/')) return ok({ etag });
  const read = await etagOf(t, url);
  return read.ok ? ok({ etag: read.value }) : read;
}

/** Booking events starting in the range with their ETag (one REPORT of the booking calendar); tombstones left out. */
async function upcomingIn(t: Transport, booking: string, range: Interval): Promise<CalendarResult<BookingEvent[]>> {
  const r = await dav(t, 'REPORT', booking, '1', timeRangeQuery(range.start, range.end));
  if (!r.ok) return failed(r);
  const objects = objectsOf(r.value.items, booking, { allowGone: false });
  if (!objects.ok) return objects;
  const out: BookingEvent[] = [];
  for (const o of objects.value) {
    // Without an ETag the marker cannot be written conditionally: the scan leaves such an event alone.
    if (o.gone || !o.etag) continue;
    const ev = parseBookingIcs(o.data);
    if (!ev || ev.cancelled || ev.start < range.start || ev.start >= range.end) continue;
    out.push({ ...ev, etag: o.etag });
  }
  out.sort((a, b) => a.start - b.start);
  return ok(out);
}

/** An object of the booking calendar as bookings() reads it (null: not one of ours). */
type BookingSeen = ReturnType<typeof parseBookingIcs>;

/** The booking calendar's objects overlapping a range, as bookings (null: not one of ours), by one time-range REPORT. */
async function bookingObjects(t: Transport, booking: string, range: Interval): Promise<CalendarResult<BookingSeen[]>> {
  const r = await dav(t, 'REPORT', booking, '1', timeRangeQuery(range.start, range.end));
  if (!r.ok) return failed(r);
  if (truncated(r.value.items, booking)) return err('malformed');
  const objects = objectsOf(r.value.items, booking, { allowGone: false });
  if (!objects.ok) return objects;
  return ok(objects.value.map((o) => (o.gone ? null : parseBookingIcs(o.data))));
}

/** The live bookings among what was read, overlapping the range, in time order. */
function summariesOf(seen: readonly BookingSeen[], range: Interval): BookedSummary[] {
  const out: BookedSummary[] = [];
  for (const ev of seen) {
    if (!ev || ev.cancelled || !(ev.start < range.end && ev.end > range.start)) continue;
    out.push({ id: ev.id, start: ev.start, end: ev.end, serviceSlug: ev.serviceSlug, attendeeEmail: ev.attendee.email });
  }
  return out.sort((a, b) => a.start - b.start);
}

/**
 * The account's own addresses (its calendar-user-address-set, and the user name when it is an
 * e-mail address): an event their owner declined is free. Unreadable → none (then it is busy).
 */
function selfAddressesOf(read: readonly string[] | null, username: string): string[] {
  return [...(read ?? []), ...(username.includes('@') ? [`mailto:${username}`] : [])];
}

/** A CalendarProvider for one CalDAV connection (booking calendar + conflict calendars). */
export function createCaldavProvider(opts: CaldavProviderOptions): CalendarProvider {
  const origin = opts.origin ?? new URL(opts.bookingCalendarUrl).origin;
  const t = createTransport({ ...opts, origin });
  const clock = opts.clock ?? systemClock;
  const engine = opts.engine ?? sharedBusyPool();
  const booking = collectionUrl(opts.bookingCalendarUrl);
  const conflicts = opts.conflictCalendarUrls.map(collectionUrl);
  const eventUrl = (id: string): string => new URL(`${id}.ics`, booking).href;
  const views = createCalendarViews(t, (texts) => engine.minimize(texts));
  // The worker keeps each calendar's parsed objects under this key between reads.
  const readerKey = `caldav:${origin}:${booking}:${opts.username}`;
  const autoSchedule = opts.serverSchedules ?? false;
  /** The account's calendar-user addresses, read once for scheduling and busy reads alike; null when unreadable. */
  let account: Promise<string[] | null> | undefined;
  const accountAddresses = (): Promise<string[] | null> => (account ??= calendarUserAddresses(t, booking));

  /** The addresses a scheduling server invites for (a failed read is tried again next time). */
  async function addresses(): Promise<string[] | null> {
    if (!autoSchedule) return null;
    const read = await accountAddresses();
    if (!read) account = undefined;
    return read;
  }
  /** Who is expected to invite for a stored booking (its attendee's SCHEDULE-AGENT first). */
  async function expectedInviter(ics: string, organizerEmail: string): Promise<InvitedBy> {
    if (attendeeScheduling(ics)?.agent === 'CLIENT') return 'creneau';
    return inviterFor(autoSchedule, await addresses(), organizerEmail);
  }

  /** The booking calendar's bookings as the last time-range busy read saw them (see SAME_READ_MS). */
  let lastRead: { readonly covered: Interval; readonly at: number; readonly texts: readonly string[] } | undefined;

  async function http(method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<Result<HttpResponse, CalendarFailure>> {
    if (method !== 'GET') lastRead = undefined;
    return t.request({ method, url, headers, ...(body === undefined ? {} : { body }) });
  }

  /**
   * After a write: the ETag, and who invited. A server expected to schedule must report it in
   * the attendee's SCHEDULE-STATUS (RFC 6638 §3.2.9), so the stored event is read back.
   */
  async function settled(res: HttpResponse, url: string, expected: InvitedBy): Promise<WriteResult<Written>> {
    if (expected === 'creneau') {
      const w = await written(t, res, url);
      return w.ok ? ok({ etag: w.value.etag, invitedBy: 'creneau' }) : w;
    }
    const back = await http('GET', url, { accept: 'text/calendar' });
    if (!back.ok) return back;
    if (back.value.status !== 200) return err(failureOfStatus(back.value.status));
    let etag = back.value.headers['etag'];
    if (!etag || etag.startsWith('W/')) {
      const e = await etagOf(t, url);
      if (!e.ok) return e;
      etag = e.value;
    }
    return ok({ etag, invitedBy: invitedByOf(expected, attendeeScheduling(back.value.body.toString('utf8'))) });
  }

  /** The current booking event's resource, or why there is none. */
  async function current(id: string): Promise<WriteResult<HttpResponse>> {
    if (!ID.test(id)) return err('not_found');
    const r = await http('GET', eventUrl(id), { accept: 'text/calendar' });
    if (!r.ok) return r;
    const { status } = r.value;
    if (status === 404 || status === 410) return err('not_found');
    if (status !== 200) return err(failureOfStatus(status));
    return r;
  }

  const ICS_TYPE = { 'content-type': 'text/calendar; charset=utf-8' };

  /**
   * Rewrites one booking (not a tombstone) with `edit` only while it still has `etag` (If-Match;
   * null = the version just read, when the server gave a strong ETag); the inviter is as for a move.
   */
  async function rewrite(id: string, given: string | null, edit: (ics: string) => string | null): Promise<WriteResult<Written>> {
    const now = await current(id);
    if (!now.ok) return now;
    const currentEtag = now.value.headers['etag'];
    if (given !== null && currentEtag && currentEtag !== given) return err('precondition_failed');
    const etag = given ?? (currentEtag && !currentEtag.startsWith('W/') ? currentEtag : null);
    const currentIcs = now.value.body.toString('utf8');
    const parsed = parseBookingIcs(currentIcs);
    if (!parsed || parsed.cancelled) return err('not_found');
    const next = edit(currentIcs);
    if (!next) return err('malformed');
    const expected = await expectedInviter(currentIcs, parsed.organizer.email);
    const url = eventUrl(id);
    const r = await http('PUT', url, { ...ICS_TYPE, ...(etag ? { 'if-match': etag } : {}) }, next);
    if (!r.ok) return r;
    const { status } = r.value;
    if (status === 412) return err('precondition_failed');
    if (status === 404 || status === 410) return err('not_found');
    if (status !== 200 && status !== 204 && status !== 201) return err(failureOfStatus(status));
    return settled(r.value, url, expected);
  }

  return {
    kind: 'caldav',
    serverSchedules: opts.serverSchedules ?? false,
    excludesFromBusy: true,

    async listCalendars() {
      const r = await discoverCaldav({ ...opts, url: booking });
      // A calendar on another origin is refused here as any other request to it would be.
      return r.ok ? ok(r.value.calendars) : err(typeof r.error === 'string' ? r.error : 'refused');
    },

    async busy(range: Interval, options?: BusyOptions): Promise<BusyResult> {
      const deadline = Date.now() + Math.min(READ_DEADLINE_MS, opts.timeoutMs ?? READ_DEADLINE_MS);
      const thorough = options?.thorough ?? false;
      // Before a write, the booking calendar's answer is kept a moment for the counts that follow (parsed only if asked).
      const keep = (texts: readonly string[], covered: Interval): void => void (lastRead = { covered, at: Date.now(), texts });
      const results = await Promise.all(conflicts.map((c) => views.window(c, range, thorough, deadline, thorough && c === booking ? keep : undefined)));
      const texts: string[] = [];
      // Our own booking is one object whose UID is `<id>@<host>` (ids are [0-9a-v], host checked).
      const own = options?.exceptBookingId && ID.test(options.exceptBookingId) ? `\nUID:${options.exceptBookingId}@${opts.uidHost}\r` : null;
      for (const r of results) {
        if (!r.ok) return r;
        for (const text of r.value) if (own === null || !text.includes(own)) texts.push(text);
      }
      return engine.busy(readerKey, texts, range, opts.timeZone, deadline, selfAddressesOf(await accountAddresses(), opts.username));
    },

    async bookings(range: Interval) {
      let seen: readonly BookingSeen[];
      const last = lastRead;
      if (last && Date.now() - last.at < SAME_READ_MS && last.covered.start <= range.start && last.covered.end >= range.end) {
        // The busy read just made covered this range: the same snapshot, no second request.
        seen = last.texts.map(parseBookingIcs);
      } else {
        const read = await bookingObjects(t, booking, range);
        if (!read.ok) return read;
        seen = read.value;
      }
      return ok(summariesOf(seen, range));
    },

    upcoming: (range: Interval) => upcomingIn(t, booking, range),

    markReminded: (id: string, etag: string, marker: string) => rewrite(id, etag, (ics) => withReminderMarker(ics, marker)),
    confirmEvent: (id: string, etag: string) => rewrite(id, etag, (ics) => confirmedIcs(ics, clock.now())),

    async createEvent(event: NewBookingEvent) {
      const url = eventUrl(event.id);
      // A request awaiting approval invites nobody: Creneau sends the invitation once it is approved.
      const expected = event.status === 'TENTATIVE' ? 'creneau' : inviterFor(autoSchedule, await addresses(), event.organizer.email);
      const ics = buildBookingIcs(event, { uidHost: opts.uidHost, sequence: 0, status: event.status ?? 'CONFIRMED', stamp: clock.now(), scheduleAgentClient: expected === 'creneau' });
      const r = await http('PUT', url, { ...ICS_TYPE, 'if-none-match': '*' }, ics);
      if (!r.ok) return r;
      const { status } = r.value;
      if (status === 412 || status === 409) return err('conflict');
      if (status !== 201 && status !== 204 && status !== 200) return err(failureOfStatus(status));
      return settled(r.value, url, expected);
    },

    async getEvent(id: string): Promise<WriteResult<BookingEvent>> {
      const r = await current(id);
      if (!r.ok) return r;
      const body = r.value.body.toString('utf8');
      const ev = parseBookingIcs(body);
      if (!ev || ev.id !== id) return err('malformed');
      let etag = r.value.headers['etag'];
      if (!etag || etag.startsWith('W/')) {
        const e = await etagOf(t, eventUrl(id));
        if (!e.ok) return e;
        etag = e.value;
      }
      const invitedBy = invitedByOf(await expectedInviter(body, ev.organizer.email), attendeeScheduling(body));
      return ok({ ...ev, etag, invitedBy });
    },

    moveEvent(id: string, start: number, end: number, etag: string, description?: string) {
      if (!(end > start)) return Promise.resolve(err('malformed' as const));
      return rewrite(id, etag, (ics) => moveBookingIcs(ics, start, end, clock.now(), description));
    },

    /** Cancels by rewriting the event as a tombstone (STATUS:CANCELLED, If-Match), never by deleting it: see cancelBookingIcs. */
    async cancelEvent(id: string, note?: string) {
      const w = await rewrite(id, null, (ics) => cancelBookingIcs(ics, clock.now(), note));
      return w.ok ? ok(null) : w;
    },
  };
}
