import { z } from 'zod';
import type { Clock } from '../../lib/clock.js';
import { mergeIntervals, type Interval } from '../../lib/interval.js';
import { dayRange } from '../../lib/time.js';
import type {
  BookedSummary,
  BookingEvent,
  BusyOptions,
  BusyResult,
  CalendarFailure,
  CalendarInfo,
  CalendarProvider,
  CalendarResult,
  NewBookingEvent,
  Person,
  WriteFailure,
  WriteResult,
} from '../provider.js';
import { isTimeout, parseJson, readCapped, refreshAccessToken, type GoogleEndpoints } from './oauth.js';

/**
 * The Google Calendar backend: Calendar API v3 over plain `fetch`. Every failure is a value and
 * reading busy time fails closed. Requests go only to the configured endpoints, never follow
 * redirects, time out, and have their answers size-capped and schema-checked.
 */

export interface GoogleProviderOptions {
  readonly endpoints: GoogleEndpoints;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  readonly bookingCalendarId: string;
  readonly conflictCalendarIds: readonly string[];
  readonly clock: Clock;
  /**
   * The staff member's IANA zone: all-day events block local midnight to local midnight in it.
   * When absent, the zone of each calendar (as events.list reports it) is used.
   */
  readonly timeZone?: string;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number;
  /** Called once when Google says the grant is gone (invalid_grant): the staff must reconnect. */
  readonly onNeedsReconnect?: () => void;
  /** Jitter source (default Math.random). */
  readonly random?: () => number;
  /** How back-off waits (default a timer); tests pass a fast one. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Default the platform fetch; tests pass a recording one. */
  readonly fetch?: typeof fetch;
  /** Most a single call may spend waiting between retries (default 3 s). */
  readonly maxRetryWaitMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RETRY_WAIT_MS = 3_000;
const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 1_500;
/** At most two retries after a 5xx or a network error, and only for idempotent calls. */
const SERVER_RETRIES = 2;
/** Refresh a little before Google's expiry so a token never dies in flight. */
const TOKEN_SKEW_MS = 60_000;
/** A page of 250 events is far below this; more is not a calendar answer we want to hold. */
const RESPONSE_CAP = 4 * 1024 * 1024;
const MAX_PAGES = 20;
/**
 * events.list is asked this much beyond the range on each side: Google selects all-day events by
 * the calendar's zone, which may differ from the staff zone by up to 26 hours. Clipped afterwards.
 */
const ALL_DAY_SLACK_MS = 2 * 86_400_000;
/** freebusy.query takes at most 50 calendars per call. */
const FREEBUSY_BATCH = 50;
const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);
const QUOTA_REASONS = new Set(['quotaExceeded', 'dailyLimitExceeded']);
/** Marks our events: Google's privateExtendedProperty filter needs an exact `name=value`. */
const MARK_KEY = 'creneau';
const MARK_VALUE = '1';
const SERVICE_KEY = 'creneauService';

// ---- Wire schemas (only what we read; unknown members are ignored) --------------------------

const rfc3339 = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);

const googleErrorSchema = z.object({
  error: z.object({
    code: z.number().optional(),
    errors: z.array(z.object({ domain: z.string().optional(), reason: z.string().optional() })).optional(),
    status: z.string().optional(),
  }),
});

const calendarListSchema = z.object({
  items: z
    .array(
      z.object({
        id: z.string().min(1),
        summary: z.string().optional(),
        summaryOverride: z.string().optional(),
        accessRole: z.string(),
        primary: z.boolean().optional(),
        deleted: z.boolean().optional(),
      }),
    )
    .optional(),
  nextPageToken: z.string().optional(),
});

const freeBusySchema = z.object({
  calendars: z.record(
    z.string(),
    z.object({
      busy: z.array(z.object({ start: rfc3339, end: rfc3339 })).optional(),
      errors: z.array(z.object({ domain: z.string().optional(), reason: z.string().optional() })).optional(),
    }),
  ),
});

const eventTimeSchema = z.object({
  dateTime: rfc3339.optional(),
  date: z.string().optional(),
  timeZone: z.string().optional(),
});

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
  organizer: personSchema.optional(),
  attendees: z.array(personSchema).optional(),
  extendedProperties: z.object({ private: z.record(z.string(), z.string()).optional() }).optional(),
});
type GoogleEvent = z.infer<typeof eventSchema>;

