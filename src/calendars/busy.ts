import ICAL from 'ical.js';
import type { Interval } from '../lib/interval.js';
import { mergeIntervals } from '../lib/interval.js';
import { err, ok } from '../lib/result.js';
import { zoneOffsetMemo } from '../lib/time.js';
import type { Result } from '../lib/result.js';
import { datesInRange, neverMatches } from './ics-guard.js';
import { repairIcs } from './ics-repair.js';
import { iteratorOf, resetCandidateBudget, TooCostly } from './recur-iterator.js';

/**
 * ICS → busy intervals (DESIGN.md §4). Recurrences are expanded here, never by the server,
 * because servers disagree on `expand` and on time-range filters. Every local time is turned
 * into an instant with RFC 5545 §3.3.5 rules (gap: offset before; ambiguous: first).
 * Calendar data is untrusted: each read has a budget of occurrences and of candidate dates the
 * recurrence iterator may try, and runs in a worker (busy-pool.ts) with a wall-clock budget.
 */

/** `too_costly`: over the budget of one read; `malformed`: does not parse, or impossible dates. */
export type IcsFailure = 'malformed' | 'too_costly';
export type IcsBusyResult = Result<Interval[], IcsFailure>;

/** `self`: the staff member's calendar-user addresses; an event they declined is free. */
export interface BusyOptions {
  readonly self?: readonly string[];
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Iterations one recurring series may take (after skipping whole periods before the window). */
const SERIES_ITERATION_CAP = 20_000;
/** Iterations one busyFromIcs call may take over all series. */
const TOTAL_ITERATION_CAP = 50_000;
const COMPONENT_CAP = 50_000;

class Malformed extends Error {}

/** UTC offset in ms of a zone at a UTC instant. */
type OffsetFn = (utcMs: number) => number;

const UTC_OFFSET: OffsetFn = () => 0;

/** A DATE (all-day) or a DATE-TIME in a zone; `wall` is the wall clock as if it were UTC. */
type When = { readonly date: true; readonly wall: number } | { readonly date: false; readonly wall: number; readonly zone: OffsetFn };

/** How long each instance of a series lasts. */
type Length =
  | { readonly kind: 'exact'; readonly ms: number }
  | { readonly kind: 'nominal'; readonly days: number; readonly ms: number }
  | { readonly kind: 'none' };

interface Ctx {
  readonly business: OffsetFn;
  readonly self: ReadonlySet<string>;
  readonly window: Interval;
  budget: number;
}

/** Busy intervals (merged, clipped to `window`) of calendar object resources, or `malformed`. */
export function busyFromIcs(icsTexts: readonly string[], window: Interval, timeZone: string, opts: BusyOptions = {}): IcsBusyResult {
  return busyReader(timeZone, opts)(icsTexts, window);
}

/** What a reader keeps of one object: its spans when they cannot depend on the window, else its parse. */
type Remembered = { readonly spans: readonly Interval[] } | { readonly calendars: readonly ICAL.Component[] };

const ALL_TIME: Interval = { start: -8.64e15, end: 8.64e15 };

/**
 * `busyFromIcs` for objects read again and again (a CalDAV calendar's in-memory view): each
 * object's text is parsed once, and one without RRULE keeps its spans, which do not depend on
 * the window. Only the objects of the last successful read are kept.
 */
export function busyReader(timeZone: string, opts: BusyOptions = {}): (icsTexts: readonly string[], window: Interval) => IcsBusyResult {
  let known = new Map<string, Remembered>();
  const self = new Set((opts.self ?? []).map(addressOf));
  return (icsTexts, window) => {
    const business = ianaOffset(timeZone);
    if (!business || !(window.end > window.start)) return err('malformed');
    const ctx: Ctx = { business, self, window, budget: TOTAL_ITERATION_CAP };
    resetCandidateBudget();
    const next = new Map<string, Remembered>();
    const spans: Interval[] = [];
    try {
      for (const text of icsTexts) {
        let r = next.get(text) ?? known.get(text);
        if (!r) {
          const calendars = parseCalendars(text);
          const recurring = calendars.some((cal) => cal.getAllSubcomponents('vevent').some((ev) => ev.hasProperty('rrule')));
          if (recurring) r = { calendars };
          else {
            const own: Interval[] = [];
            for (const cal of calendars) busyOfCalendar(cal, { business, self, window: ALL_TIME, budget: ctx.budget }, own);
            r = { spans: own };
          }
        }
        next.set(text, r);
        if ('spans' in r) spans.push(...r.spans);
        else for (const cal of r.calendars) busyOfCalendar(cal, ctx, spans);
      }
    } catch (e) {
      // ical.js throws plain Errors on bad input; our own Malformed covers bad zones and dates.
      return err(e instanceof TooCostly ? 'too_costly' : 'malformed');
    }
    known = next;
    const clipped: Interval[] = [];
    for (const s of spans) {
      const start = Math.max(s.start, window.start);
      const end = Math.min(s.end, window.end);
      if (end > start) clipped.push({ start, end });
    }
    return ok(mergeIntervals(clipped));
  };
}

/** Parses one text into its VCALENDAR components; anything else is malformed. */
export function parseCalendars(text: string): ICAL.Component[] {
  if (text.trim() === '') throw new Malformed('empty');
  const parsed: unknown = ICAL.parse(repairIcs(text));
  if (!Array.isArray(parsed) || parsed.length === 0) throw new Malformed('empty');
  // ical.js rolls month 13 or hour 99 over into real dates: such an object is refused instead.
  const list: unknown[] = typeof parsed[0] === 'string' ? [parsed] : parsed;
  const out: ICAL.Component[] = [];
  for (const jcal of list) {
    if (!Array.isArray(jcal)) throw new Malformed('not a component');
    if (!datesInRange(jcal)) throw new Malformed('date out of range');
    const comp = new ICAL.Component(jcal);
    if (comp.name !== 'vcalendar') throw new Malformed('not a VCALENDAR');
    out.push(comp);
  }
  return out;
}

function busyOfCalendar(cal: ICAL.Component, ctx: Ctx, spans: Interval[]): void {
  const events = cal.getAllSubcomponents('vevent');
  if (events.length > COMPONENT_CAP) throw new Malformed('too many components');
  const zones = zoneResolver(cal, ctx);
  const byUid = new Map<string, ICAL.Component[]>();
  events.forEach((ev, i) => {
    const uid = ev.getFirstPropertyValue('uid');
    const key = typeof uid === 'string' && uid !== '' ? `u:${uid}` : `i:${i}`;
    const group = byUid.get(key);
    if (group) group.push(ev);
    else byUid.set(key, [ev]);
  });
  for (const group of byUid.values()) {
    const masters = group.filter((e) => !e.hasProperty('recurrence-id'));
    const overrides = group.filter((e) => e.hasProperty('recurrence-id'));
    const replaced = new Set<string>();
    const futures: Future[] = [];
    for (const o of overrides) {
      const ridProp = o.getFirstProperty('recurrence-id');
      const rid = whenOf(ridProp, zones);
      const start = whenOf(o.getFirstProperty('dtstart'), zones);
      const thisAndFuture = String(ridProp?.getParameter('range') ?? '').toUpperCase() === 'THISANDFUTURE';
      if (thisAndFuture) {
        // Not honoured exactly: the original instances from here on stay busy, and each is also
        // busy at its moved time with the override's length (never free by mistake).
        const span = spanOf(start, lengthOf(o, start, zones, ctx), ctx);
        if (isBusy(o, ctx) && span) futures.push({ from: instantOf(rid, ctx), shift: span.start - instantOf(rid, ctx), ms: span.end - span.start });
      } else replaced.add(keyOf(rid, ctx));
      // An override is a complete instance, judged on its own properties.
      if (!isBusy(o, ctx)) continue;
      pushSpan(spans, spanOf(start, lengthOf(o, start, zones, ctx), ctx));
    }
    for (const m of masters) expandMaster(m, zones, replaced, futures, ctx, spans);
  }
}

/** A RANGE=THISANDFUTURE override: instances from `from` on are also busy `shift` later for `ms`. */
interface Future {
  readonly from: number;
  readonly shift: number;
  readonly ms: number;
}

/** `mailto:Ann@X.org` → `ann@x.org`, to compare calendar-user addresses. */
function addressOf(a: string): string {
  return a.trim().replace(/^mailto:/i, '').toLowerCase();
}

function isBusy(comp: ICAL.Component, ctx: Ctx): boolean {
  // Outlook/Exchange say "shown as free" this way rather than with TRANSP.
  for (const name of ['x-microsoft-cdo-intendedstatus', 'x-microsoft-cdo-busystatus']) {
    const v: unknown = comp.getFirstPropertyValue(name);
    if (typeof v === 'string' && v.trim().toUpperCase() === 'FREE') return false;
  }
  if (ctx.self.size > 0) {
    for (const att of comp.getAllProperties('attendee')) {
      const v: unknown = att.getFirstValue();
      const partstat = att.getParameter('partstat');
      if (typeof v === 'string' && ctx.self.has(addressOf(v)) && typeof partstat === 'string' && partstat.toUpperCase() === 'DECLINED') return false;
    }
  }
  const transp = comp.getFirstPropertyValue('transp');
  if (typeof transp === 'string' && transp.toUpperCase() === 'TRANSPARENT') return false;
  const status = comp.getFirstPropertyValue('status');
  if (typeof status === 'string' && status.toUpperCase() === 'CANCELLED') return false;
  return true;
}

function pushSpan(spans: Interval[], span: Interval | null): void {
  if (span && span.end > span.start) spans.push(span);
}

// ---------------------------------------------------------------------------------------------
// Time values

function wallOf(t: ICAL.Time): number {
  const ms = t.isDate
    ? Date.UTC(t.year, t.month - 1, t.day)
    : Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  if (!Number.isFinite(ms)) throw new Malformed('bad date');
  return ms;
}

function isUtc(t: ICAL.Time): boolean {
  return t.zone === ICAL.Timezone.utcTimezone || t.zone?.tzid === 'UTC';
}

type ZoneResolver = (tzid: string) => OffsetFn;

/** A DATE/DATE-TIME property value with its zone (TZID, Z, or floating = business zone). */
function whenOf(prop: ICAL.Property | null, zones: ZoneResolver): When {
  if (!prop) throw new Malformed('missing date');
  const value: unknown = prop.getFirstValue();
  if (!(value instanceof ICAL.Time)) throw new Malformed('not a date');
  return whenOfTime(value, prop.getParameter('tzid'), zones);
}

function whenOfTime(t: ICAL.Time, tzid: unknown, zones: ZoneResolver): When {
  const wall = wallOf(t);
  if (t.isDate) return { date: true, wall };
  if (isUtc(t)) return { date: false, wall, zone: UTC_OFFSET };
  if (typeof tzid === 'string' && tzid !== '') return { date: false, wall, zone: zones(tzid) };
  return { date: false, wall, zone: FLOATING };
}

/** Marker for floating times: resolved to the business zone at use. */
const FLOATING: OffsetFn = () => {
  throw new Malformed('floating zone used directly');
};

function zoneOf(w: When & { date: false }, ctx: Ctx): OffsetFn {
  return w.zone === FLOATING ? ctx.business : w.zone;
}

/** Local wall time → UTC instant, RFC 5545 §3.3.5: ambiguous = first, gap = offset before. */
export function localToUtc(wall: number, zone: OffsetFn): number {
  const before = zone(wall - DAY);
  const after = zone(wall + DAY);
  let best: number | undefined;
  for (const o of [before, after]) {
    const u = wall - o;
    if (zone(u) === o && (best === undefined || u < best)) best = u;
  }
  return best ?? wall - before;
}

function instantOf(w: When, ctx: Ctx): number {
  return w.date ? localToUtc(w.wall, ctx.business) : localToUtc(w.wall, zoneOf(w, ctx));
}

/** Identity of an instance for RECURRENCE-ID / EXDATE matching: instant, or date for all-day. */
function keyOf(w: When, ctx: Ctx): string {
  return w.date ? `D${w.wall}` : `T${instantOf(w, ctx)}`;
}

function durationOf(d: ICAL.Duration): { days: number; ms: number } {
  const sign = d.isNegative ? -1 : 1;
  return {
    days: sign * (d.weeks * 7 + d.days),
    ms: sign * (d.hours * HOUR + d.minutes * MINUTE + d.seconds * SECOND),
  };
}

/** Length of a component's instances (DTEND exact, DURATION nominal days + exact rest). */
function lengthOf(comp: ICAL.Component, start: When, zones: ZoneResolver, ctx: Ctx): Length {
  const endProp = comp.getFirstProperty('dtend');
  if (endProp) {
    const end = whenOf(endProp, zones);
    if (start.date && end.date) return { kind: 'nominal', days: Math.round((end.wall - start.wall) / DAY), ms: 0 };
    return { kind: 'exact', ms: instantOf(end, ctx) - instantOf(start, ctx) };
  }
  const dur: unknown = comp.getFirstPropertyValue('duration');
  if (dur instanceof ICAL.Duration) {
    const { days, ms } = durationOf(dur);
    return { kind: 'nominal', days, ms };
  }
  if (start.date) return { kind: 'nominal', days: 1, ms: 0 };
  return { kind: 'none' };
}

/** Busy span of one instance starting at `start`. */
function spanOf(start: When, len: Length, ctx: Ctx): Interval | null {
  const s = instantOf(start, ctx);
  let e: number;
  if (len.kind === 'exact') e = s + len.ms;
  else if (len.kind === 'nominal') e = instantOf({ ...start, wall: start.wall + len.days * DAY }, ctx) + len.ms;
  else if (start.date) e = instantOf({ date: true, wall: start.wall + DAY }, ctx);
  else e = s;
  return e > s ? { start: s, end: e } : null;
}

/** Upper bound of an instance's length in ms, to know how far before the window to look. */
function maxLength(len: Length): number {
  if (len.kind === 'exact') return Math.max(0, len.ms);
  if (len.kind === 'nominal') return Math.max(0, len.days * DAY + len.ms) + DAY;
  return DAY;
}

// ---------------------------------------------------------------------------------------------
// Recurrence

// EXRULE (deprecated by RFC 5545) is not honoured: the instances it would remove stay busy.
function expandMaster(m: ICAL.Component, zones: ZoneResolver, replaced: Set<string>, futures: readonly Future[], ctx: Ctx, spans: Interval[]): void {
  const start = whenOf(m.getFirstProperty('dtstart'), zones);
  const len = lengthOf(m, start, zones, ctx);
  const busy = isBusy(m, ctx);
  const exdates = new Set<string>();
  for (const prop of m.getAllProperties('exdate')) {
    const tzid = prop.getParameter('tzid');
    for (const v of prop.getValues() as unknown[]) {
      if (!(v instanceof ICAL.Time)) throw new Malformed('bad EXDATE');
      exdates.add(keyOf(whenOfTime(v, tzid, zones), ctx));
    }
  }
  const seen = new Set<string>();
  const add = (w: When, span: Interval | null): void => {
    const key = keyOf(w, ctx);
    if (seen.has(key)) return;
    seen.add(key);
    if (replaced.has(key) || exdates.has(key)) return;
    if (busy) pushSpan(spans, span);
    if (futures.length > 0 && span) {
      for (const f of futures) if (span.start >= f.from) pushSpan(spans, { start: span.start + f.shift, end: span.start + f.shift + f.ms });
    }
  };

  const lookBehind = maxLength(len) + 2 * DAY;
  const horizon = ctx.window.end + 2 * DAY;
  for (const prop of m.getAllProperties('rrule')) {
    const rule: unknown = prop.getFirstValue();
    if (!(rule instanceof ICAL.Recur)) throw new Malformed('bad RRULE');
    // A rule that cannot match is refused (fail closed): ical.js would loop on it, or invent dates.
    if (neverMatches(rule)) throw new TooCostly('rule never matches');
    const until = rule.until ? untilTest(rule.until, start, ctx) : null;
    const recur = rule.clone();
    recur.until = null;
    const from = skipWholePeriods(recur, start, ctx.window.start - lookBehind);
    const iter = iteratorOf(recur, ICAL.Time.fromData(fieldsOf(from, start.date)));
    let iterations = 0;
    for (let t = iter.next(); t; t = iter.next()) {
      if (++iterations > SERIES_ITERATION_CAP || --ctx.budget < 0) throw new TooCostly('recurrence cap');
      const wall = wallOf(t);
      if (wall > horizon) break;
      const w: When = start.date ? { date: true, wall } : { ...start, wall };
      if (until && !until(w)) break;
      if (wall < ctx.window.start - lookBehind) continue;
      add(w, spanOf(w, len, ctx));
    }
  }
  for (const prop of m.getAllProperties('rdate')) {
    const tzid = prop.getParameter('tzid');
    for (const v of prop.getValues() as unknown[]) {
      if (v instanceof ICAL.Period) {
        const s = whenOfTime(v.start, tzid, zones);
        let span: Interval | null;
        if (v.duration) {
          const { days, ms } = durationOf(v.duration);
          span = spanOf(s, { kind: 'nominal', days, ms }, ctx);
        } else if (v.end) {
          const e = whenOfTime(v.end, tzid, zones);
          const si = instantOf(s, ctx);
          span = { start: si, end: instantOf(e, ctx) };
        } else throw new Malformed('bad PERIOD');
        add(s, span);
      } else if (v instanceof ICAL.Time) {
        const w = whenOfTime(v, tzid, zones);
        add(w, spanOf(w, w.date && !start.date ? { kind: 'nominal', days: 1, ms: 0 } : len, ctx));
      } else throw new Malformed('bad RDATE');
    }
  }
  // DTSTART is always the first instance (RFC 5545 §3.8.5.3), even when the rule does not match it.
  add(start, spanOf(start, len, ctx));
}

function fieldsOf(w: When, date: boolean): { year: number; month: number; day: number; hour: number; minute: number; second: number; isDate: boolean } {
  const d = new Date(w.wall);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: date ? 0 : d.getUTCHours(),
    minute: date ? 0 : d.getUTCMinutes(),
    second: date ? 0 : d.getUTCSeconds(),
    isDate: date,
  };
}

