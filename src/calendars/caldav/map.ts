import { err, ok } from '../../lib/result.js';
import type { Result } from '../../lib/result.js';
import type { CalendarInfo } from '../provider.js';
import type { DavItem } from './dav.js';
import { isRecord, MAX_OBJECTS } from './dav.js';

/**
 * What CalDAV answers mean for Creneau, with no I/O: calendars from PROPFIND items, the objects
 * of a listing, and calendar data from a multiget. Answers are taken only when complete and
 * coherent (the collection answers for itself, every href is inside it); anything else is
 * `malformed`, never "empty" (fail closed).
 */

export function list(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** Text content of a parsed XML element (tsdav turns text into strings or numbers; CDATA stays wrapped). */
export function textOf(v: unknown): string | undefined {
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
export function tagOf(v: unknown): string | undefined {
  const raw = isRecord(v) ? v['_text'] : v;
  if (typeof raw === 'number' && !Number.isSafeInteger(raw)) return undefined;
  return textOf(v) || undefined;
}

export function hrefsOf(v: unknown): string[] {
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

export function hasKey(v: unknown, key: string): boolean {
  return list(v).some((el) => isRecord(el) && key in el);
}

/** Path of a URL, percent-decoded, so hrefs from different responses compare equal. */
export function pathKey(href: string, base: string): string {
  const p = new URL(href, base).pathname;
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

/** A collection's URL: trailing slash, no query or fragment. */
export function collectionUrl(u: string): string {
  const url = new URL(u);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  url.hash = '';
  return url.href;
}

/** Whether `href` (relative to `collection`) names the collection itself or something directly or deeply inside it. */
export function insideCollection(href: string, collection: string): boolean {
  let url: URL;
  try {
    url = new URL(href, collection);
  } catch {
    return false;
  }
  const base = new URL(collection);
  if (url.origin !== base.origin) return false;
  const key = pathKey(url.href, collection);
  const own = pathKey(collection, collection);
  return key === own || key === own.replace(/\/$/, '') || (key.startsWith(own) && !key.slice(own.length).split('/').includes('..'));
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

/** A calendar that can hold events, from one PROPFIND item; null for anything else. */
export function calendarInfoOf(item: DavItem, base: string): CalendarInfo | null {
  if (!hasKey(item.props['resourcetype'], 'calendar')) return null;
  const comps = components(item.props);
  if (comps && !comps.includes('VEVENT')) return null;
  const privs = privileges(item.props);
  const writable = privs === null || privs.some((p) => p === 'write' || p === 'writeContent' || p === 'all' || p === 'bind');
  const id = collectionUrl(new URL(item.href, base).href);
  const name = textOf(item.props['displayname']) ?? decodeURIComponent(new URL(id).pathname.split('/').filter(Boolean).pop() ?? id);
  return { id, name, writable };
}

/** One object of a listing, keyed by its decoded path. */
export interface ListedObject {
  readonly href: string;
  readonly etag: string | null;
}

/**
 * The objects of a Depth: 1 listing of `collection`. The collection's own response must be
 * there (without it an empty answer cannot be told from a truncated or foreign one), every href
 * must lie inside the collection, and every object must have answered 2xx.
 */
export function listedObjects(items: readonly DavItem[], collection: string): Result<Map<string, ListedObject>, 'malformed'> {
  const self = pathKey(collection, collection);
  let sawSelf = false;
  const out = new Map<string, ListedObject>();
  for (const item of items) {
    if (!insideCollection(item.href, collection)) return err('malformed');
    const key = pathKey(item.href, collection);
    if (key === self || key === self.replace(/\/$/, '')) {
      sawSelf = true;
      continue;
    }
    if (hasKey(item.props['resourcetype'], 'collection')) continue;
    if (item.status < 200 || item.status >= 300) return err('malformed');
    out.set(key, { href: item.href, etag: textOf(item.props['getetag']) ?? null });
  }
  if (!sawSelf || out.size > MAX_OBJECTS) return err('malformed');
  return ok(out);
}

/** One object's data from a multiget or calendar-query item; `gone` for a 404 in a multiget. */
export type ObjectData = { readonly key: string; readonly gone: true } | { readonly key: string; readonly gone: false; readonly etag: string | null; readonly data: string };

/** The calendar data of a REPORT answer, every href inside the collection, every item complete. */
export function objectsOf(items: readonly DavItem[], collection: string, opts: { allowGone: boolean }): Result<ObjectData[], 'malformed'> {
  const self = pathKey(collection, collection);
  const out: ObjectData[] = [];
  for (const item of items) {
    if (!insideCollection(item.href, collection)) return err('malformed');
    const key = pathKey(item.href, collection);
    if (key === self || key === self.replace(/\/$/, '')) continue;
    if (item.status === 404 && opts.allowGone) {
      out.push({ key, gone: true });
      continue;
    }
    const data = textOf(item.props['calendarData']);
    if (item.status < 200 || item.status >= 300 || data === undefined) return err('malformed');
    out.push({ key, gone: false, etag: textOf(item.props['getetag']) ?? null, data });
  }
  return ok(out);
}
