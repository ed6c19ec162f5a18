import type { Interval } from '../../lib/interval.js';
import { utcStamp } from '../../lib/time.js';
import { err, ok } from '../../lib/result.js';
import type { Result } from '../../lib/result.js';
import type { CalendarFailure, CalendarResult } from '../provider.js';
import { dav, failed, MAX_OBJECTS, NS, propfind, XML_HEAD, xmlEscape } from './dav.js';
import type { DavFailure, DavItem } from './dav.js';
import type { Transport } from './http.js';
import { hasKey, insideCollection, listedObjects, objectsOf, pathKey, tagOf, textOf } from './map.js';
import type { ListedObject } from './map.js';

/**
 * The in-memory view of each conflict calendar, and the time-range read made before a write.
 *
 * The view: the CTag is asked first (one small request); when it moved, the changes since the
 * last complete read are asked with sync-collection (RFC 6578) when the server offers it, else
 * (or when the token is refused) every ETag is listed; only changed objects are downloaded
 * again. What is kept is minimized by `minimize` (times only, no names, notes or addresses).
 *
 * Reading a range (`window`): on a server whose time-range filtering of recurring series is
 * known good (`filtersRecurrences`), one calendar-query REPORT for the objects overlapping the
 * range (RFC 4791 §9.9: the server expands series to filter them); on any other server, or one
 * that refuses the query, through the view.
 */

/** Objects asked for in one calendar-multiget. */
export const MULTIGET_BATCH = 200;
/** The in-memory view of a calendar is dropped after this long unused (DESIGN.md §1.1). */
const VIEW_TTL_MS = 60_000;
/**
 * The pre-write read asks for this much more on each side than the range it serves: a floating
 * or all-day event is placed by the server in its own zone (up to 14 h away from the staff's),
 * by Creneau in the staff's.
 */
const WINDOW_MARGIN_MS = 86_400_000;

interface ViewEntry {
  readonly etag: string | null;
  /** Minimized ICS, or null when the object is unreadable (the whole read then fails). */
  readonly ics: string | null;
}

interface View {
  readonly entries: Map<string, ViewEntry>;
  /** The collection's CTag when `entries` were last read completely. */
  tag?: string;
  /** The server gave no usable tag: skip asking for one (list the ETags straight away). */
  tagless?: boolean;
  /** The sync-token (RFC 6578) of the last complete read, when the server offers sync-collection. */
  syncToken?: string;
  /** The server refused sync-collection, or answered it incoherently: list every ETag instead. */
  noSync?: boolean;
  timer?: NodeJS.Timeout;
  queue: Promise<unknown>;
}

/** Minimizes calendar data off the main thread; one answer per text, null when it does not parse. */
export type Minimize = (texts: readonly string[]) => Promise<CalendarResult<(string | null)[]>>;

export interface CalendarViews {
  /** Live minimized objects of one calendar. `thorough`: ask for changes even when the CTag says nothing changed. */
  refresh(cal: string, thorough: boolean, deadline: number): Promise<CalendarResult<string[]>>;
  /**
   * Live minimized objects of one calendar that overlap `range`: one time-range REPORT; through
   * the view (`refresh`) when the server refuses it.
   */
  window(cal: string, range: Interval, thorough: boolean, deadline: number, keep?: Keep): Promise<CalendarResult<string[]>>;
}

/**
 * Sees the full calendar data of a complete time-range answer, and the range it covers, before
 * it is minimized (the booking calendar's bookings are read from the same answer).
 */
export type Keep = (texts: readonly string[], covered: Interval) => void;

/** What changed in a calendar: `full` lists every object (others are gone); else only the changes. */
interface Changes {
  readonly full: boolean;
  readonly present: Map<string, ListedObject>;
  readonly removed: readonly string[];
  readonly syncToken?: string;
}

/**
 * Statuses by which a server says it will not do a REPORT (RFC 6578 §3.2: an unknown or expired
 * token is 403 or 409 with DAV:valid-sync-token; 507 when the answer would be too long; 418 and
 * the others from servers seen refusing it): the caller falls back to the plain way. Anything
 * else (401, 429, 5xx, a timeout) fails the read as it would have failed the fall-back.
 */