/**
 * Moves a series' start forward by whole multiples of its period (wall-clock arithmetic, which is
 * how the rule is defined), so an old series costs the same as a new one. Not with COUNT.
 */
function skipWholePeriods(recur: ICAL.Recur, start: When, target: number): When {
  if (recur.count || start.wall >= target) return start;
  const interval = Math.max(1, recur.interval || 1);
  const unit: Record<string, number> = { SECONDLY: SECOND, MINUTELY: MINUTE, HOURLY: HOUR, DAILY: DAY, WEEKLY: 7 * DAY };
  const fixed = unit[recur.freq];
  if (fixed !== undefined) {
    const step = fixed * interval;
    const n = Math.floor((target - start.wall) / step);
    return n > 0 ? { ...start, wall: start.wall + n * step } : start;
  }
  const d = new Date(start.wall);
  if (d.getUTCDate() > 28) return start;
  const months = recur.freq === 'MONTHLY' ? interval : recur.freq === 'YEARLY' ? 12 * interval : 0;
  if (months === 0) return start;
  const t = new Date(target);
  const diff = (t.getUTCFullYear() - d.getUTCFullYear()) * 12 + (t.getUTCMonth() - d.getUTCMonth()) - 1;
  const n = Math.floor(diff / months);
  if (n <= 0) return start;
  const moved = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n * months, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
  return { ...start, wall: moved };
}

