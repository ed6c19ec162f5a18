import { mergeIntervals, type Interval } from '../../lib/interval.js';
import { err, ok } from '../../lib/result.js';
import type {
  BookedSummary,
  BookingEvent,
  BusyOptions,
  BusyResult,
  CalendarInfo,
  CalendarProvider,
  CalendarResult,
  NewBookingEvent,
  WriteResult,
} from '../provider.js';
import { createGoogleClient, readFailure, type GoogleClient, type GoogleClientOptions } from './google-client.js';
import {
  bookedFrom,
  busyFromEvents,
  calendarsFrom,
  etagFrom,
  eventFrom,
  eventTime,
  freeBusyBody,
  freeBusyFrom,
  insertBody,
  MARK_KEY,
  MARK_VALUE,
  REMINDED_KEY,
  sameBooking,
  toBookingEvent,
  type WireEvent,
} from './google-map.js';

/**
 * The Google Calendar backend: Calendar API v3 over plain `fetch`. The HTTP side (token, retries,
 * paging, limits) is google-client.ts, the reading of Google's data google-map.ts; this file
 * decides which calls a provider operation makes. Every failure is a value and reading busy time
 * fails closed.
 */

export interface GoogleProviderOptions extends GoogleClientOptions {
  readonly bookingCalendarId: string;
  readonly conflictCalendarIds: readonly string[];
  /**
   * The staff member's IANA zone: all-day events block local midnight to local midnight in it.
   * When absent, the zone of each calendar (as events.list reports it) is used.
   */
  readonly timeZone?: string;
}

/**
 * events.list is asked this much beyond the range on each side: Google selects all-day events by
 * the calendar's zone, which may differ from the staff zone by up to 26 hours. Clipped afterwards.
 */
const ALL_DAY_SLACK_MS = 2 * 86_400_000;
/** freebusy.query takes at most 50 calendars per call. */
const FREEBUSY_BATCH = 50;

interface Ctx {
  readonly client: GoogleClient;
  readonly opts: GoogleProviderOptions;
  /** The booking calendar's id, encoded for a path. */
  readonly bookingCal: string;
}

/** A CalendarProvider over one staff member's Google connection (one refresh token). */
export function createGoogleProvider(opts: GoogleProviderOptions): CalendarProvider {
  const ctx: Ctx = { client: createGoogleClient(opts), opts, bookingCal: encodeURIComponent(opts.bookingCalendarId) };
  return {
    kind: 'google',
    serverSchedules: true,
    // Without an exception busy() asks freeBusy; with one it reads the events and skips that one.
    excludesFromBusy: true,
    listCalendars: () => listCalendars(ctx),
    busy: (range, options) => busy(ctx, range, options),
    bookings: (range) => bookings(ctx, range),
    createEvent: (ev) => createEvent(ctx, ev),
    getEvent: async (id) => {
      const res = await readEvent(ctx, id);
      if (!res.ok) return res;
      const mapped = toBookingEvent(res.value);
      return mapped.ok ? ok(mapped.value) : err(mapped.error);
    },
    moveEvent: (id, start, end, etag, description) => moveEvent(ctx, { id, start, end, etag, description }),
    cancelEvent: (id) => cancelEvent(ctx, id),
    upcoming: (range) => upcoming(ctx, range),
    markReminded: (id, etag, marker) => markReminded(ctx, id, etag, marker),
    // The client is invited now, when the request is approved (the insert sent nothing).
    confirmEvent: (id, etag) => patchEvent(ctx, id, etag, { status: 'confirmed' }, 'all'),
  };
}

async function listCalendars(ctx: Ctx): Promise<CalendarResult<CalendarInfo[]>> {
  const res = await ctx.client.list('/users/me/calendarList', [['maxResults', '250']]);
  if (!res.ok) return err(res.error);
  const calendars = calendarsFrom(res.value.items);
  return calendars.ok ? ok(calendars.value) : err(calendars.error);
}