export function refusedReport(f: DavFailure): boolean {
  const s = f.status;
  return s !== undefined && ((s >= 400 && s < 500 && s !== 401 && s !== 429) || s === 501 || s === 507);
}


/** A calendar-multiget of these object URLs, with their ETag and data. */
export function multigetQuery(hrefs: readonly string[]): string {
  return `${XML_HEAD}<c:calendar-multiget ${NS}><d:prop><d:getetag/><c:calendar-data/></d:prop>${hrefs.map((h) => `<d:href>${xmlEscape(h)}</d:href>`).join('')}</c:calendar-multiget>`;
}

/** A calendar-query REPORT body for events overlapping [start, end), with their data. */
export function timeRangeQuery(start: number, end: number): string {
  return `${XML_HEAD}<c:calendar-query ${NS}><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="${utcStamp(start)}" end="${utcStamp(end)}"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`;
}

/** Radicale 3's DAV header, word for word (radicale/httputils.py). */
const RADICALE_DAV = '1, 2, 3, calendar-access, addressbook, extended-mkcol';

/**
 * Whether the server answering with these (lower-case) headers is one whose time-range
 * filtering of recurring series interop.test.ts checks against every busy fixture, and found
 * right: Radicale 3 (its exact DAV header) and Cyrus IMAP (calendar-query-extended with a
 * server-info link). Xandikos 0.2 misses a weekly COUNT series that began before the range, and
 * any server not tested may be as wrong: those are read through the view (every object).
 */
export function filtersRecurrences(headers: Readonly<Record<string, string>>): boolean {
  const dav = (headers['dav'] ?? '').split(',').map((s) => s.trim().toLowerCase());
  if (dav.join(', ') === RADICALE_DAV) return true;
  return dav.includes('calendar-query-extended') && dav.includes('calendar-access') && /rel="?server-info"?/.test(headers['link'] ?? '');
}

/** Whether a REPORT answer says itself that it is incomplete (507 on the collection, RFC 6578 §3.6). */
export function truncated(items: readonly DavItem[], cal: string): boolean {
  const self = pathKey(cal, cal);
  return items.some((i) => i.status === 507 && insideCollection(i.href, cal) && [self, self.replace(/\/$/, '')].includes(pathKey(i.href, cal)));
}

/**
 * The collection's CTag, which changes whenever any object does (Radicale, SabreDAV/Nextcloud,
 * iCloud, Google, Fastmail…). Asked alone: Radicale answers it in a fraction of the time it
 * takes for a sync-token, and of the time listing every ETag takes.
 */
async function collectionTag(t: Transport, cal: string, deadline: number): Promise<CalendarResult<string | undefined>> {
  const r = await propfind(t, cal, '0', '<cs:getctag xmlns:cs="http://calendarserver.org/ns/"/>', deadline);
  if (!r.ok) return failed(r);
  const own = r.value.items.find((i) => pathKey(i.href, cal) === pathKey(cal, cal));
  return ok(own ? tagOf(own.props['getctag']) : undefined);
}

/** Every object's ETag by PROPFIND (the collection must answer for itself). */
async function listing(t: Transport, cal: string, deadline: number): Promise<CalendarResult<Changes>> {
  const r = await propfind(t, cal, '1', '<d:getetag/><d:resourcetype/>', deadline);
  if (!r.ok) return failed(r);
  const present = listedObjects(r.value.items, cal);
  return present.ok ? ok({ full: true, present: present.value, removed: [] }) : present;
}

/**
 * The changes since `token` (every object without one) by sync-collection. `refused` when the
 * server will not answer it (no such report, token refused, answer truncated) or answers it
 * incoherently (no new token, an object without ETag, a status that is neither 2xx nor 404):
 * the caller then reads the calendar another way, so nothing is taken from such an answer.
 */