/** UNTIL is inclusive by instant; a DATE UNTIL keeps instances whose local date is on or before it. */
function untilTest(until: ICAL.Time, start: When, ctx: Ctx): (w: When) => boolean {
  const untilWall = wallOf(until);
  if (until.isDate) return (w) => Math.floor(w.wall / DAY) * DAY <= untilWall;
  if (start.date) {
    const untilDay = Math.floor(untilWall / DAY) * DAY;
    return (w) => w.wall <= untilDay;
  }
  // A floating UNTIL on a zoned series is read in the DTSTART's zone.
  const u = isUtc(until) ? untilWall : instantOf({ date: false, wall: untilWall, zone: start.zone }, ctx);
  return (w) => instantOf(w, ctx) <= u;
}

// ---------------------------------------------------------------------------------------------
// Time zones

/** Zones asked for by name (business zones, TZIDs): names come from untrusted data, so the memo is bounded. */
const MAX_ZONES = 32;
const zoneMemos = new Map<string, OffsetFn | null>();

/** An IANA zone's offsets (memoised per zone, see zoneOffsetMemo), or null for a name Intl does not know. */
function ianaOffset(name: string): OffsetFn | null {
  let fn = zoneMemos.get(name);
  if (fn === undefined) {
    fn = name === '' ? null : zoneOffsetMemo(name);
    if (zoneMemos.size >= MAX_ZONES) zoneMemos.clear();
    zoneMemos.set(name, fn);
  }
  return fn;
}

