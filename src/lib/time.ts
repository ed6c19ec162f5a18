/**
 * Time helpers for the edges (pages, e-mails, the slot engine's offsets): UTC instants inside,
 * zones only here. Built on cached Intl.DateTimeFormat objects rather than luxon: a page lists
 * dozens of times, and luxon recomputes zone offsets (formatToParts) for every DateTime.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;
const MAX_CACHED = 2000;

const formatters = new Map<string, Intl.DateTimeFormat | null>();

/** A cached formatter; null when Intl does not know the zone or locale. */
function formatter(locale: string, tz: string, options: Intl.DateTimeFormatOptions, kind: string): Intl.DateTimeFormat | null {
  const key = `${kind}|${locale}|${tz}`;
  let f = formatters.get(key);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat(locale, { ...options, timeZone: tz });
    } catch {
      f = null;
    }
    // Zone names are case-insensitive, so the key space is unbounded: keep memory bounded.
    if (formatters.size >= MAX_CACHED) formatters.clear();
    formatters.set(key, f);
  }
  return f;
}

const OFFSET_RE = /GMT(?:([+\-\u2212])(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** UTC offset in ms (local − UTC) of a zone at an instant, or null for an unknown zone. */
export function zoneOffset(tz: string, instant: number): number | null {
  const f = formatter('en-US', tz, { timeZoneName: 'longOffset' }, 'offset');
  if (!f) return null;
  const m = OFFSET_RE.exec(f.format(instant));
  if (!m) throw new Error(`unexpected Intl offset format for ${tz}`);
  if (m[1] === undefined) return 0;
  const abs = Number(m[2]) * 3600_000 + Number(m[3]) * MINUTE + Number(m[4] ?? 0) * 1000;
  return m[1] === '+' ? abs : -abs;
}

const QUARTER = 15 * MINUTE;
const MODERN = Date.UTC(1980, 0, 1);
const offsets = new Map<string, number>();

/**
 * The offset, memoised per zone and quarter hour: since 1980 every zone changes its offset on
 * a quarter-hour boundary (in UTC too, offsets being whole quarter hours), so one lookup per
 * quarter is exact. Older instants are computed each time.
 */
function offset(tz: string, instant: number): number {
  const quarter = Math.floor(instant / QUARTER);
  const key = instant >= MODERN ? `${tz}|${quarter}` : '';
  let o = key ? offsets.get(key) : undefined;
  if (o === undefined) {
    const z = zoneOffset(tz, quarter * QUARTER);
    if (z === null) throw new RangeError(`unknown time zone ${tz}`);
    o = instant >= MODERN ? z : (zoneOffset(tz, instant) as number);
    if (key) {
      if (offsets.size >= 100_000) offsets.clear();
      offsets.set(key, o);
    }
  }
  return o;
}

/** Whether a string is an IANA zone name we can use. */
export function isZone(tz: string): boolean {
  return tz.length > 0 && tz.length <= 64 && /^[A-Za-z0-9_+\-/]+$/.test(tz) && zoneOffset(tz, 0) !== null;
}

let zones: readonly string[] | undefined;

/** Every IANA zone the runtime knows (and UTC, which some runtimes leave out), for zone pickers. Read on first use: a start needs no zone data. */
export function allZones(): readonly string[] {
  if (zones === undefined) {
    const known = Intl.supportedValuesOf('timeZone');
    zones = known.includes('UTC') ? known : [...known, 'UTC'];
  }
  return zones;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** YYYY-MM-DD → epoch ms of that date at 00:00 UTC, or null when it is not a real date. */
function utcDate(date: string): number | null {
  const m = DATE_RE.exec(date);
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(t).toISOString().slice(0, 10) === date ? t : null;
}

/** The instant of a local wall-clock time (as if UTC) in a zone; a DST gap moves forward (RFC 5545). */
function localToInstant(wall: number, tz: string): number {
  const before = offset(tz, wall - DAY);
  const after = offset(tz, wall + DAY);
  const a = wall - before;
  if (before === after || offset(tz, a) === before) return a;
  const b = wall - after;
  return offset(tz, b) === after ? b : a;
}

const days = new Map<string, { start: number; end: number } | null>();

/** YYYY-MM-DD → [local midnight, next local midnight) in the zone, as epoch ms (memoised). */
export function dayRange(date: string, tz: string): { start: number; end: number } | null {
  const key = `${date}|${tz}`;
  let r = days.get(key);
  if (r === undefined) {
    const d = utcDate(date);
    r = d === null || !isZone(tz) ? null : { start: localToInstant(d, tz), end: localToInstant(d + DAY, tz) };
    if (days.size >= 20_000) days.clear();
    days.set(key, r);
  }
  return r;
}

/** The local date (YYYY-MM-DD) of an instant in a zone. */
export function dateIn(ms: number, tz: string): string {
  return new Date(ms + offset(tz, ms)).toISOString().slice(0, 10);
}

/** An instant as ISO 8601 with the zone's offset, as the slots JSON lists it. */
export function isoIn(ms: number, tz: string): string {
  const o = offset(tz, ms);
  const local = new Date(ms + o).toISOString().slice(0, 19);
  if (o === 0) return `${local}Z`;
  const abs = Math.abs(o) / MINUTE;
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${o < 0 ? '-' : '+'}${hh}:${mm}`;
}

const INSTANT_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an ISO instant with an explicit offset or Z; null otherwise. */
export function parseInstant(s: string): number | null {
  const m = INSTANT_RE.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, sec = '00', z] = m as unknown as [string, string, string, string, string, string, string | undefined, string];
  if (utcDate(`${y}-${mo}-${d}`) === null || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return null;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  if (z === 'Z') return wall;
  const sign = z.startsWith('-') ? -1 : 1;
  const off = (Number(z.slice(1, 3)) * 60 + Number(z.slice(4, 6))) * MINUTE;
  return Number(z.slice(1, 3)) > 18 ? null : wall - sign * off;
}

function format(ms: number, tz: string, lang: string, kind: string, options: Intl.DateTimeFormatOptions): string {
  return formatter(lang, tz, options, kind)?.format(ms) ?? new Date(ms).toISOString();
}

/** "Tuesday 1 December 2026" in the visitor's language. */
export function formatDate(ms: number, tz: string, lang: string): string {
  return format(ms, tz, lang, 'date', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
}

/** A 12- or 24-hour clock, as the visitor chose (`?hc=`); absent = the language's habit. */
export type HourCycle = '12' | '24';

/** The `?hc=` value, when it is one. */
export function hourCycleOf(v: unknown): HourCycle | undefined {
  return v === '12' || v === '24' ? v : undefined;
}

/** "09:30" (or "9:30 AM") in the visitor's language and clock. */
export function formatTime(ms: number, tz: string, lang: string, hc?: HourCycle): string {
  if (!hc) return format(ms, tz, lang, 'time', { hour: 'numeric', minute: '2-digit' });
  return format(ms, tz, lang, `time${hc}`, { hour: 'numeric', minute: '2-digit', hourCycle: hc === '24' ? 'h23' : 'h12' });
}

/** The place a zone is named after: "New York" for America/New_York, "Buenos Aires" for America/Argentina/Buenos_Aires. */
export function zoneCity(tz: string): string {
  return (tz.split('/').pop() ?? tz).replace(/_/g, ' ');
}

/** "New York — 09:14": a zone as people know it, with its time now. */
export function friendlyZone(tz: string, now: number, lang: string, hc?: HourCycle): string {
  return `${zoneCity(tz)} — ${formatTime(now, tz, lang, hc)}`;
}

/** A calendar date's own day names, whatever the zone (noon UTC of that date). */
function dateNoon(date: string): number {
  return (utcDate(date) ?? 0) + 12 * 3600_000;
}

/** "Tuesday 1 December 2026" for a calendar date (no zone involved). */
export function formatDateOnly(date: string, lang: string): string {
  return formatDate(dateNoon(date), 'UTC', lang);
}

/** "December 2026" for a YYYY-MM month. */
export function formatMonth(month: string, lang: string): string {
  return format(dateNoon(`${month}-15`), 'UTC', lang, 'month', { month: 'long', year: 'numeric' });
}

/** Day of the week of a calendar date, Monday = 0 … Sunday = 6. */
export function weekdayIndex(date: string): number {
  return (new Date(dateNoon(date)).getUTCDay() + 6) % 7;
}

/** Short and long weekday names, Monday first, in the visitor's language. */
export function weekdayNames(lang: string): { short: string; long: string }[] {
  // 2024-01-01 was a Monday.
  return Array.from({ length: 7 }, (_, i) => {
    const noon = dateNoon(`2024-01-0${i + 1}`);
    return { short: format(noon, 'UTC', lang, 'wd', { weekday: 'short' }).replace(/\.$/, ''), long: format(noon, 'UTC', lang, 'wdl', { weekday: 'long' }) };
  });
}

/** Adds whole days to a YYYY-MM-DD date. */
export function addDays(date: string, days: number): string {
  const d = utcDate(date);
  return d === null ? date : new Date(d + days * DAY).toISOString().slice(0, 10);
}

/** The zone's name for display next to times, e.g. "Europe/Paris (UTC+01:00)". */
export function zoneLabel(tz: string, at: number): string {
  const iso = isoIn(at, tz);
  const o = iso.endsWith('Z') ? '+00:00' : iso.slice(-6);
  return `${tz.replace(/_/g, ' ')} (UTC${o})`;
}

const SPAN = 6 * 3_600_000;
/** Instants Date can hold (±100,000,000 days around 1970); Intl and luxon have no offset beyond. */
const LAST_INSTANT = 8.64e15;
/** Spans remembered per zone before its memo starts over (about 1 MB; a calendar touches a few hundred). */
const MAX_SPANS = 20_000;

/**
 * A span of six hours: one offset, or an offset `before` up to the instant `at` (a whole
 * second) and `after` from then on; `null` when a third offset shows up inside it (never seen
 * in the zone database: such a span is asked of Intl at every call rather than guessed).
 */
type Span = number | { readonly at: number; readonly before: number; readonly after: number } | null;

/**
 * `zoneOffset` for one zone, memoised: UTC offset in ms at an instant, NaN when the instant or its
 * local time is outside what Date can hold, null for a zone Intl does not know. Zone rules change the offset at most once in any
 * six hours, so each six-hour span (UTC-aligned) is sampled at both ends, and a span whose ends
 * differ has its change found to the second by bisection (offsets change on whole seconds). The
 * calendar reader asks for an offset several times per occurrence: this costs a map look-up
 * where an Intl call costs microseconds, with the same answers.
 */
export function zoneOffsetMemo(tz: string): ((instant: number) => number) | null {
  if (zoneOffset(tz, 0) === null) return null;
  const exact = (t: number): number => zoneOffset(tz, t) as number;
  const edges = new Map<number, number>();
  const spans = new Map<number, Span>();
  const edge = (k: number): number => {
    let o = edges.get(k);
    if (o === undefined) {
      o = exact(k * SPAN);
      edges.set(k, o);
    }
    return o;
  };
  const fill = (k: number): Span => {
    const before = edge(k);
    const after = edge(k + 1);
    if (before === after) return before;
    let lo = k * SPAN;
    let hi = lo + SPAN;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      const o = exact(mid);
      if (o === before) lo = mid;
      else if (o === after) hi = mid;
      else return null;
    }
    return { at: hi, before, after };
  };
  return (instant) => {
    if (!(instant >= -LAST_INSTANT && instant <= LAST_INSTANT)) return NaN;
    const k = Math.floor(instant / SPAN);
    let s = spans.get(k);
    // The last span's far end is past what Date holds: asked of Intl each time.
    if (s === undefined && (k + 1) * SPAN > LAST_INSTANT) s = null;
    else if (s === undefined) {
      if (spans.size >= MAX_SPANS) {
        spans.clear();
        edges.clear();
      }
      s = fill(k);
      spans.set(k, s);
    }
    const o = typeof s === 'number' ? s : s === null ? exact(instant) : instant < s.at ? s.before : s.after;
    // A local time Date cannot hold has no offset either (as luxon answers).
    return Math.abs(instant + o) <= LAST_INSTANT ? o : NaN;
  };
}

/** A UTC instant as iCalendar, CalDAV time-ranges and calendar links write it: 20261203T141500Z. */
export function utcStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}