async function sync(t: Transport, cal: string, token: string | undefined, deadline: number): Promise<Result<Changes, CalendarFailure | 'refused'>> {
  const body = `${XML_HEAD}<d:sync-collection ${NS}><d:sync-token>${token === undefined ? '' : xmlEscape(token)}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`;
  const r = await dav(t, 'REPORT', cal, '0', body, deadline);
  if (!r.ok) return refusedReport(r.error) ? err('refused') : failed(r);
  const next = tagOf(r.value.syncToken);
  if (next === undefined || truncated(r.value.items, cal)) return err('refused');
  const self = pathKey(cal, cal);
  const present = new Map<string, ListedObject>();
  const removed: string[] = [];
  for (const item of r.value.items) {
    // An object outside the collection is a hostile answer, not an unsupported report.
    if (!insideCollection(item.href, cal)) return err('malformed');
    const key = pathKey(item.href, cal);
    if (key === self || key === self.replace(/\/$/, '')) continue;
    if (item.status === 404) {
      removed.push(key);
      continue;
    }
    const etag = textOf(item.props['getetag']);
    if (item.status < 200 || item.status >= 300 || !etag) return err('refused');
    present.set(key, { href: item.href, etag });
  }
  return ok({ full: token === undefined, present, removed, syncToken: next });
}