/** Busy reading through events.list: only what decides busy time; the calendar's zone for all-day. */
const busyListSchema = z.object({
  items: z
    .array(
      z.object({
        id: z.string().min(1),
        status: z.string().optional(),
        transparency: z.string().optional(),
        start: eventTimeSchema.optional(),
        end: eventTimeSchema.optional(),
      }),
    )
    .optional(),
  nextPageToken: z.string().optional(),
  timeZone: z.string().optional(),
});
type BusyItem = NonNullable<z.infer<typeof busyListSchema>['items']>[number];

/** List items: a cancelled instance may come back with only id and status. */
const eventListSchema = z.object({
  items: z.array(eventSchema.partial().extend({ id: z.string().min(1) })).optional(),
  nextPageToken: z.string().optional(),
});

// ---- The provider ---------------------------------------------------------------------------

type ApiAnswer =
  | { ok: true; status: number; json: unknown; retried: boolean }
  | { ok: false; reason: WriteFailure; retried: boolean };

interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path under the API base, already encoded. */
  readonly path: string;
  readonly query?: ReadonlyArray<readonly [string, string]>;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Safe to repeat after a 5xx or a lost answer. */
  readonly idempotent: boolean;
}

type TokenOutcome = { ok: true; token: string } | { ok: false; reason: CalendarFailure };