/** TZID → offsets: IANA name → IANA rules; otherwise the VTIMEZONE of the same resource. */
function zoneResolver(cal: ICAL.Component, ctx: Ctx): ZoneResolver {
  const cache = new Map<string, OffsetFn>();
  const vtimezones = new Map<string, ICAL.Component>();
  for (const vtz of cal.getAllSubcomponents('vtimezone')) {
    const id = vtz.getFirstPropertyValue('tzid');
    if (typeof id === 'string') vtimezones.set(id, vtz);
  }
  return (tzid) => {
    const hit = cache.get(tzid);
    if (hit) return hit;
    let fn = ianaOffset(tzid);
    const vtz = vtimezones.get(tzid);
    if (!fn && vtz) fn = vtimezoneOffset(vtz, ctx);
    if (!fn) {
      // Some producers prefix an IANA name ("/mozilla.org/20050126_1/Europe/Paris").
      const parts = tzid.split('/').filter(Boolean);
      for (let n = Math.min(3, parts.length); n >= 2 && !fn; n--) fn = ianaOffset(parts.slice(-n).join('/'));
    }
    if (!fn) throw new Malformed('unknown TZID');
    cache.set(tzid, fn);
    return fn;
  };
}

interface Transition {
  readonly at: number;
  readonly from: number;
  readonly to: number;
}