/** Views of the calendars of one connection. */
export function createCalendarViews(t: Transport, minimize: Minimize): CalendarViews {
  const views = new Map<string, View>();

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

  /** What changed since the view's last complete read: by sync-collection when offered, else a full listing. */
  async function changes(cal: string, view: View, deadline: number): Promise<CalendarResult<Changes>> {
    if (!view.noSync) {
      let s = await sync(t, cal, view.syncToken, deadline);
      // A token the server no longer knows (or any refusal of it): everything again, still by sync.
      if (!s.ok && s.error === 'refused' && view.syncToken !== undefined) {
        view.syncToken = undefined;
        s = await sync(t, cal, undefined, deadline);
      }
      if (s.ok) return s;
      if (s.error !== 'refused') return err(s.error);
      view.noSync = true;
      view.syncToken = undefined;
    }
    return listing(t, cal, deadline);
  }

  async function refreshNow(cal: string, view: View, thorough: boolean, deadline: number): Promise<CalendarResult<string[]>> {
    // When the collection's CTag has not moved since the last complete read, nothing changed:
    // one small request instead of asking for changes.
    let tag: string | undefined;
    if (!view.tagless) {
      const head = await collectionTag(t, cal, deadline);
      // A server that cannot answer for the CTag (not even with a 404 for the property) is
      // read the old way; one that cannot be reached at all fails here as the listing would.
      if (!head.ok && head.error !== 'malformed') return head;
      tag = head.ok ? head.value : undefined;
      if (tag === undefined) view.tagless = true;
      else if (tag === view.tag && !thorough) return textsOf(view);
    }
    view.tag = undefined;
    const got = await changes(cal, view, deadline);
    if (!got.ok) return got;
    const { present } = got.value;
    if (got.value.full) {
      for (const key of [...view.entries.keys()]) if (!present.has(key)) view.entries.delete(key);
    } else {
      for (const key of got.value.removed) view.entries.delete(key);
    }
    // Until every change is in, the token stays the old one: an interrupted read is asked again.
    const token = got.value.syncToken;
    view.syncToken = got.value.full ? undefined : view.syncToken;
    const stale = [...present.entries()].filter(([key, c]) => c.etag === null || view.entries.get(key)?.etag !== c.etag);
    for (let i = 0; i < stale.length; i += MULTIGET_BATCH) {
      const batch = stale.slice(i, i + MULTIGET_BATCH);
      const got = await multiget(cal, batch, deadline);
      if (!got.ok) return got;
      const here = got.value.filter((o) => !o.gone);
      const small = await minimize(here.map((o) => (o.gone ? '' : o.data)));
      if (!small.ok) return small;
      for (const o of got.value) if (o.gone) view.entries.delete(o.key);
      here.forEach((o, n) => {
        if (!o.gone) view.entries.set(o.key, { etag: o.etag ?? present.get(o.key)?.etag ?? null, ics: small.value[n] ?? null });
      });
      const keys = new Set(got.value.map((o) => o.key));
      if (batch.some(([key]) => !keys.has(key))) return err('malformed');
    }
    if (view.entries.size > MAX_OBJECTS) return err('malformed');
    const texts = textsOf(view);
    if (texts.ok) {
      view.tag = tag;
      view.syncToken = token;
    }
    return texts;
  }

  async function multiget(cal: string, batch: readonly [string, { href: string }][], deadline: number) {
    const r = await dav(t, 'REPORT', cal, '1', multigetQuery(batch.map(([, c]) => c.href)), deadline);
    if (!r.ok) return failed(r);
    return objectsOf(r.value.items, cal, { allowGone: true });
  }

  function textsOf(view: View): CalendarResult<string[]> {
    const texts: string[] = [];
    for (const e of view.entries.values()) {
      if (e.ics === null) return err<CalendarFailure>('malformed');
      texts.push(e.ics);
    }
    return ok(texts);
  }

  function refresh(cal: string, thorough: boolean, deadline: number): Promise<CalendarResult<string[]>> {
    const view = viewOf(cal);
    const run = view.queue.then(() => refreshNow(cal, view, thorough, deadline));
    view.queue = run.catch(() => undefined);
    return run;
  }

  /** Calendars whose server refused a time-range query: read through the view from then on. */
  const windowless = new Set<string>();
  /** Whether the server's time-range filtering is trusted (asked once by OPTIONS; a failed ask is not kept). */
  let trusted: Promise<boolean> | undefined;

  function trustsServer(cal: string, deadline: number): Promise<boolean> {
    if (trusted) return trusted;
    const asked = t.request({ method: 'OPTIONS', url: cal, deadline }).then((r) => {
      if (!r.ok || r.value.status >= 300) trusted = undefined;
      return r.ok && r.value.status < 300 && filtersRecurrences(r.value.headers);
    });
    trusted = asked;
    return asked;
  }

  async function window(cal: string, range: Interval, thorough: boolean, deadline: number, keep?: Keep): Promise<CalendarResult<string[]>> {
    if (windowless.has(cal) || !(await trustsServer(cal, deadline))) return refresh(cal, thorough, deadline);
    const covered = { start: range.start - WINDOW_MARGIN_MS, end: range.end + WINDOW_MARGIN_MS };
    // An empty answer is "nothing in range" only from the calendar itself: the collection must
    // answer for itself, as a calendar, in the same breath (asked at once, so no wait is added).
    const [r, head] = await Promise.all([
      dav(t, 'REPORT', cal, '1', timeRangeQuery(covered.start, covered.end), deadline),
      propfind(t, cal, '0', '<d:resourcetype/>', deadline),
    ]);
    if (!r.ok && refusedReport(r.error)) {
      windowless.add(cal);
      return refresh(cal, thorough, deadline);
    }
    if (!r.ok) return failed(r);
    if (!head.ok) return failed(head);
    const self = pathKey(cal, cal);
    const own = head.value.items.find((i) => insideCollection(i.href, cal) && [self, self.replace(/\/$/, '')].includes(pathKey(i.href, cal)));
    if (!own || !hasKey(own.props['resourcetype'], 'calendar')) return err('malformed');
    if (truncated(r.value.items, cal)) {
      windowless.add(cal);
      return refresh(cal, thorough, deadline);
    }
    const objects = objectsOf(r.value.items, cal, { allowGone: false });
    if (!objects.ok) return objects;
    const data = objects.value.map((o) => (o.gone ? '' : o.data));
    const small = await minimize(data);
    if (!small.ok) return small;
    const texts: string[] = [];
    for (const text of small.value) {
      if (text === null) return err('malformed');
      texts.push(text);
    }
    keep?.(data, covered);
    return ok(texts);
  }

  return { refresh, window };
}
