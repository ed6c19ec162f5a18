import { randomBytes } from 'node:crypto';
import type { Interval } from '../../lib/interval.js';
import { utcStamp } from '../../lib/time.js';
import type { BusyEngine } from '../busy-pool.js';
import type { CalendarFailure, CalendarInfo } from '../provider.js';
import { dav, failureOfStatus, NS, propfind, XML_HEAD } from './dav.js';
import { calendarUserAddresses, discoverCaldav } from './discovery.js';
import { createTransport } from './http.js';
import type { Transport } from './http.js';
import { collectionUrl, listedObjects, objectsOf, pathKey, tagOf, textOf } from './map.js';
import { MULTIGET_BATCH, multigetQuery } from './view.js';

/**
 * The connection check (issue #14.5): what works and what does not with this CalDAV account,
 * as a short list of findings the calendar page renders in plain words (locales:
 * `calendar:check.<key>`). It reads the server as Creneau will — password, discovery, write
 * privilege, scheduling, CTag/sync-token, every object of the busy calendars through the same
 * worker reader — and, only with the staff member's consent, writes a recurring test event
 * (no personal data), looks for a later occurrence by date, and removes it.
 *
 * An object the busy reader refuses is named by its SUMMARY and UID so the staff member can
 * fix it. Those come from their own calendar and are shown to them only: never logged, never
 * stored (the result is rendered into the answer to their request and forgotten).
 */

export type FindingLevel = 'ok' | 'warn' | 'error';

export interface Finding {
  /** `calendar:check.<key>` in the locales. */
  readonly key: string;
  readonly level: FindingLevel;
  readonly params?: Readonly<Record<string, string>>;
}

export interface ProbeOptions {
  /** The address the staff member entered (credentials go to its origin only). */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly allowHosts: readonly string[];
  readonly bookingCalendar: string;
  readonly conflictCalendars: readonly string[];
  /** The staff member's profile e-mail: the organizer of their bookings. */
  readonly organizerEmail: string;
  readonly timeZone: string;
  /** Host for the test event's UID (CRENEAU_BASE_URL's). */
  readonly uidHost: string;
  /** The staff member agreed to a test event being written and removed. */
  readonly write: boolean;
  readonly engine: BusyEngine;
  readonly now: number;
  /** The whole check's budget. */
  readonly timeoutMs?: number;
}

const DAY = 86_400_000;
/** The window the busy read is checked over (the default booking horizon). */
const CHECK_DAYS = 60;
/** Unreadable objects named per calendar at most. */
const MAX_NAMED = 5;
/** Busy reads one calendar's search for unreadable objects may take. */
const MAX_SEARCH_READS = 60;
const CHECK_MS = 45_000;

/** Which provider-specific advice goes with a refused password. */
export function authRefused(url: string): Finding {
  let host = '';
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    // advice for any server
  }
  const is = (domain: string): boolean => host === domain || host.endsWith(`.${domain}`);
  if (is('icloud.com') || is('me.com')) return { key: 'auth_refused_icloud', level: 'error' };
  if (is('fastmail.com') || is('messagingengine.com')) return { key: 'auth_refused_fastmail', level: 'error' };
  if (is('google.com') || is('googleusercontent.com')) return { key: 'auth_refused_google', level: 'error' };
  return { key: 'auth_refused', level: 'error' };
}

/** Runs the check; never throws for anything the server does. */
export async function probeCaldav(opts: ProbeOptions): Promise<Finding[]> {
  const deadline = Date.now() + (opts.timeoutMs ?? CHECK_MS);
  const findings: Finding[] = [];
  const found = await discoverCaldav({ url: opts.url, username: opts.username, password: opts.password, allowHosts: opts.allowHosts });
  if (!found.ok) {
    if (typeof found.error !== 'string') return [{ key: 'foreign_origin', level: 'error', params: { origin: found.error.foreignOrigin } }];
    return [found.error === 'unauthorized' ? authRefused(opts.url) : failureFinding(found.error)];
  }
  const calendars = found.value.calendars;
  findings.push({ key: 'auth_ok', level: 'ok', params: { n: String(calendars.length) } });

  const t = createTransport({ username: opts.username, password: opts.password, allowHosts: opts.allowHosts, origin: new URL(opts.url).origin });
  const booking = collectionUrl(opts.bookingCalendar);
  const byId = new Map(calendars.map((c) => [collectionUrl(c.id), c]));
  const nameOf = (url: string): string => byId.get(collectionUrl(url))?.name ?? url;
  const target = byId.get(booking);
  if (!target) findings.push({ key: 'booking_missing', level: 'error', params: { calendar: booking } });
  else if (!target.writable) findings.push({ key: 'read_only', level: 'error', params: { calendar: target.name } });
  else findings.push({ key: 'writable', level: 'ok', params: { calendar: target.name } });

  findings.push(await scheduling(t, booking, found.value.serverSchedules, opts.organizerEmail));

  const conflicts = [...new Set([booking, ...opts.conflictCalendars.map(collectionUrl)])];
  for (const cal of conflicts) {
    if (cal !== booking && !byId.has(cal)) findings.push({ key: 'conflict_missing', level: 'warn', params: { calendar: cal } });
  }
  const present = conflicts.filter((c) => byId.has(c));
  const tagless = [];
  for (const cal of present) if (!(await hasChangeTag(t, cal, deadline))) tagless.push(nameOf(cal));
  findings.push(tagless.length ? { key: 'no_ctag', level: 'warn', params: { calendars: tagless.join(', ') } } : { key: 'ctag', level: 'ok' });

  const window: Interval = { start: opts.now, end: opts.now + CHECK_DAYS * DAY };
  let readable = true;
  let objects = 0;
  for (const cal of present) {
    const r = await readCalendar(t, cal, nameOf(cal), opts, window, deadline);
    objects += r.objects;
    if (r.findings.length) {
      readable = false;
      findings.push(...r.findings);
    }
  }
  if (readable && present.length) findings.push({ key: 'busy_ok', level: 'ok', params: { n: String(objects), days: String(CHECK_DAYS) } });

  if (opts.write && target?.writable) findings.push(...(await writeProbe(t, booking, target, opts, deadline)));
  return findings;
}

