import { err, ok } from '../../lib/result.js';
import type { CalendarFailure, CalendarResult } from '../provider.js';
import { dav, failed, NS, propfind, XML_HEAD, xmlEscape } from './dav.js';
import type { Transport } from './http.js';
import { listedObjects, objectsOf, pathKey, tagOf } from './map.js';

/**
 * The in-memory view of each conflict calendar: the ETag listing is re-read on every call (or
 * only the CTag, when it has not moved) and only changed objects are downloaded again. What is
 * kept is minimized by `minimize` (times only, no names, notes or addresses).
 */

const MULTIGET_BATCH = 200;
/** The in-memory view of a calendar is dropped after this long unused (DESIGN.md §1.1). */
const VIEW_TTL_MS = 60_000;

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
  timer?: NodeJS.Timeout;
  queue: Promise<unknown>;
}

/** Minimizes calendar data off the main thread; one answer per text, null when it does not parse. */
export type Minimize = (texts: readonly string[]) => Promise<CalendarResult<(string | null)[]>>;

export interface CalendarViews {
  /** Live minimized objects of one calendar. `thorough`: list the ETags even when the CTag says nothing changed. */
  refresh(cal: string, thorough: boolean, deadline: number): Promise<CalendarResult<string[]>>;
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

  /**
   * The collection's CTag, which changes whenever any object does (Radicale, SabreDAV/Nextcloud,
   * iCloud, Google, Fastmail…). Asked alone: Radicale answers it in a fraction of the time it
   * takes for a sync-token, and of the time listing every ETag takes.
   */
  async function collectionTag(cal: string, deadline: number): Promise<CalendarResult<string | undefined>> {
    const r = await propfind(t, cal, '0', '<cs:getctag xmlns:cs="http://calendarserver.org/ns/"/>', deadline);
    if (!r.ok) return failed(r);
    const own = r.value.items.find((i) => pathKey(i.href, cal) === pathKey(cal, cal));
    return ok(own ? tagOf(own.props['getctag']) : undefined);
  }

  async function refreshNow(cal: string, view: View, thorough: boolean, deadline: number): Promise<CalendarResult<string[]>> {
    // When the collection's CTag has not moved since the last complete read, nothing changed:
    // one small request instead of listing every object's ETag.
    let tag: string | undefined;
    if (!view.tagless) {
      const head = await collectionTag(cal, deadline);
      // A server that cannot answer for the CTag (not even with a 404 for the property) is
      // read the old way; one that cannot be reached at all fails here as the listing would.
      if (!head.ok && head.error !== 'malformed') return head;
      tag = head.ok ? head.value : undefined;
      if (tag === undefined) view.tagless = true;
      else if (tag === view.tag && !thorough) return textsOf(view);
    }
    view.tag = undefined;
    const listing = await propfind(t, cal, '1', '<d:getetag/><d:resourcetype/>', deadline);
    if (!listing.ok) return failed(listing);
    const current = listedObjects(listing.value.items, cal);
    if (!current.ok) return current;
    for (const key of [...view.entries.keys()]) if (!current.value.has(key)) view.entries.delete(key);
    const stale = [...current.value.entries()].filter(([key, c]) => c.etag === null || view.entries.get(key)?.etag !== c.etag);
    for (let i = 0; i < stale.length; i += MULTIGET_BATCH) {
      const batch = stale.slice(i, i + MULTIGET_BATCH);
      const got = await multiget(cal, batch, deadline);
      if (!got.ok) return got;
      const present = got.value.filter((o) => !o.gone);
      const small = await minimize(present.map((o) => (o.gone ? '' : o.data)));
      if (!small.ok) return small;
      for (const o of got.value) if (o.gone) view.entries.delete(o.key);
      present.forEach((o, n) => {
        if (!o.gone) view.entries.set(o.key, { etag: o.etag ?? current.value.get(o.key)?.etag ?? null, ics: small.value[n] ?? null });
      });
      const keys = new Set(got.value.map((o) => o.key));
      if (batch.some(([key]) => !keys.has(key))) return err('malformed');
    }
    const texts = textsOf(view);
    if (texts.ok) view.tag = tag;
    return texts;
  }

  async function multiget(cal: string, batch: readonly [string, { href: string }][], deadline: number) {
    const hrefs = batch.map(([, c]) => `<d:href>${xmlEscape(c.href)}</d:href>`).join('');
    const body = `${XML_HEAD}<c:calendar-multiget ${NS}><d:prop><d:getetag/><c:calendar-data/></d:prop>${hrefs}</c:calendar-multiget>`;
    const r = await dav(t, 'REPORT', cal, '1', body, deadline);
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

  return {
    refresh(cal, thorough, deadline) {
      const view = viewOf(cal);
      const run = view.queue.then(() => refreshNow(cal, view, thorough, deadline));
      view.queue = run.catch(() => undefined);
      return run;
    },
  };
}
