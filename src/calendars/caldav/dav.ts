import { davRequest } from 'tsdav';
import { err, ok } from '../../lib/result.js';
import type { Result } from '../../lib/result.js';
import type { CalendarFailure } from '../provider.js';
import { TransportError } from './http.js';
import type { Transport } from './http.js';

/**
 * The WebDAV half of the CalDAV client: PROPFIND and REPORT through the guarded transport, with
 * the answer's XML checked for depth before tsdav parses it, and every status checked here
 * (tsdav does not throw on HTTP errors). What the answers mean is read in map.ts.
 */

export const NS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"';
export const XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>';
/** Objects one calendar may hold before we refuse to read it (fail closed). */
export const MAX_OBJECTS = 10_000;
/**
 * Nesting a CalDAV answer never needs (a multistatus is about 8 deep; an embedded XML property a
 * few more). Deeper XML is refused before the parser, which would otherwise stall on it.
 */
export const MAX_XML_DEPTH = 64;

export interface DavItem {
  readonly href: string;
  readonly status: number;
  readonly props: Readonly<Record<string, unknown>>;
}

/** A multistatus answer: its items, and the URL that answered. */
export interface DavAnswer {
  readonly items: DavItem[];
  readonly url: string;
  /** The multistatus's own DAV:sync-token (RFC 6578), as parsed (read it with map.ts `tagOf`). */
  readonly syncToken?: unknown;
}

/** A failure, with the HTTP status when the server answered one (discovery tells 404 from 401). */
export interface DavFailure {
  readonly reason: CalendarFailure;
  readonly status?: number;
}

export type DavResult = Result<DavAnswer, DavFailure>;

/** How a non-success HTTP status is reported. */
export function failureOfStatus(status: number): CalendarFailure {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'unreachable';
  return 'malformed';
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Whether XML stays within `max` levels of nesting and declares no DOCTYPE (entity tricks).
 * One pass over the text, quotes, comments, CDATA and processing instructions skipped.
 */
export function xmlWithinDepth(body: Buffer, max = MAX_XML_DEPTH): boolean {
  const s = body.toString('utf8');
  let depth = 0;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const lt = s.indexOf('<', i);
    if (lt < 0) return true;
    const next = s.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      if (s.startsWith('<!--', lt)) i = endOf(s, '-->', lt + 4);
      else if (s.startsWith('<![CDATA[', lt)) i = endOf(s, ']]>', lt + 9);
      else return false;
      if (i < 0) return false;
      continue;
    }
    if (next === 0x3f /* ? */) {
      i = endOf(s, '?>', lt + 2);
      if (i < 0) return false;
      continue;
    }
    if (next === 0x2f /* / */) {
      depth--;
      i = endOf(s, '>', lt + 2);
      if (i < 0 || depth < 0) return false;
      continue;
    }
    // An opening tag: find its end outside quoted attribute values.
    let j = lt + 1;
    let quote = 0;
    for (; j < n; j++) {
      const c = s.charCodeAt(j);
      if (quote !== 0) {
        if (c === quote) quote = 0;
      } else if (c === 0x22 || c === 0x27) quote = c;
      else if (c === 0x3e /* > */) break;
    }
    if (j >= n) return false;
    if (s.charCodeAt(j - 1) !== 0x2f /* self-closing */ && ++depth > max) return false;
    i = j + 1;
  }
  return true;
}

function endOf(s: string, marker: string, from: number): number {
  const at = s.indexOf(marker, from);
  return at < 0 ? -1 : at + marker.length;
}

/** One WebDAV request whose answer must be a multistatus; `deadline` is shared by a whole read. */
export async function dav(t: Transport, method: string, url: string, depth: '0' | '1', body: string, deadline?: number): Promise<DavResult> {
  let raw: unknown[];
  try {
    raw = await davRequest({
      url,
      init: { method: method as 'PROPFIND', headers: { depth, 'content-type': 'application/xml; charset=utf-8' }, body },
      convertIncoming: false,
      fetch: t.fetchWith((b) => xmlWithinDepth(b), deadline),
    });
  } catch (e) {
    if (e instanceof TransportError) return err({ reason: e.reason });
    return err({ reason: 'malformed' });
  }
  const first = raw[0];
  if (!isRecord(first)) return err({ reason: 'malformed' });
  const httpStatus = typeof first['status'] === 'number' ? first['status'] : 0;
  const multistatus = isRecord(first['raw']) && isRecord(first['raw']['multistatus']) ? first['raw']['multistatus'] : null;
  const syncToken = multistatus?.['syncToken'];
  if (!('props' in first)) {
    // An empty multistatus: tsdav returns one item without props.
    if (multistatus) return ok({ items: [], url, ...(syncToken === undefined ? {} : { syncToken }) });
    // Not a multistatus (an error status, or XML tsdav could not parse).
    if (httpStatus === 207 || (httpStatus >= 200 && httpStatus < 300)) return err({ reason: 'malformed' });
    return err({ reason: failureOfStatus(httpStatus), status: httpStatus });
  }
  if (raw.length > MAX_OBJECTS + 1) return err({ reason: 'malformed' });
  const items: DavItem[] = [];
  for (const r of raw) {
    if (!isRecord(r) || typeof r['href'] !== 'string') return err({ reason: 'malformed' });
    items.push({ href: r['href'], status: typeof r['status'] === 'number' ? r['status'] : 0, props: isRecord(r['props']) ? r['props'] : {} });
  }
  return ok({ items, url, ...(syncToken === undefined ? {} : { syncToken }) });
}

/** PROPFIND for the given properties (XML fragments). */
export async function propfind(t: Transport, url: string, depth: '0' | '1', props: string, deadline?: number): Promise<DavResult> {
  return dav(t, 'PROPFIND', url, depth, `${XML_HEAD}<d:propfind ${NS}><d:prop>${props}</d:prop></d:propfind>`, deadline);
}

/** A failure as callers see it (the HTTP status stays internal). */
export function failed(r: { readonly error: DavFailure }): { readonly ok: false; readonly error: CalendarFailure } {
  return err(r.error.reason);
}

export function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