async function busy(ctx: Ctx, range: Interval, options?: BusyOptions): Promise<BusyResult> {
  if (range.end <= range.start) return ok([]);
  // The booking calendar always counts: a booking must never land on another booking.
  const ids = [...new Set([ctx.opts.bookingCalendarId, ...ctx.opts.conflictCalendarIds])];
  const except = options?.exceptBookingId;
  if (except === undefined || except === '') return freeBusyOf(ctx, ids, range);

  // One booking left out: freeBusy only has merged intervals, so read the events themselves.
  const found: Interval[] = [];
  const freeBusyOnly: string[] = [];
  for (const id of ids) {
    const res = await eventBusy(ctx, id, range, except);
    if (res.ok) {
      found.push(...res.value);
      continue;
    }
    // A calendar shared as free/busy only cannot be listed (404/403). Our bookings live in
    // the booking calendar, so freeBusy is exact for any other one, and still fails closed.
    if (res.error === 'unauthorized' && id !== ctx.opts.bookingCalendarId) {
      freeBusyOnly.push(id);
      continue;
    }
    return res;
  }
  if (freeBusyOnly.length > 0) {
    const res = await freeBusyOf(ctx, freeBusyOnly, range);
    if (!res.ok) return res;
    found.push(...res.value);
  }
  return ok(mergeIntervals(found));
}

/** freebusy.query over the calendars (50 per call), merged and clipped; fails closed per calendar. */
async function freeBusyOf(ctx: Ctx, ids: readonly string[], range: Interval): Promise<BusyResult> {
  const found: Interval[] = [];
  for (let i = 0; i < ids.length; i += FREEBUSY_BATCH) {
    const batch = ids.slice(i, i + FREEBUSY_BATCH);
    // A query, not a write: repeating it changes nothing.
    const res = await ctx.client.call({ method: 'POST', path: '/freeBusy', body: freeBusyBody(batch, range), idempotent: true });
    if (!res.ok) return err(readFailure(res.error.reason));
    const mapped = freeBusyFrom(res.value.json, batch, range);
    if (!mapped.ok) return err(mapped.error);
    found.push(...mapped.value);
  }
  return ok(mergeIntervals(found));
}

/** Busy time of one calendar from its events, leaving out the event `except`. */
async function eventBusy(ctx: Ctx, calendarId: string, range: Interval, except: string): Promise<BusyResult> {
  const res = await ctx.client.list(`/calendars/${encodeURIComponent(calendarId)}/events`, [
    ['singleEvents', 'true'],
    ['showDeleted', 'false'],
    ['timeMin', new Date(range.start - ALL_DAY_SLACK_MS).toISOString()],
    ['timeMax', new Date(range.end + ALL_DAY_SLACK_MS).toISOString()],
    ['maxResults', '250'],
  ]);
  if (!res.ok) return err(res.error);
  const mapped = busyFromEvents(res.value.items, range, ctx.opts.timeZone ?? res.value.timeZone, except);
  return mapped.ok ? ok(mapped.value) : err(mapped.error);
}

/** Creneau's own events (marked by a private property) in the booking calendar, overlapping the range. */
function ourEvents(ctx: Ctx, range: Interval) {
  return ctx.client.list(`/calendars/${ctx.bookingCal}/events`, [
    ['privateExtendedProperty', `${MARK_KEY}=${MARK_VALUE}`],
    ['singleEvents', 'true'],
    ['timeMin', new Date(range.start).toISOString()],
    ['timeMax', new Date(range.end).toISOString()],
    ['maxResults', '250'],
  ]);
}

async function bookings(ctx: Ctx, range: Interval): Promise<CalendarResult<BookedSummary[]>> {
  const res = await ourEvents(ctx, range);
  if (!res.ok) return err(res.error);
  const mapped = bookedFrom(res.value.items, range);
  return mapped.ok ? ok(mapped.value) : err(mapped.error);
}

function eventPath(ctx: Ctx, id: string): string {
  return `/calendars/${ctx.bookingCal}/events/${encodeURIComponent(id)}`;
}

async function readEvent(ctx: Ctx, id: string): Promise<WriteResult<WireEvent>> {
  const res = await ctx.client.call({ method: 'GET', path: eventPath(ctx, id), idempotent: true });
  if (!res.ok) return err(res.error.reason);
  const ev = eventFrom(res.value.json);
  return ev.ok ? ok(ev.value) : err(ev.error);
}