/** A CalendarProvider over one staff member's Google connection (one refresh token). */
export function createGoogleProvider(opts: GoogleProviderOptions): CalendarProvider {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const doFetch = opts.fetch ?? fetch;
  const maxWait = opts.maxRetryWaitMs ?? DEFAULT_MAX_RETRY_WAIT_MS;
  const api = opts.endpoints.apiUrl.replace(/\/+$/, '');
  const bookingCal = encodeURIComponent(opts.bookingCalendarId);

  // ---- access token: cached in memory only, refreshed by one request at a time ----
  let cached: { token: string; expiresAt: number } | undefined;
  let refreshing: Promise<TokenOutcome> | undefined;
  let grantGone = false;

  function accessToken(): Promise<TokenOutcome> {
    // invalid_grant never heals by itself: stop asking Google until the staff reconnects.
    if (grantGone) return Promise.resolve({ ok: false, reason: 'needs_reconnect' });
    if (cached && cached.expiresAt - TOKEN_SKEW_MS > opts.clock.now()) {
      return Promise.resolve({ ok: true, token: cached.token });
    }
    refreshing ??= refresh().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  }

  async function refresh(): Promise<TokenOutcome> {
    const res = await refreshAccessToken({
      tokenUrl: opts.endpoints.tokenUrl,
      refreshToken: opts.refreshToken,
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      timeoutMs,
      fetch: doFetch,
    });
    if (res.ok) {
      cached = { token: res.value.accessToken, expiresAt: opts.clock.now() + res.value.expiresInSeconds * 1000 };
      return { ok: true, token: cached.token };
    }
    switch (res.reason) {
      case 'invalid_grant':
        grantGone = true;
        cached = undefined;
        try {
          opts.onNeedsReconnect?.();
        } catch {
          // The callback's own failure must not turn a clear outcome into a crash.
        }
        return { ok: false, reason: 'needs_reconnect' };
      case 'invalid_client':
      case 'rejected':
        return { ok: false, reason: 'unauthorized' };
      default:
        return { ok: false, reason: res.reason };
    }
  }

  // ---- one API call, with the retry policy ----
  async function call(req: ApiRequest): Promise<ApiAnswer> {
    let retried = false;
    let refreshedAfter401 = false;
    let serverRetries = 0;
    let rateAttempts = 0;
    let waited = 0;

    // Exponential back-off with jitter, bounded by the call's total waiting budget.
    const backoff = async (attempt: number, atLeastMs = 0): Promise<boolean> => {
      const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
      const delay = Math.max(atLeastMs, Math.round(ceiling / 2 + (random() * ceiling) / 2));
      if (waited + delay > maxWait) return false;
      waited += delay;
      await sleep(delay);
      return true;
    };

    const url = new URL(`${api}${req.path}`);
    for (const [k, v] of req.query ?? []) url.searchParams.append(k, v);

    for (;;) {
      const tok = await accessToken();
      if (!tok.ok) return { ok: false, reason: tok.reason, retried };
      const headers: Record<string, string> = {
        Authorization: `Bearer ${tok.token}`,
        Accept: 'application/json',
        ...(req.headers ?? {}),
      };
      if (req.body !== undefined) headers['Content-Type'] = 'application/json';

      let res: Response;
      let text: string;
      try {
        res = await doFetch(url, {
          method: req.method,
          headers,
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          // A redirect could carry the bearer token to another host: refuse it.
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
        const body = await readCapped(res, RESPONSE_CAP);
        if (!body.ok) {
          if (body.reason === 'unreachable' && req.idempotent && serverRetries < SERVER_RETRIES) {
            serverRetries += 1;
            retried = true;
            if (await backoff(serverRetries - 1)) continue;
          }
          return { ok: false, reason: body.reason, retried };
        }
        text = body.text;
      } catch (err) {
        if (isTimeout(err)) return { ok: false, reason: 'timeout', retried };
        if (req.idempotent && serverRetries < SERVER_RETRIES) {
          serverRetries += 1;
          retried = true;
          if (await backoff(serverRetries - 1)) continue;
        }
        return { ok: false, reason: 'unreachable', retried };
      }

      const json = parseJson(text);
      const status = res.status;
      if (status >= 200 && status < 300) return { ok: true, status, json, retried };

      const reasons = errorReasons(json);
      if (status === 401) {
        // The cached token may have been revoked or expired early: refresh once, then give up.
        if (!refreshedAfter401) {
          refreshedAfter401 = true;
          cached = undefined;
          continue;
        }
        return { ok: false, reason: 'unauthorized', retried };
      }
      if (status === 429 || (status === 403 && reasons.some((r) => RATE_REASONS.has(r)))) {
        if (await backoff(rateAttempts, retryAfterMs(res, opts.clock.now()))) {
          rateAttempts += 1;
          continue;
        }
        return { ok: false, reason: 'rate_limited', retried };
      }
      if (status === 403 && reasons.some((r) => QUOTA_REASONS.has(r))) {
        return { ok: false, reason: 'rate_limited', retried };
      }
      if (status >= 500) {
        if (req.idempotent && serverRetries < SERVER_RETRIES) {
          serverRetries += 1;
          retried = true;
          if (await backoff(serverRetries - 1)) continue;
        }
        return { ok: false, reason: 'unreachable', retried };
      }
      return { ok: false, reason: statusFailure(status), retried };
    }
  }

  async function pages<T>(
    path: string,
    query: ReadonlyArray<readonly [string, string]>,
    schema: z.ZodType<{ items?: T[]; nextPageToken?: string; timeZone?: string }>,
    meta?: { timeZone?: string },
  ): Promise<CalendarResult<T[]>> {
    const all: T[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const q = pageToken === undefined ? query : [...query, ['pageToken', pageToken] as const];
      const res = await call({ method: 'GET', path, query: q, idempotent: true });
      if (!res.ok) return { ok: false, error: readFailure(res.reason) };
      const parsed = schema.safeParse(res.json);
      if (!parsed.success) return { ok: false, error: 'malformed' };
      all.push(...(parsed.data.items ?? []));
      if (meta && meta.timeZone === undefined) meta.timeZone = parsed.data.timeZone;
      pageToken = parsed.data.nextPageToken;
      if (pageToken === undefined) return { ok: true, value: all };
    }
    // More pages than any real calendar has: refuse rather than answer with a partial list.
    return { ok: false, error: 'malformed' };
  }

  async function readEvent(id: string): Promise<WriteResult<GoogleEvent>> {
    const res = await call({ method: 'GET', path: `/calendars/${bookingCal}/events/${encodeURIComponent(id)}`, idempotent: true });
    if (!res.ok) return { ok: false, error: res.reason };
    const parsed = eventSchema.safeParse(res.json);
    if (!parsed.success) return { ok: false, error: 'malformed' };
    // A deleted Google event is still served, with status "cancelled": for us it is gone.
    if (parsed.data.status === 'cancelled') return { ok: false, error: 'not_found' };
    return { ok: true, value: parsed.data };
  }

  /** freebusy.query over the calendars (50 per call), merged and clipped; fails closed per calendar. */
  async function freeBusyOf(ids: readonly string[], range: Interval): Promise<BusyResult> {
    const busy: Interval[] = [];
    for (let i = 0; i < ids.length; i += FREEBUSY_BATCH) {
      const batch = ids.slice(i, i + FREEBUSY_BATCH);
      const res = await call({
        method: 'POST',
        path: '/freeBusy',
        body: {
          timeMin: new Date(range.start).toISOString(),
          timeMax: new Date(range.end).toISOString(),
          items: batch.map((id) => ({ id })),
        },
        // A query, not a write: repeating it changes nothing.
        idempotent: true,
      });
      if (!res.ok) return { ok: false, error: readFailure(res.reason) };
      const parsed = freeBusySchema.safeParse(res.json);
      if (!parsed.success) return { ok: false, error: 'malformed' };
      for (const id of batch) {
        const cal = parsed.data.calendars[id];
        // A calendar missing from the answer, or answered with errors, is unknown time: fail closed.
        if (!cal) return { ok: false, error: 'malformed' };
        if (cal.errors && cal.errors.length > 0) {
          const notFound = cal.errors.some((e) => e.reason === 'notFound');
          return { ok: false, error: notFound ? 'unauthorized' : 'unreachable' };
        }
        for (const b of cal.busy ?? []) {
          const start = Date.parse(b.start);
          const end = Date.parse(b.end);
          if (Number.isNaN(start) || Number.isNaN(end)) return { ok: false, error: 'malformed' };
          busy.push({ start: Math.max(start, range.start), end: Math.min(end, range.end) });
        }
      }
    }
    return { ok: true, value: mergeIntervals(busy) };
  }

  /**
   * Busy time of one calendar from its events (recurrences expanded by Google), leaving out the
   * event `except`: busy unless cancelled or transparent (tentative and outOfOffice are busy);
   * all-day events span the staff zone's local day. Clipped to the range, not merged.
   */
  async function eventBusy(calendarId: string, range: Interval, except: string): Promise<BusyResult> {
    const meta: { timeZone?: string } = {};
    const res = await pages(
      `/calendars/${encodeURIComponent(calendarId)}/events`,
      [
        ['singleEvents', 'true'],
        ['showDeleted', 'false'],
        ['timeMin', new Date(range.start - ALL_DAY_SLACK_MS).toISOString()],
        ['timeMax', new Date(range.end + ALL_DAY_SLACK_MS).toISOString()],
        ['maxResults', '250'],
      ],
      busyListSchema,
      meta,
    );
    if (!res.ok) return res;
    const zone = opts.timeZone ?? meta.timeZone;
    const busy: Interval[] = [];
    for (const ev of res.value) {
      if (ev.id === except || ev.status === 'cancelled' || ev.transparency === 'transparent') continue;
      const span = eventSpan(ev, zone);
      // An event we cannot place is unknown time: fail closed rather than call it free.
      if (!span) return { ok: false, error: 'malformed' };
      const start = Math.max(span.start, range.start);
      const end = Math.min(span.end, range.end);
      if (end > start) busy.push({ start, end });
    }
    return { ok: true, value: busy };
  }

  return {
    kind: 'google',
    serverSchedules: true,
    // Without an exception busy() asks freeBusy; with one it reads the events and skips that one.
    excludesFromBusy: true,

    async listCalendars() {
      const res = await pages('/users/me/calendarList', [['maxResults', '250']], calendarListSchema);
      if (!res.ok) return res;
      const calendars: CalendarInfo[] = res.value
        .filter((c) => c.deleted !== true)
        .map((c) => ({
          id: c.id,
          name: c.summaryOverride ?? c.summary ?? c.id,
          writable: c.accessRole === 'owner' || c.accessRole === 'writer',
          primary: c.primary === true,
        }));
      return { ok: true, value: calendars };
    },

    async busy(range: Interval, options?: BusyOptions): Promise<BusyResult> {
      if (range.end <= range.start) return { ok: true, value: [] };
      // The booking calendar always counts: a booking must never land on another booking.
      const ids = [...new Set([opts.bookingCalendarId, ...opts.conflictCalendarIds])];
      const except = options?.exceptBookingId;
      if (except === undefined || except === '') return freeBusyOf(ids, range);

      // One booking left out: freeBusy only has merged intervals, so read the events themselves.
      const busy: Interval[] = [];
      const freeBusyOnly: string[] = [];
      for (const id of ids) {
        const res = await eventBusy(id, range, except);
        if (res.ok) {
          busy.push(...res.value);
          continue;
        }
        // A calendar shared as free/busy only cannot be listed (404/403). Our bookings live in
        // the booking calendar, so freeBusy is exact for any other one, and still fails closed.
        if (res.error === 'unauthorized' && id !== opts.bookingCalendarId) {
          freeBusyOnly.push(id);
          continue;
        }
        return res;
      }
      if (freeBusyOnly.length > 0) {
        const res = await freeBusyOf(freeBusyOnly, range);
        if (!res.ok) return res;
        busy.push(...res.value);
      }
      return { ok: true, value: mergeIntervals(busy) };
    },

    async bookings(range: Interval): Promise<CalendarResult<BookedSummary[]>> {
      const res = await pages(
        `/calendars/${bookingCal}/events`,
        [
          ['privateExtendedProperty', `${MARK_KEY}=${MARK_VALUE}`],
          ['singleEvents', 'true'],
          ['timeMin', new Date(range.start).toISOString()],
          ['timeMax', new Date(range.end).toISOString()],
          ['maxResults', '250'],
        ],
        eventListSchema,
      );
      if (!res.ok) return res;
      const out: BookedSummary[] = [];
      for (const ev of res.value) {
        if (ev.status === 'cancelled') continue;
        const start = instant(ev.start?.dateTime);
        const end = instant(ev.end?.dateTime);
        // Someone turned the booking into an all-day event: not a slot-sized booking any more.
        if (start === undefined || end === undefined) continue;
        if (!(end > range.start && start < range.end)) continue;
        out.push({
          id: ev.id,
          start,
          end,
          serviceSlug: ev.extendedProperties?.private?.[SERVICE_KEY] ?? '',
          attendeeEmail: pickAttendee(ev.attendees).email,
        });
      }
      return { ok: true, value: out };
    },

    async createEvent(ev: NewBookingEvent): Promise<WriteResult<{ etag: string }>> {
      const res = await call({
        method: 'POST',
        path: `/calendars/${bookingCal}/events`,
        query: [['sendUpdates', 'all']],
        body: insertBody(ev),
        // Our fixed id makes a repeated insert harmless: the second one answers 409.
        idempotent: true,
      });
      if (res.ok) {
        const parsed = eventSchema.safeParse(res.json);
        return parsed.success ? { ok: true, value: { etag: parsed.data.etag } } : { ok: false, error: 'malformed' };
      }
      if (res.reason === 'conflict' && res.retried) {
        // An earlier attempt may have been created before its answer got lost: if the event
        // under our id is the one we meant to write, that is our success, not a conflict.
        const back = await readEvent(ev.id);
        if (!back.ok) return back.error === 'not_found' ? { ok: false, error: 'conflict' } : back;
        return sameBooking(back.value, ev) ? { ok: true, value: { etag: back.value.etag } } : { ok: false, error: 'conflict' };
      }
      // A 404 on insert means the booking calendar itself is gone: the staff must fix the setup.
      if (res.reason === 'not_found') return { ok: false, error: 'unauthorized' };
      return { ok: false, error: res.reason };
    },

    async getEvent(id: string): Promise<WriteResult<BookingEvent>> {
      const res = await readEvent(id);
      if (!res.ok) return res;
      const mapped = toBookingEvent(res.value);
      return mapped ? { ok: true, value: mapped } : { ok: false, error: 'malformed' };
    },

    async moveEvent(id: string, start: number, end: number, etag: string, description?: string): Promise<WriteResult<{ etag: string }>> {
      // Read first for the event's time zone (a patch replaces start/end whole) and to refuse
      // early on a stale etag; the write itself stays conditional (If-Match) against races.
      const current = await readEvent(id);
      if (!current.ok) return current;
      if (current.value.etag !== etag) return { ok: false, error: 'precondition_failed' };
      const timeZone = current.value.start.timeZone;
      const res = await call({
        method: 'PATCH',
        path: `/calendars/${bookingCal}/events/${encodeURIComponent(id)}`,
        query: [['sendUpdates', 'all']],
        headers: { 'If-Match': etag },
        body: { start: eventTime(start, timeZone), end: eventTime(end, timeZone), ...(description === undefined ? {} : { description }) },
        // Not repeated after a 5xx: the first attempt may have applied and changed the etag.
        idempotent: false,
      });
      if (!res.ok) return { ok: false, error: res.reason };
      const parsed = eventSchema.safeParse(res.json);
      return parsed.success ? { ok: true, value: { etag: parsed.data.etag } } : { ok: false, error: 'malformed' };
    },

    async cancelEvent(id: string): Promise<WriteResult<null>> {
      const res = await call({
        method: 'DELETE',
        path: `/calendars/${bookingCal}/events/${encodeURIComponent(id)}`,
        query: [['sendUpdates', 'all']],
        idempotent: true,
      });
      if (res.ok) return { ok: true, value: null };
      // Gone after a retry: our own lost-answer attempt most likely deleted it.
      if (res.reason === 'not_found' && res.retried) return { ok: true, value: null };
      return { ok: false, error: res.reason };
    },
  };
}

// ---- Mapping helpers --------------------------------------------------------------------------

function insertBody(ev: NewBookingEvent): Record<string, unknown> {
  // The organizer is not sent: Google makes the calendar's owner the organizer by itself.
  return {
    id: ev.id,
    summary: ev.summary,
    description: ev.description,
    location: ev.location,
    start: eventTime(ev.start, ev.timeZone),
    end: eventTime(ev.end, ev.timeZone),
    attendees: [{ email: ev.attendee.email, displayName: ev.attendee.name }],
    extendedProperties: { private: { [MARK_KEY]: MARK_VALUE, [SERVICE_KEY]: ev.serviceSlug } },
    reminders: { useDefault: true },
  };
}

function eventTime(ms: number, timeZone: string | undefined): { dateTime: string; timeZone?: string } {
  const dateTime = new Date(ms).toISOString();
  return timeZone ? { dateTime, timeZone } : { dateTime };
}

/** Where an event lies: dateTime as is; an all-day `date` from local midnight in the zone. */
function eventSpan(ev: BusyItem, zone: string | undefined): Interval | undefined {
  const at = (t: BusyItem['start']): number | undefined => {
    if (t?.dateTime !== undefined) return instant(t.dateTime);
    if (t?.date === undefined || zone === undefined) return undefined;
    return dayRange(t.date, zone)?.start;
  };
  const start = at(ev.start);
  const end = at(ev.end);
  if (start === undefined || end === undefined || end < start) return undefined;
  return { start, end };
}

function instant(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The client: the first attendee that is neither the organizer, the calendar itself nor a room. */
function pickAttendee(attendees: GoogleEvent['attendees']): Person {
  const list = attendees ?? [];
  const a = list.find((p) => !p.organizer && !p.self && !p.resource) ?? list[0];
  return { name: a?.displayName ?? '', email: a?.email ?? '' };
}

function toBookingEvent(ev: GoogleEvent): BookingEvent | undefined {
  const start = instant(ev.start.dateTime);
  const end = instant(ev.end.dateTime);
  if (start === undefined || end === undefined) return undefined;
  return {
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
  };
}

function sameBooking(found: GoogleEvent, wanted: NewBookingEvent): boolean {
  return (
    instant(found.start.dateTime) === wanted.start &&
    instant(found.end.dateTime) === wanted.end &&
    found.extendedProperties?.private?.[SERVICE_KEY] === wanted.serviceSlug &&
    (found.attendees ?? []).some((a) => (a.email ?? '').toLowerCase() === wanted.attendee.email.toLowerCase())
  );
}

function errorReasons(json: unknown): string[] {
  const parsed = googleErrorSchema.safeParse(json);
  if (!parsed.success) return [];
  return (parsed.data.error.errors ?? []).flatMap((e) => (e.reason === undefined ? [] : [e.reason]));
}

function retryAfterMs(res: Response, now: number): number {
  const v = res.headers.get('retry-after');
  if (v === null) return 0;
  const seconds = Number(v);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? 0 : Math.max(0, at - now);
}

function statusFailure(status: number): WriteFailure {
  switch (status) {
    case 400:
      return 'malformed';
    case 403:
      return 'unauthorized';
    case 404:
    case 410:
      return 'not_found';
    case 409:
      return 'conflict';
    case 412:
      return 'precondition_failed';
    default:
      return 'unreachable';
  }
}

/** Reads have no write outcomes: a missing calendar is a setup problem the staff must fix. */
function readFailure(reason: WriteFailure): CalendarFailure {
  switch (reason) {
    case 'not_found':
      return 'unauthorized';
    case 'conflict':
    case 'precondition_failed':
      return 'malformed';
    default:
      return reason;
  }
}