function failureFinding(f: CalendarFailure): Finding {
  return { key: `failure_${f}`, level: 'error' };
}

/** Who will e-mail the client, as the server describes itself (RFC 6638) and the profile e-mail decides. */
async function scheduling(t: Transport, booking: string, autoSchedule: boolean, email: string): Promise<Finding> {
  if (!autoSchedule) return { key: 'creneau_invites', level: 'ok' };
  const addresses = await calendarUserAddresses(t, booking);
  if (addresses === null) return { key: 'server_addresses_unknown', level: 'warn' };
  if (addresses.includes(email.trim().toLowerCase())) return { key: 'server_invites', level: 'ok' };
  return { key: 'server_other_address', level: 'warn', params: { email, addresses: addresses.join(', ') || '—' } };
}

/** Whether the calendar has a CTag or a sync-token (cheap "has anything changed?"). */
async function hasChangeTag(t: Transport, cal: string, deadline: number): Promise<boolean> {
  const r = await propfind(t, cal, '0', '<cs:getctag xmlns:cs="http://calendarserver.org/ns/"/><d:sync-token/>', deadline);
  if (!r.ok) return false;
  const own = r.value.items.find((i) => pathKey(i.href, cal) === pathKey(cal, cal)) ?? r.value.items[0];
  return Boolean(own && (tagOf(own.props['getctag']) || textOf(own.props['syncToken'])));
}

/**
 * Reads every object of one calendar as the busy read does (listing, multiget, minimize and
 * expansion in the worker pool), and when the read fails, finds which objects fail on their own.
 */
async function readCalendar(
  t: Transport,
  cal: string,
  name: string,
  opts: ProbeOptions,
  window: Interval,
  deadline: number,
): Promise<{ objects: number; findings: Finding[] }> {
  const failed = (f: CalendarFailure): { objects: number; findings: Finding[] } => ({ objects: 0, findings: [{ key: 'calendar_unreadable', level: 'error', params: { calendar: name, reason: f } }] });
  const listing = await propfind(t, cal, '1', '<d:getetag/><d:resourcetype/>', deadline);
  if (!listing.ok) return failed(listing.error.reason);
  const listed = listedObjects(listing.value.items, cal);
  if (!listed.ok) return failed('malformed');
  const findings: Finding[] = [];
  /** Minimized objects (what the busy read sees) and where each came from; the full texts are not kept. */
  const texts: string[] = [];
  const hrefOf: string[] = [];
  let objects = 0;
  const entries = [...listed.value.values()];
  for (let i = 0; i < entries.length; i += MULTIGET_BATCH) {
    const r = await dav(t, 'REPORT', cal, '1', multigetQuery(entries.slice(i, i + MULTIGET_BATCH).map((o) => o.href)), deadline);
    if (!r.ok) return failed(r.error.reason);
    const got = objectsOf(r.value.items, cal, { allowGone: true });
    if (!got.ok) return failed('malformed');
    const present = got.value.flatMap((o) => (o.gone ? [] : [o]));
    objects += present.length;
    const small = await opts.engine.minimize(present.map((o) => o.data));
    if (!small.ok) return failed(small.error);
    present.forEach((o, n) => {
      const s = small.value[n];
      if (s === undefined || s === null) {
        // It does not even parse: named from the text in hand.
        if (findings.length < MAX_NAMED) findings.push(named(o.data, name));
      } else {
        texts.push(s);
        hrefOf.push(new URL(listed.value.get(o.key)?.href ?? o.key, cal).href);
      }
    });
  }
  const key = `check:${randomBytes(6).toString('hex')}`;
  let reads = 0;
  let stopped = false;
  /** Whether the busy read of these objects fails (false when out of time: nothing is blamed). */
  const fails = async (ix: readonly number[]): Promise<boolean> => {
    if (reads++ >= MAX_SEARCH_READS || Date.now() >= deadline) {
      stopped = true;
      return false;
    }
    const r = await opts.engine.busy(key, ix.map((i) => texts[i] ?? ''), window, opts.timeZone, deadline);
    if (!r.ok && (r.error === 'timeout' || Date.now() >= deadline)) {
      stopped = true;
      return false;
    }
    return !r.ok;
  };
  const search = async (ix: readonly number[]): Promise<void> => {
    if (findings.length >= MAX_NAMED || stopped) return;
    if (ix.length === 1) {
      // The minimized text has no SUMMARY: the object is read again to be named.
      findings.push(named(await fullText(t, hrefOf[ix[0] as number] ?? cal, deadline), name));
      return;
    }
    const half = ix.length >> 1;
    for (const part of [ix.slice(0, half), ix.slice(half)]) if (await fails(part)) await search(part);
  };
  const all = texts.map((_, i) => i);
  const before = findings.length;
  if (all.length && (await fails(all))) {
    await search(all);
    // Every object reads on its own but not all together: the calendar as a whole is over the budget.
    if (findings.length === before) findings.push({ key: stopped ? 'calendar_check_stopped' : 'calendar_too_costly', level: 'error', params: { calendar: name } });
  }
  return { objects, findings };
}