async function createEvent(ctx: Ctx, ev: NewBookingEvent): Promise<WriteResult<{ etag: string }>> {
  const res = await ctx.client.call({
    method: 'POST',
    path: `/calendars/${ctx.bookingCal}/events`,
    // A request awaiting approval invites nobody yet (confirmEvent does, once approved).
    query: [['sendUpdates', ev.status === 'TENTATIVE' ? 'none' : 'all']],
    body: insertBody(ev),
    // Our fixed id makes a repeated insert harmless: the second one answers 409.
    idempotent: true,
  });
  if (res.ok) {
    const etag = etagFrom(res.value.json);
    return etag.ok ? ok({ etag: etag.value }) : err(etag.error);
  }
  if (res.error.reason === 'conflict' && res.error.retried) {
    // An earlier attempt may have been created before its answer got lost: if the event
    // under our id is the one we meant to write, that is our success, not a conflict.
    const back = await readEvent(ctx, ev.id);
    if (!back.ok) return back.error === 'not_found' ? err('conflict') : back;
    return sameBooking(back.value, ev) ? ok({ etag: back.value.etag }) : err('conflict');
  }
  // A 404 on insert means the booking calendar itself is gone: the staff must fix the setup.
  if (res.error.reason === 'not_found') return err('unauthorized');
  return err(res.error.reason);
}

interface Move {
  readonly id: string;
  readonly start: number;
  readonly end: number;
  readonly etag: string;
  readonly description: string | undefined;
}

async function moveEvent(ctx: Ctx, m: Move): Promise<WriteResult<{ etag: string }>> {
  // Read first for the event's time zone (a patch replaces start/end whole) and to refuse
  // early on a stale etag; the write itself stays conditional (If-Match) against races.
  const current = await readEvent(ctx, m.id);
  if (!current.ok) return current;
  if (current.value.etag !== m.etag) return err('precondition_failed');
  const timeZone = current.value.start.timeZone;
  const res = await ctx.client.call({
    method: 'PATCH',
    path: eventPath(ctx, m.id),
    query: [['sendUpdates', 'all']],
    headers: { 'If-Match': m.etag },
    body: { start: eventTime(m.start, timeZone), end: eventTime(m.end, timeZone), ...(m.description === undefined ? {} : { description: m.description }) },
    // Not repeated after a 5xx: the first attempt may have applied and changed the etag.
    idempotent: false,
  });
  if (!res.ok) return err(res.error.reason);
  const etag = etagFrom(res.value.json);
  return etag.ok ? ok({ etag: etag.value }) : err(etag.error);
}

async function cancelEvent(ctx: Ctx, id: string): Promise<WriteResult<null>> {
  const res = await ctx.client.call({ method: 'DELETE', path: eventPath(ctx, id), query: [['sendUpdates', 'all']], idempotent: true });
  if (res.ok) return ok(null);
  // Gone after a retry: our own lost-answer attempt most likely deleted it.
  if (res.error.reason === 'not_found' && res.error.retried) return ok(null);
  return err(res.error.reason);
}

/** Our booking events starting in the range, with etag, creation time and reminder marker; cancelled ones left out. */
async function upcoming(ctx: Ctx, range: Interval): Promise<CalendarResult<BookingEvent[]>> {
  const res = await ourEvents(ctx, range);
  if (!res.ok) return err(res.error);
  const out: BookingEvent[] = [];
  for (const item of res.value.items) {
    const wire = eventFrom(item);
    // A cancelled event is gone for us; anything else unreadable fails the read (closed).
    if (!wire.ok) {
      if (wire.error === 'not_found') continue;
      return err('malformed');
    }
    const ev = toBookingEvent(wire.value);
    if (!ev.ok) return err('malformed');
    if (ev.value.start >= range.start && ev.value.start < range.end) out.push(ev.value);
  }
  out.sort((a, b) => a.start - b.start);
  return ok(out);
}

/** A conditional patch (If-Match); never repeated after a 5xx (it may have applied). */
async function patchEvent(ctx: Ctx, id: string, etag: string, body: Record<string, unknown>, sendUpdates: 'all' | 'none'): Promise<WriteResult<{ etag: string }>> {
  const res = await ctx.client.call({ method: 'PATCH', path: eventPath(ctx, id), query: [['sendUpdates', sendUpdates]], headers: { 'If-Match': etag }, body, idempotent: false });
  if (!res.ok) return err(res.error.reason);
  const tag = etagFrom(res.value.json);
  return tag.ok ? ok({ etag: tag.value }) : err(tag.error);
}

async function markReminded(ctx: Ctx, id: string, etag: string, marker: string): Promise<WriteResult<{ etag: string }>> {
  // Read for the other private properties (the whole map is sent back, whatever Google's merge
  // rules for maps); the write is conditional on the etag the scan decided on.
  const current = await readEvent(ctx, id);
  if (!current.ok) return current;
  if (current.value.etag !== etag) return err('precondition_failed');
  const own = current.value.extendedProperties?.private ?? {};
  return patchEvent(ctx, id, etag, { extendedProperties: { private: { ...own, [REMINDED_KEY]: marker } } }, 'none');
}
