import { davRequest } from 'tsdav';
import ICAL from 'ical.js';
import type { Interval } from '../../lib/interval.js';
import type { Clock } from '../../lib/clock.js';
import { systemClock } from '../../lib/clock.js';
import type {
  BookedSummary,
  BookingEvent,
  BusyOptions,
  BusyResult,
  CalendarFailure,
  CalendarInfo,
  CalendarProvider,
  CalendarResult,
  InvitedBy,
  NewBookingEvent,
  WriteResult,
  Written,
} from '../provider.js';
import { busyReader } from '../busy.js';
import { buildBookingIcs, moveBookingIcs, parseBookingIcs } from '../ics.js';
import { createTransport, TransportError } from './http.js';
import { attendeeScheduling, invitedByOf, inviterFor, mailtoAddresses } from './scheduling.js';
import type { HttpResponse, Transport } from './http.js';

/**
 * CalDAV provider. tsdav builds and parses the WebDAV XML; every request goes through our guarded
 * transport (http.ts) and every status is checked here, because tsdav does not throw on HTTP
 * errors. Busy time is expanded by Creneau (busy.ts) from ALL objects of each conflict calendar:
 * an ETag listing is re-read on every call and only changed objects are downloaded again.
 */

const NS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"';
const XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>';
/** Objects one calendar may hold before we refuse to read it (fail closed). */
const MAX_OBJECTS = 10_000;
const MULTIGET_BATCH = 200;
/** The in-memory view of a calendar is dropped after this long unused (DESIGN.md §1.1). */
const VIEW_TTL_MS = 60_000;

interface DavItem {
  readonly href: string;
  readonly status: number;
  readonly props: Readonly<Record<string, unknown>>;
}

type DavResult = { ok: true; items: DavItem[]; url: string } | { ok: false; reason: CalendarFailure; status?: number };

/** A failure as callers see it (the HTTP status stays internal). */
function failed(r: { reason: CalendarFailure }): { ok: false; reason: CalendarFailure } {
  return { ok: false, reason: r.reason };
}