/**
 * How far zone rules are expanded. A one-off object is read over all time (its spans do not depend
 * on the window), and ALL_TIME + 400 days is past the end of Date: no transition was computed at all,
 * so an Outlook zone (rules since 1601) kept its last onset, summer time, all year.
 */
const ZONE_HORIZON = Date.UTC(2200, 0, 1);

function vtimezoneOffset(vtz: ICAL.Component, ctx: Ctx): OffsetFn {
  const horizon = Math.min(ctx.window.end, ZONE_HORIZON) + 400 * DAY;
  const transitions: Transition[] = [];
  for (const sub of [...vtz.getAllSubcomponents('standard'), ...vtz.getAllSubcomponents('daylight')]) {
    const fromV: unknown = sub.getFirstPropertyValue('tzoffsetfrom');
    const toV: unknown = sub.getFirstPropertyValue('tzoffsetto');
    const startV: unknown = sub.getFirstPropertyValue('dtstart');
    if (!(fromV instanceof ICAL.UtcOffset) || !(toV instanceof ICAL.UtcOffset) || !(startV instanceof ICAL.Time)) {
      throw new Malformed('bad VTIMEZONE');
    }
    const from = fromV.toSeconds() * SECOND;
    const to = toV.toSeconds() * SECOND;
    const walls = new Set<number>([wallOf(startV)]);
    for (const prop of sub.getAllProperties('rrule')) {
      const rule: unknown = prop.getFirstValue();
      if (!(rule instanceof ICAL.Recur)) throw new Malformed('bad RRULE');
      for (const wall of zoneRuleWalls(rule, startV, from, horizon, ctx)) walls.add(wall);
    }
    for (const prop of sub.getAllProperties('rdate')) {
      for (const v of prop.getValues() as unknown[]) {
        if (v instanceof ICAL.Time) walls.add(isUtc(v) ? wallOf(v) + from : wallOf(v));
      }
    }
    for (const wall of walls) transitions.push({ at: wall - from, from, to });
  }
  if (transitions.length === 0) throw new Malformed('empty VTIMEZONE');
  transitions.sort((a, b) => a.at - b.at);
  const first = transitions[0] as Transition;
  return (utcMs) => {
    let lo = 0;
    let hi = transitions.length - 1;
    if (utcMs < first.at) return first.from;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((transitions[mid] as Transition).at <= utcMs) lo = mid;
      else hi = mid - 1;
    }
    return (transitions[lo] as Transition).to;
  };
}