/** One object's full text, or '' when it cannot be read again (then it is named "—"). */
async function fullText(t: Transport, url: string, deadline: number): Promise<string> {
  const r = await t.request({ method: 'GET', url, headers: { accept: 'text/calendar' }, deadline });
  return r.ok && r.value.status === 200 ? r.value.body.toString('utf8') : '';
}

/** An unreadable object, named by its SUMMARY and UID as written (text, escaped where shown). */
function named(text: string, calendar: string): Finding {
  return { key: 'object_unreadable', level: 'error', params: { calendar, summary: propertyOf(text, 'SUMMARY') ?? '—', uid: propertyOf(text, 'UID') ?? '—' } };
}

/** The first value of a property in raw (maybe broken) ICS, unfolded and unescaped, cut to 120 characters. */
export function propertyOf(text: string, name: string): string | null {
  const unfolded = text.slice(0, 200_000).replace(/\r?\n[ \t]/g, '');
  const m = new RegExp(`^${name}(?:;[^:\\r\\n]*)?:(.*)$`, 'im').exec(unfolded);
  if (!m) return null;
  const value = (m[1] ?? '')
    .replace(/\r$/, '')
    .replace(/\\([nN,;\\])/g, (_, c: string) => (c === 'n' || c === 'N' ? ' ' : c))
    .trim();
  return value === '' ? null : [...value].slice(0, 120).join('');
}


/**
 * With consent: a weekly test event (three occurrences, in the past, transparent, no attendee,
 * no personal data) is written, a time-range query must find it by its third occurrence (the
 * server expands recurrences), then it is deleted.
 */
async function writeProbe(t: Transport, booking: string, target: CalendarInfo, opts: ProbeOptions, deadline: number): Promise<Finding[]> {
  const id = randomBytes(10).toString('hex');
  const url = new URL(`creneau-check-${id}.ics`, booking).href;
  const start = Math.floor((opts.now - 28 * DAY) / 3_600_000) * 3_600_000;
  const ics = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Creneau//connection check//EN',
    'BEGIN:VEVENT',
    `UID:creneau-check-${id}@${opts.uidHost}`,
    `DTSTAMP:${utcStamp(opts.now)}`,
    `DTSTART:${utcStamp(start)}`,
    'DURATION:PT15M',
    'RRULE:FREQ=WEEKLY;COUNT=3',
    'SUMMARY:Creneau connection check',
    'TRANSP:TRANSPARENT',
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
  const put = await t.request({ method: 'PUT', url, headers: { 'content-type': 'text/calendar; charset=utf-8', 'if-none-match': '*' }, body: ics, deadline });
  if (!put.ok) return [{ key: 'write_failed', level: 'error', params: { calendar: target.name, reason: put.error } }];
  if (![200, 201, 204].includes(put.value.status)) {
    const reason = failureOfStatus(put.value.status);
    return [{ key: reason === 'unauthorized' ? 'write_refused' : 'write_failed', level: 'error', params: { calendar: target.name, reason } }];
  }
  const out: Finding[] = [];
  const third = start + 14 * DAY;
  const query = `${XML_HEAD}<c:calendar-query ${NS}><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="${utcStamp(third - 3_600_000)}" end="${utcStamp(third + 3_600_000)}"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`;
  const r = await dav(t, 'REPORT', booking, '1', query, deadline);
  const mine = pathKey(url, booking);
  const seen = r.ok && r.value.items.some((i) => pathKey(i.href, booking) === mine);
  out.push(seen ? { key: 'recurring_found', level: 'ok', params: { calendar: target.name } } : { key: 'recurring_missed', level: 'warn', params: { calendar: target.name } });
  const del = await t.request({ method: 'DELETE', url, deadline });
  const removed = del.ok && [200, 204, 404, 410].includes(del.value.status);
  out.push(removed ? { key: 'write_removed', level: 'ok' } : { key: 'cleanup_failed', level: 'error', params: { calendar: target.name } });
  return out;
}