function failureOfStatus(status: number): CalendarFailure {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'unreachable';
  return 'malformed';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function list(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** Text content of a parsed XML element (tsdav turns text into strings or numbers; CDATA stays wrapped). */
function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (isRecord(v)) {
    if (typeof v['_cdata'] === 'string') return v['_cdata'];
    if (v['_text'] !== undefined) return textOf(v['_text']);
  }
  return undefined;
}

/**
 * A CTag as the server wrote it, or undefined. The XML layer turns digit-only text
 * into numbers; only those that convert back exactly are kept (anything else: no tag, so the
 * calendar is listed as if the server had none).
 */
function tagOf(v: unknown): string | undefined {
  const raw = isRecord(v) ? v['_text'] : v;
  if (typeof raw === 'number' && !Number.isSafeInteger(raw)) return undefined;
  return textOf(v) || undefined;
}

function hrefsOf(v: unknown): string[] {
  const out: string[] = [];
  for (const el of list(v)) {
    if (!isRecord(el)) continue;
    for (const h of list(el['href'])) {
      const t = textOf(h);
      if (t) out.push(t);
    }
  }
  return out;
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Path of a URL, percent-decoded, so hrefs from different responses compare equal. */
function pathKey(href: string, base: string): string {
  const p = new URL(href, base).pathname;
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

function collectionUrl(u: string): string {
  const url = new URL(u);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  url.hash = '';
  return url.href;
}

async function dav(t: Transport, method: string, url: string, depth: '0' | '1', body: string): Promise<DavResult> {
  let raw: unknown[];
  try {
    raw = await davRequest({
      url,
      init: { method: method as 'PROPFIND', headers: { depth, 'content-type': 'application/xml; charset=utf-8' }, body },
      convertIncoming: false,
      fetch: t.fetch,
    });
  } catch (err) {
    if (err instanceof TransportError) return { ok: false, reason: err.reason };
    return { ok: false, reason: 'malformed' };
  }
  const first = raw[0];
  if (!isRecord(first)) return { ok: false, reason: 'malformed' };
  const httpStatus = typeof first['status'] === 'number' ? first['status'] : 0;
  if (!('props' in first)) {
    // An empty multistatus: tsdav returns one item without props.
    if (isRecord(first['raw']) && isRecord(first['raw']['multistatus'])) return { ok: true, items: [], url };
    // Not a multistatus (an error status, or XML tsdav could not parse).
    if (httpStatus === 207 || (httpStatus >= 200 && httpStatus < 300)) return { ok: false, reason: 'malformed' };
    return { ok: false, reason: failureOfStatus(httpStatus), status: httpStatus };
  }
  if (raw.length > MAX_OBJECTS + 1) return { ok: false, reason: 'malformed' };
  const items: DavItem[] = [];
  for (const r of raw) {
    if (!isRecord(r) || typeof r['href'] !== 'string') return { ok: false, reason: 'malformed' };
    items.push({ href: r['href'], status: typeof r['status'] === 'number' ? r['status'] : 0, props: isRecord(r['props']) ? r['props'] : {} });
  }
  return { ok: true, items, url };
}

async function propfind(t: Transport, url: string, depth: '0' | '1', props: string): Promise<DavResult> {
  return dav(t, 'PROPFIND', url, depth, `${XML_HEAD}<d:propfind ${NS}><d:prop>${props}</d:prop></d:propfind>`);
}

function hasKey(v: unknown, key: string): boolean {
  return list(v).some((el) => isRecord(el) && key in el);
}

function privileges(props: Readonly<Record<string, unknown>>): string[] | null {
  const set = props['currentUserPrivilegeSet'];
  if (!isRecord(set)) return null;
  const out: string[] = [];
  for (const p of list(set['privilege'])) if (isRecord(p)) out.push(...Object.keys(p));
  return out;
}

function components(props: Readonly<Record<string, unknown>>): string[] | null {
  const set = props['supportedCalendarComponentSet'];
  if (!isRecord(set)) return null;
  const out: string[] = [];
  for (const c of list(set['comp'])) {
    if (isRecord(c) && isRecord(c['_attributes'])) {
      const name = c['_attributes']['name'];
      if (typeof name === 'string') out.push(name.toUpperCase());
    }
  }
  return out;
}

function calendarInfoOf(item: DavItem, base: string): CalendarInfo | null {
  if (!hasKey(item.props['resourcetype'], 'calendar')) return null;
  const comps = components(item.props);
  if (comps && !comps.includes('VEVENT')) return null;
  const privs = privileges(item.props);
  const writable = privs === null || privs.some((p) => p === 'write' || p === 'writeContent' || p === 'all' || p === 'bind');
  const id = collectionUrl(new URL(item.href, base).href);
  const name = textOf(item.props['displayname']) ?? decodeURIComponent(new URL(id).pathname.split('/').filter(Boolean).pop() ?? id);
  return { id, name, writable };
}

const CALENDAR_PROPS =
  '<d:resourcetype/><d:displayname/><c:supported-calendar-component-set/><d:current-user-privilege-set/>';

export interface DiscoverOptions {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly allowHosts: readonly string[];
  readonly timeoutMs?: number;
}

/** Finds the user's calendars from a server root, /.well-known/caldav, principal or calendar URL. */
export async function discoverCaldav(
  opts: DiscoverOptions,
): Promise<CalendarResult<{ calendars: CalendarInfo[]; serverSchedules: boolean }>> {
  const t = createTransport(opts);
  let start: URL;
  try {
    start = new URL(opts.url);
  } catch {
    return { ok: false, reason: 'refused' };
  }
  const probeProps = `<d:current-user-principal/><c:calendar-home-set/>${CALENDAR_PROPS}`;
  let probe = await propfind(t, start.href, '0', probeProps);
  const principalOf = (r: DavResult): string | undefined => (r.ok ? hrefsOf(r.items[0]?.props['currentUserPrincipal'])[0] : undefined);
  if (!principalOf(probe) && !(probe.ok && hrefsOf(probe.items[0]?.props['calendarHomeSet']).length)) {
    if (!probe.ok && probe.reason !== 'malformed') {
      // 404/405 etc. mean "not here", anything else (auth, network, policy) is the answer.
      if (probe.status === undefined || ![404, 405, 400, 501].includes(probe.status)) return { ok: false, reason: probe.reason };
    }
    const wellKnown = await propfind(t, new URL('/.well-known/caldav', start).href, '0', probeProps);
    if (!wellKnown.ok) return { ok: false, reason: wellKnown.reason === 'malformed' && !probe.ok ? probe.reason : wellKnown.reason };
    probe = wellKnown;
  }
  if (!probe.ok) return { ok: false, reason: probe.reason };
  const base = probe.url;
  const given = probe.items[0] ? calendarInfoOf(probe.items[0], base) : null;
  let homes = hrefsOf(probe.items[0]?.props['calendarHomeSet']).map((h) => new URL(h, base).href);
  const principalHref = principalOf(probe);
  if (principalHref) {
    const principal = new URL(principalHref, base).href;
    const p = await propfind(t, principal, '0', '<c:calendar-home-set/>');
    if (!p.ok) return { ok: false, reason: p.reason };
    const found = hrefsOf(p.items[0]?.props['calendarHomeSet']).map((h) => new URL(h, principal).href);
    if (found.length) homes = found;
  }
  if (homes.length === 0 && !given) return { ok: false, reason: 'malformed' };
  const calendars = new Map<string, CalendarInfo>();
  for (const home of homes) {
    const r = await propfind(t, home, '1', CALENDAR_PROPS);
    if (!r.ok) return { ok: false, reason: r.reason };
    for (const item of r.items) {
      const info = item.status >= 200 && item.status < 300 ? calendarInfoOf(item, home) : null;
      if (info) calendars.set(info.id, info);
    }
  }
  if (given && !calendars.has(given.id)) calendars.set(given.id, given);
  const all = [...calendars.values()];
  let serverSchedules = false;
  const target = all[0]?.id ?? homes[0];
  if (target) {
    const o = await t.request({ method: 'OPTIONS', url: target });
    if (o.ok) serverSchedules = /(^|,)\s*calendar-auto-schedule\s*(,|$)/i.test(o.res.headers['dav'] ?? '');
  }
  return { ok: true, value: { calendars: all, serverSchedules } };
}

// ---------------------------------------------------------------------------------------------

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
  readonly timeoutMs?: number;
  readonly clock?: Clock;
}

interface ViewEntry {
  readonly etag: string | null;
  /** Minimized ICS (times only, no personal data), or null when the object is unreadable. */
  readonly ics: string | null;
}

interface View {
  readonly entries: Map<string, ViewEntry>;
  /** The collection's CTag when `entries` were last read completely. */
  tag?: string;
  /** The server gave no usable tag: skip asking for one (list the ETags straight away). */
  tagless?: boolean;
  timer?: NodeJS.Timeout;
  queue: Promise<unknown>;
}

const KEEP_PROPS = new Set(['uid', 'dtstart', 'dtend', 'duration', 'rrule', 'rdate', 'exdate', 'recurrence-id', 'transp', 'status']);

/** Keeps only what busy time needs, so the in-memory view holds no names, notes or addresses. */
function minimize(ics: string): string | null {
  try {
    const parsed: unknown = ICAL.parse(ics);
    if (!Array.isArray(parsed) || typeof parsed[0] !== 'string') return null;
    const root = new ICAL.Component(parsed);
    if (root.name !== 'vcalendar') return null;
    for (const sub of root.getAllSubcomponents()) {
      if (sub.name === 'vtimezone') continue;
      if (sub.name !== 'vevent') {
        root.removeSubcomponent(sub);
        continue;
      }
      sub.removeAllSubcomponents();
      for (const p of sub.getAllProperties()) if (!KEEP_PROPS.has(p.name)) sub.removeProperty(p);
    }
    for (const p of root.getAllProperties()) root.removeProperty(p);
    return root.toString();
  } catch {
    return null;
  }
}

const ID = /^[0-9a-v]{1,64}$/;

/** A CalendarProvider for one CalDAV connection (booking calendar + conflict calendars). */
export function createCaldavProvider(opts: CaldavProviderOptions): CalendarProvider {
  const t = createTransport(opts);
  const clock = opts.clock ?? systemClock;
  const booking = collectionUrl(opts.bookingCalendarUrl);
  const conflicts = opts.conflictCalendarUrls.map(collectionUrl);
  const views = new Map<string, View>();
  const eventUrl = (id: string): string => new URL(`${id}.ics`, booking).href;
  const readBusy = busyReader(opts.timeZone);
  const autoSchedule = opts.serverSchedules ?? false;
  let ownAddresses: string[] | undefined;

  /** The account's calendar-user addresses, read once (only needed when the server can schedule); null when unreadable. */
  async function addresses(): Promise<string[] | null> {
    if (!autoSchedule) return null;
    if (ownAddresses) return ownAddresses;
    const r = await propfind(t, booking, '0', '<d:current-user-principal/>');
    const principal = r.ok ? hrefsOf(r.items[0]?.props['currentUserPrincipal'])[0] : undefined;
    if (!principal) return null;
    const p = await propfind(t, new URL(principal, booking).href, '0', '<c:calendar-user-address-set/>');
    if (!p.ok) return null;
    ownAddresses = mailtoAddresses(hrefsOf(p.items[0]?.props['calendarUserAddressSet']));
    return ownAddresses;
  }

  /** Who is expected to invite for a stored booking (its attendee's SCHEDULE-AGENT first). */
  async function expectedInviter(ics: string, organizerEmail: string): Promise<InvitedBy> {
    if (attendeeScheduling(ics)?.agent === 'CLIENT') return 'creneau';
    return inviterFor(autoSchedule, await addresses(), organizerEmail);
  }

  function viewOf(cal: string): View {
    let v = views.get(cal);
    if (!v) {
      v = { entries: new Map(), queue: Promise.resolve() };
      views.set(cal, v);
    }
    if (v.timer) clearTimeout(v.timer);
    v.timer = setTimeout(() => views.delete(cal), VIEW_TTL_MS);
    v.timer.unref();
    return v;
  }

  /** Live objects of one calendar: re-lists ETags, downloads only what changed. */
  async function refresh(cal: string, thorough: boolean): Promise<CalendarResult<string[]>> {
    const view = viewOf(cal);
    const run = view.queue.then(() => refreshNow(cal, view, thorough));
    view.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * The collection's CTag, which changes whenever any object does (Radicale, SabreDAV/Nextcloud,
   * iCloud, Google, Fastmail…). Asked alone: Radicale answers it in a fraction of the time it
   * takes for a sync-token, and of the time listing every ETag takes.
   */
  async function collectionTag(cal: string): Promise<CalendarResult<string | undefined>> {
    const r = await propfind(t, cal, '0', '<cs:getctag xmlns:cs="http://calendarserver.org/ns/"/>');
    if (!r.ok) return failed(r);
    const own = r.items.find((i) => pathKey(i.href, cal) === pathKey(cal, cal));
    return { ok: true, value: own ? tagOf(own.props['getctag']) : undefined };
  }

  /** `thorough`: list the ETags even when the CTag says nothing changed (before a booking is written). */
  async function refreshNow(cal: string, view: View, thorough: boolean): Promise<CalendarResult<string[]>> {
    // When the collection's CTag has not moved since the last complete read, nothing changed:
    // one small request instead of listing every object's ETag.
    let tag: string | undefined;
    if (!view.tagless) {
      const head = await collectionTag(cal);
      // A server that cannot answer for the CTag (not even with a 404 for the property) is
      // read the old way; one that cannot be reached at all fails here as the listing would.
      if (!head.ok && head.reason !== 'malformed') return head;
      tag = head.ok ? head.value : undefined;
      if (tag === undefined) view.tagless = true;
      else if (tag === view.tag && !thorough) return textsOf(view);
    }
    view.tag = undefined;
    const listing = await propfind(t, cal, '1', '<d:getetag/><d:resourcetype/>');
    if (!listing.ok) return failed(listing);
    const current = new Map<string, { href: string; etag: string | null }>();
    const self = pathKey(cal, cal);
    for (const item of listing.items) {
      const key = pathKey(item.href, cal);
      if (key === self || hasKey(item.props['resourcetype'], 'collection')) continue;
      if (item.status < 200 || item.status >= 300) return { ok: false, reason: 'malformed' };
      current.set(key, { href: item.href, etag: textOf(item.props['getetag']) ?? null });
    }
    if (current.size > MAX_OBJECTS) return { ok: false, reason: 'malformed' };
    for (const key of [...view.entries.keys()]) if (!current.has(key)) view.entries.delete(key);
    const stale = [...current.entries()].filter(([key, c]) => c.etag === null || view.entries.get(key)?.etag !== c.etag);
    for (let i = 0; i < stale.length; i += MULTIGET_BATCH) {
      const batch = stale.slice(i, i + MULTIGET_BATCH);
      const hrefs = batch.map(([, c]) => `<d:href>${xmlEscape(c.href)}</d:href>`).join('');
      const body = `${XML_HEAD}<c:calendar-multiget ${NS}><d:prop><d:getetag/><c:calendar-data/></d:prop>${hrefs}</c:calendar-multiget>`;
      const r = await dav(t, 'REPORT', cal, '1', body);
      if (!r.ok) return failed(r);
      const got = new Set<string>();
      for (const item of r.items) {
        const key = pathKey(item.href, cal);
        if (item.status === 404) {
          got.add(key);
          view.entries.delete(key);
          continue;
        }
        const data = textOf(item.props['calendarData']);
        if (item.status < 200 || item.status >= 300 || data === undefined) return { ok: false, reason: 'malformed' };
        got.add(key);
        view.entries.set(key, { etag: textOf(item.props['getetag']) ?? current.get(key)?.etag ?? null, ics: minimize(data) });
      }
      if (batch.some(([key]) => !got.has(key))) return { ok: false, reason: 'malformed' };
    }
    const texts = textsOf(view);
    if (texts.ok) view.tag = tag;
    return texts;
  }

  function textsOf(view: View): CalendarResult<string[]> {
    const texts: string[] = [];
    for (const e of view.entries.values()) {
      if (e.ics === null) return { ok: false, reason: 'malformed' };
      texts.push(e.ics);
    }
    return { ok: true, value: texts };
  }

  async function etagOf(url: string): Promise<CalendarResult<string>> {
    const r = await propfind(t, url, '0', '<d:getetag/>');
    if (!r.ok) return failed(r);
    const etag = textOf(r.items[0]?.props['getetag']);
    return etag ? { ok: true, value: etag } : { ok: false, reason: 'malformed' };
  }

  async function http(method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<{ ok: true; res: HttpResponse } | { ok: false; reason: CalendarFailure }> {
    const r = await t.request({ method, url, headers, ...(body === undefined ? {} : { body }) });
    return r.ok ? r : { ok: false, reason: r.reason };
  }

  async function written(res: HttpResponse, url: string): Promise<WriteResult<{ etag: string }>> {
    const etag = res.headers['etag'];
    if (etag && !etag.startsWith('W/')) return { ok: true, value: { etag } };
    const read = await etagOf(url);
    return read.ok ? { ok: true, value: { etag: read.value } } : read;
  }

  /**
   * After a write: the ETag, and who invited. A server expected to schedule must report it in
   * the attendee's SCHEDULE-STATUS (RFC 6638 §3.2.9), so the stored event is read back.
   */
  async function settled(res: HttpResponse, url: string, expected: InvitedBy): Promise<WriteResult<Written>> {
    if (expected === 'creneau') {
      const w = await written(res, url);
      return w.ok ? { ok: true, value: { etag: w.value.etag, invitedBy: 'creneau' } } : w;
    }
    const back = await http('GET', url, { accept: 'text/calendar' });
    if (!back.ok) return back;
    if (back.res.status !== 200) return { ok: false, reason: failureOfStatus(back.res.status) };
    let etag = back.res.headers['etag'];
    if (!etag || etag.startsWith('W/')) {
      const e = await etagOf(url);
      if (!e.ok) return e;
      etag = e.value;
    }
    return { ok: true, value: { etag, invitedBy: invitedByOf(expected, attendeeScheduling(back.res.body.toString('utf8'))) } };
  }

  const ICS_TYPE = { 'content-type': 'text/calendar; charset=utf-8' };

  return {
    kind: 'caldav',
    serverSchedules: opts.serverSchedules ?? false,
    excludesFromBusy: true,

    async listCalendars() {
      const r = await discoverCaldav({ ...opts, url: booking });
      return r.ok ? { ok: true, value: r.value.calendars } : failed(r);
    },

    async busy(range: Interval, options?: BusyOptions): Promise<BusyResult> {
      const results = await Promise.all(conflicts.map((c) => refresh(c, options?.thorough ?? false)));
      const texts: string[] = [];
      // Our own booking is one object whose UID is `<id>@<host>` (ids are [0-9a-v], host checked).
      const own = options?.exceptBookingId && /^[0-9a-v]{1,64}$/.test(options.exceptBookingId) ? `\nUID:${options.exceptBookingId}@${opts.uidHost}\r` : null;
      for (const r of results) {
        if (!r.ok) return failed(r);
        for (const text of r.value) if (own === null || !text.includes(own)) texts.push(text);
      }
      return readBusy(texts, range);
    },

    async bookings(range: Interval) {
      const stamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
      const body = `${XML_HEAD}<c:calendar-query ${NS}><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="${stamp(range.start)}" end="${stamp(range.end)}"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`;
      const r = await dav(t, 'REPORT', booking, '1', body);
      if (!r.ok) return failed(r);
      const out: BookedSummary[] = [];
      for (const item of r.items) {
        if (pathKey(item.href, booking) === pathKey(booking, booking)) continue;
        const data = textOf(item.props['calendarData']);
        if (item.status < 200 || item.status >= 300 || data === undefined) return { ok: false, reason: 'malformed' };
        const ev = parseBookingIcs(data);
        if (!ev || ev.cancelled || !(ev.start < range.end && ev.end > range.start)) continue;
        out.push({ id: ev.id, start: ev.start, end: ev.end, serviceSlug: ev.serviceSlug, attendeeEmail: ev.attendee.email });
      }
      out.sort((a, b) => a.start - b.start);
      return { ok: true, value: out };
    },

    async createEvent(event: NewBookingEvent) {
      const url = eventUrl(event.id);
      const expected = inviterFor(autoSchedule, await addresses(), event.organizer.email);
      const ics = buildBookingIcs(event, { uidHost: opts.uidHost, sequence: 0, status: 'CONFIRMED', stamp: clock.now(), scheduleAgentClient: expected === 'creneau' });
      const r = await http('PUT', url, { ...ICS_TYPE, 'if-none-match': '*' }, ics);
      if (!r.ok) return r;
      const { status } = r.res;
      if (status === 412 || status === 409) return { ok: false, reason: 'conflict' };
      if (status !== 201 && status !== 204 && status !== 200) return { ok: false, reason: failureOfStatus(status) };
      return settled(r.res, url, expected);
    },

    async getEvent(id: string): Promise<WriteResult<BookingEvent>> {
      if (!ID.test(id)) return { ok: false, reason: 'not_found' };
      const url = eventUrl(id);
      const r = await http('GET', url, { accept: 'text/calendar' });
      if (!r.ok) return r;
      const { status } = r.res;
      if (status === 404 || status === 410) return { ok: false, reason: 'not_found' };
      if (status !== 200) return { ok: false, reason: failureOfStatus(status) };
      const body = r.res.body.toString('utf8');
      const ev = parseBookingIcs(body);
      if (!ev || ev.id !== id) return { ok: false, reason: 'malformed' };
      let etag = r.res.headers['etag'];
      if (!etag || etag.startsWith('W/')) {
        const e = await etagOf(url);
        if (!e.ok) return e;
        etag = e.value;
      }
      const invitedBy = invitedByOf(await expectedInviter(body, ev.organizer.email), attendeeScheduling(body));
      return { ok: true, value: { ...ev, etag, invitedBy } };
    },

    async moveEvent(id: string, start: number, end: number, etag: string, description?: string) {
      if (!ID.test(id)) return { ok: false, reason: 'not_found' };
      const url = eventUrl(id);
      const current = await http('GET', url, { accept: 'text/calendar' });
      if (!current.ok) return current;
      const { status } = current.res;
      if (status === 404 || status === 410) return { ok: false, reason: 'not_found' };
      if (status !== 200) return { ok: false, reason: failureOfStatus(status) };
      const currentEtag = current.res.headers['etag'];
      if (currentEtag && currentEtag !== etag) return { ok: false, reason: 'precondition_failed' };
      const currentIcs = current.res.body.toString('utf8');
      const moved = moveBookingIcs(currentIcs, start, end, clock.now(), description);
      if (!moved) return { ok: false, reason: 'malformed' };
      const expected = await expectedInviter(currentIcs, parseBookingIcs(currentIcs)?.organizer.email ?? '');
      const r = await http('PUT', url, { ...ICS_TYPE, 'if-match': etag }, moved);
      if (!r.ok) return r;
      if (r.res.status === 412) return { ok: false, reason: 'precondition_failed' };
      if (r.res.status === 404) return { ok: false, reason: 'not_found' };
      if (r.res.status !== 200 && r.res.status !== 204 && r.res.status !== 201) return { ok: false, reason: failureOfStatus(r.res.status) };
      return settled(r.res, url, expected);
    },

    async cancelEvent(id: string) {
      if (!ID.test(id)) return { ok: false, reason: 'not_found' };
      const r = await http('DELETE', eventUrl(id));
      if (!r.ok) return r;
      const { status } = r.res;
      if (status === 404 || status === 410) return { ok: false, reason: 'not_found' };
      if (status !== 200 && status !== 204) return { ok: false, reason: failureOfStatus(status) };
      return { ok: true, value: null };
    },
  };
}