/** Wall times of a VTIMEZONE rule; the usual "nth weekday of a month" yearly rule is computed directly. */
function zoneRuleWalls(rule: ICAL.Recur, start: ICAL.Time, from: number, horizon: number, ctx: Ctx): number[] {
  const startWall = wallOf(start);
  const untilInstant = rule.until ? (isUtc(rule.until) ? wallOf(rule.until) : wallOf(rule.until) - from) : Infinity;
  const out: number[] = [];
  const byMonth = rule.parts.BYMONTH;
  const byDay = rule.parts.BYDAY;
  const otherParts = Object.keys(rule.parts).filter((k) => k !== 'BYMONTH' && k !== 'BYDAY');
  const simple =
    rule.freq === 'YEARLY' && (rule.interval || 1) === 1 && !rule.count && otherParts.length === 0 &&
    byMonth?.length === 1 && byDay?.length === 1 && /^[+-]?[1-5](SU|MO|TU|WE|TH|FR|SA)$/.test(String(byDay[0]));
  if (simple) {
    const month = Number(byMonth[0]);
    const m = /^([+-]?)([1-5])(SU|MO|TU|WE|TH|FR|SA)$/.exec(String(byDay[0])) as RegExpExecArray;
    const nth = (m[1] === '-' ? -1 : 1) * Number(m[2]);
    const weekday = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'].indexOf(m[3] as string);
    const tod = startWall - Math.floor(startWall / DAY) * DAY;
    const lastYear = new Date(horizon).getUTCFullYear();
    for (let y = start.year; y <= lastYear; y++) {
      let day: number;
      if (nth > 0) {
        const firstDow = new Date(Date.UTC(y, month - 1, 1)).getUTCDay();
        day = 1 + ((weekday - firstDow + 7) % 7) + (nth - 1) * 7;
      } else {
        const lastDate = new Date(Date.UTC(y, month, 0)).getUTCDate();
        const lastDow = new Date(Date.UTC(y, month - 1, lastDate)).getUTCDay();
        day = lastDate - ((lastDow - weekday + 7) % 7) + (nth + 1) * 7;
      }
      const wall = Date.UTC(y, month - 1, day) + tod;
      if (new Date(wall).getUTCMonth() !== month - 1 || wall < startWall) continue;
      if (wall - from > untilInstant) break;
      out.push(wall);
    }
    return out;
  }
  if (neverMatches(rule)) throw new TooCostly('rule never matches');
  const recur = rule.clone();
  recur.until = null;
  const iter = iteratorOf(recur, start);
  let iterations = 0;
  for (let t = iter.next(); t; t = iter.next()) {
    if (++iterations > SERIES_ITERATION_CAP || --ctx.budget < 0) throw new TooCostly('recurrence cap');
    const wall = wallOf(t);
    if (wall > horizon || wall - from > untilInstant) break;
    out.push(wall);
  }
  return out;
}
