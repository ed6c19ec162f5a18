/**
 * Slot engine: which start times can a client book for one service of one staff member?
 * Pure: no I/O, no clock (the caller passes `now`), no state except bounded caches of
 * Intl.DateTimeFormat objects and of UTC offsets at sample instants, per time zone.
 *
 * Policy (DESIGN.md §4, issue 3):
 * - Weekly booking hours are wall-clock ranges in the staff time zone, several per weekday.
 *   A date override replaces that date's weekly hours entirely; an override with no ranges
 *   closes the day. "24:00" as a range end means the next day's midnight.
 * - Each range boundary (local date + "HH:MM") becomes one real instant:
 *   - in a DST gap (non-existent local time) it is shifted forward by the gap length, as
 *     RFC 5545 §3.3.5 says (Paris 2026-03-29 02:30 → 03:30 CEST);
 *   - when ambiguous (fall-back overlap) it is the FIRST occurrence, i.e. the earlier instant
 *     (Paris 2026-10-25 02:30 → 02:30 CEST, not CET).
 *   So a 09:00–17:00 day is 8 real hours even on a change day, and 01:00–04:00 is 2 h on a
 *   spring-forward day and 4 h on a fall-back day in Paris.
 * - Slot starts are range-start instant + k·step, stepping in REAL elapsed minutes (not
 *   wall-clock minutes), while start + duration ≤ range-end instant. After a gap inside a
 *   range the grid therefore stays on real time: 01:00–04:00 with a 60-min step on
 *   spring-forward day in Paris gives 01:00 CET and 03:00 CEST. No slot can start at a
 *   non-existent local time because every slot is a real instant.
 * - A slot is offered only if [start − bufferBefore, start + duration + bufferAfter) does not
 *   overlap a busy interval; touching is not overlapping. Buffers may reach outside the
 *   booking hours: they only guard against busy time. Busy intervals with end ≤ start are
 *   empty and block nothing.
 * - Minimum notice: start ≥ now + minimumNotice.
 * - Horizon: let today be now's date in the staff zone; a slot must start before the local
 *   midnight that ENDS day (today + horizonDays). horizonDays = 1 at 15:00 on Nov 21 offers
 *   the rest of Nov 21 and all of Nov 22. Midnight itself follows the gap rule above.
 * - Daily cap: a slot belongs to the staff-zone date whose hours produced it; if
 *   bookedPerDay.get(date) ≥ dailyCap, that date offers nothing.
 * - Output: ascending, duplicate-free UTC epoch-ms starts within [range.start, range.end).
 *   Ranges that do not overlap on the wall clock may still overlap in real time around a
 *   gap (01:00–02:30 and 03:00–04:00 on spring-forward day); their slots are merged.
 * - Bad rules throw a RulesError (see validateRules for codes); a non-finite now, range or
 *   busy value is a programming error and throws RangeError (treating NaN busy time as free
 *   could double-book).
 *
 * Assumption: a zone's UTC-offset changes are at least two days apart (months apart in
 * practice): offsets are sampled every 6 hours and changes bisected to the second, and a wall
 * time is resolved against the offsets one day before and after it (as Temporal does).
 * Offsets come straight from Intl (what luxon uses underneath), not from luxon: luxon's
 * zone.offset is ~10× slower, IANAZone.isValidZone builds a new formatter on every call, and
 * luxon resolves ambiguous local times inconsistently between zones (second occurrence in
 * Paris and New York, first in Sydney), so the policy above is implemented here.
 *
 * Cost: O(days × ranges + candidates + busy); busy is never sorted or merged. Each busy
 * interval marks the run of candidate starts it blocks in a difference array (two bucketed
 * look-ups, O(1) on average), then one pass over the candidates reads it.
 */
import type { Interval } from '../lib/interval.js';
import { zoneOffset } from '../lib/time.js';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
/** ["HH:MM", "HH:MM"]; the end may be "24:00". */
export type TimeRange = readonly [string, string];

export interface ServiceRules {
  readonly durationMinutes: number;
  readonly stepMinutes: number;
  readonly bufferBeforeMinutes: number;
  readonly bufferAfterMinutes: number;
  readonly minimumNoticeMinutes: number;
  readonly horizonDays: number;
  readonly dailyCap: number | null;
  readonly hours: Readonly<Record<Weekday, readonly TimeRange[]>>;
  readonly overrides: readonly { readonly date: string; readonly hours: readonly TimeRange[] }[];
}

export type RulesErrorCode =
  | 'unknown_zone'
  | 'zero_duration'
  | 'bad_duration'
  | 'bad_step'
  | 'bad_buffer'
  | 'bad_notice'
  | 'bad_horizon'
  | 'bad_daily_cap'
  | 'bad_hours'
  | 'too_many_ranges'
  | 'bad_time'
  | 'end_before_start'
  | 'overlapping_ranges'
  | 'bad_overrides'
  | 'bad_date'
  | 'duplicate_override';

/** A rule set the engine refuses; `field` is the path of the offending value (e.g. "hours.mon[1].end"). */
export class RulesError extends Error {
  override readonly name = 'RulesError';
  constructor(
    readonly code: RulesErrorCode,
    readonly field: string,
  ) {
    super(`${code} at ${field}`);
  }
}

export interface SlotQuery {
  readonly rules: ServiceRules;
  /** Staff member's IANA time zone. */
  readonly timeZone: string;
  /** Epoch ms. */
  readonly now: number;
  /** Slot starts must lie in [range.start, range.end). */
  readonly range: Interval;
  /** UTC, any order, may overlap. */
  readonly busy: readonly Interval[];
  /** Staff-zone date YYYY-MM-DD → bookings of this service already that day (daily cap). */
  readonly bookedPerDay?: ReadonlyMap<string, number>;
}

export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export const LIMITS = {
  maxRangesPerDay: 10,
  durationMinutes: [5, 1440],
  stepMinutes: [5, 1440],
  bufferMinutes: [0, 1440],
  minimumNoticeMinutes: [0, 365 * 1440],
  horizonDays: [1, 730],
  dailyCap: [1, 1000],
} as const;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SAMPLE_STEP = 6 * HOUR;

// ---------------------------------------------------------------------------------------------
// Validation

const TIME_RE = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Minutes since midnight for "HH:MM" ("24:00" → 1440), or null when malformed. */
function parseTime(s: unknown): number | null {
  if (typeof s !== 'string') return null;
  const m = TIME_RE.exec(s);
  if (!m) return null;
  return m[3] !== undefined ? 1440 : Number(m[1]) * 60 + Number(m[2]);
}

/** Days since 1970-01-01 for a real calendar date "YYYY-MM-DD", or null. */
function parseDate(s: unknown): number | null {
  if (typeof s !== 'string') return null;
  const m = DATE_RE.exec(s);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  // Date.UTC rolls Feb 30 into March; a round trip catches it (and maps years 0–99 oddly, so compare the year too).
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return ms / DAY;
}

function isIntIn(v: unknown, [lo, hi]: readonly [number, number]): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}

/** Checks one day's list of ranges; returns them as [startMin, endMin] when valid. */
function checkRanges(list: unknown, field: string, out: RulesError[]): [number, number][] {
  if (!Array.isArray(list)) {
    out.push(new RulesError('bad_hours', field));
    return [];
  }
  if (list.length > LIMITS.maxRangesPerDay) out.push(new RulesError('too_many_ranges', field));
  const parsed: [number, number][] = [];
  list.forEach((r: unknown, i: number) => {
    if (!Array.isArray(r) || r.length !== 2) {
      out.push(new RulesError('bad_time', `${field}[${i}]`));
      return;
    }
    const s = parseTime(r[0]);
    const e = parseTime(r[1]);
    if (s === null || s === 1440) out.push(new RulesError('bad_time', `${field}[${i}].start`));
    if (e === null) out.push(new RulesError('bad_time', `${field}[${i}].end`));
    if (s === null || s === 1440 || e === null) return;
    if (e <= s) {
      out.push(new RulesError('end_before_start', `${field}[${i}]`));
      return;
    }
    parsed.push([s, e]);
  });
  const sorted = [...parsed].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < sorted.length; i++) {
    // Touching ranges (09:00–12:00, 12:00–17:00) are fine; sharing a minute is not.
    if (sorted[i]![0] < sorted[i - 1]![1]) {
      out.push(new RulesError('overlapping_ranges', field));
      break;
    }
  }
  return sorted;
}

/** Every problem with a rule set, [] when the engine can use it. */
export function validateRules(rules: ServiceRules, timeZone: string): RulesError[] {
  const out: RulesError[] = [];
  if (typeof timeZone !== 'string' || zoneOffset(timeZone, 0) === null) out.push(new RulesError('unknown_zone', 'timeZone'));
  const r = rules as unknown as Record<string, unknown>;
  const d = r['durationMinutes'];
  if (typeof d === 'number' && Number.isInteger(d) && d <= 0) out.push(new RulesError('zero_duration', 'durationMinutes'));
  else if (!isIntIn(d, LIMITS.durationMinutes)) out.push(new RulesError('bad_duration', 'durationMinutes'));
  if (!isIntIn(r['stepMinutes'], LIMITS.stepMinutes)) out.push(new RulesError('bad_step', 'stepMinutes'));
  if (!isIntIn(r['bufferBeforeMinutes'], LIMITS.bufferMinutes)) out.push(new RulesError('bad_buffer', 'bufferBeforeMinutes'));
  if (!isIntIn(r['bufferAfterMinutes'], LIMITS.bufferMinutes)) out.push(new RulesError('bad_buffer', 'bufferAfterMinutes'));
  if (!isIntIn(r['minimumNoticeMinutes'], LIMITS.minimumNoticeMinutes)) out.push(new RulesError('bad_notice', 'minimumNoticeMinutes'));
  if (!isIntIn(r['horizonDays'], LIMITS.horizonDays)) out.push(new RulesError('bad_horizon', 'horizonDays'));
  if (r['dailyCap'] !== null && !isIntIn(r['dailyCap'], LIMITS.dailyCap)) out.push(new RulesError('bad_daily_cap', 'dailyCap'));
  const hours = r['hours'];
  if (typeof hours !== 'object' || hours === null) {
    out.push(new RulesError('bad_hours', 'hours'));
  } else {
    for (const w of WEEKDAYS) checkRanges((hours as Record<string, unknown>)[w], `hours.${w}`, out);
  }
  const overrides = r['overrides'];
  if (!Array.isArray(overrides)) {
    out.push(new RulesError('bad_overrides', 'overrides'));
  } else {
    const seen = new Set<number>();
    overrides.forEach((o: unknown, i: number) => {
      const obj = (typeof o === 'object' && o !== null ? o : {}) as Record<string, unknown>;
      const day = parseDate(obj['date']);
      if (day === null) out.push(new RulesError('bad_date', `overrides[${i}].date`));
      else if (seen.has(day)) out.push(new RulesError('duplicate_override', `overrides[${i}].date`));
      else seen.add(day);
      checkRanges(obj['hours'], `overrides[${i}].hours`, out);
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Time zone offsets

/** UTC offset (ms, local − UTC) of a zone; an unknown zone is a rules error. */
function offsetOf(zone: string, instant: number): number {
  const o = zoneOffset(zone, instant);
  if (o === null) throw new RulesError('unknown_zone', 'timeZone');
  return o;
}

// Offsets at the timeline's sample instants (6-hour grid, and bisection points derived from
// it) repeat from call to call for one zone, so they are memoised; bounded by clearing.
const sampled = new Map<string, Map<number, number>>();
let sampledCount = 0;
const MAX_SAMPLED = 50_000;

function sampledOffset(zone: string, instant: number): number {
  let perZone = sampled.get(zone);
  if (!perZone) {
    perZone = new Map();
    sampled.set(zone, perZone);
  }
  let o = perZone.get(instant);
  if (o === undefined) {
    o = offsetOf(zone, instant);
    if (sampledCount >= MAX_SAMPLED) {
      for (const m of sampled.values()) m.clear();
      sampledCount = 0;
    }
    perZone.set(instant, o);
    sampledCount++;
  }
  return o;
}

/** Piecewise-constant offsets of one zone over a window, so conversions cost no Intl calls. */
interface Timeline {
  /** changes[i] is the first instant at which offsets[i] applies; changes[0] = -Infinity. */
  readonly changes: number[];
  readonly offsets: number[];
}

function buildTimeline(zone: string, from: number, to: number): Timeline {
  // Whole seconds: tzdata changes happen on second boundaries, so bisection can stop at 1 s.
  let prevT = Math.floor(from / 1000) * 1000;
  let prevO = sampledOffset(zone, prevT);
  const changes = [-Infinity];
  const offsets = [prevO];
  while (prevT < to) {
    const t = prevT + SAMPLE_STEP;
    const o = sampledOffset(zone, t);
    if (o !== prevO) {
      let lo = prevT;
      let hi = t;
      while (hi - lo > 1000) {
        const mid = Math.floor((lo + hi) / 2000) * 1000;
        if (sampledOffset(zone, mid) === prevO) lo = mid;
        else hi = mid;
      }
      changes.push(hi);
      offsets.push(o);
    }
    prevT = t;
    prevO = o;
  }
  return { changes, offsets };
}

function offsetAt(tl: Timeline, t: number): number {
  let i = tl.changes.length - 1;
  while (tl.changes[i]! > t) i--;
  return tl.offsets[i]!;
}

/**
 * The instant a wall-clock time (ms since 1970-01-01T00:00 local) denotes: first occurrence
 * when ambiguous, shifted forward by the gap when non-existent (the module policy).
 */
function wallToInstant(tl: Timeline, wall: number): number {
  const before = offsetAt(tl, wall - DAY);
  const after = offsetAt(tl, wall + DAY);
  const u1 = wall - before;
  const u2 = wall - after;
  const ok1 = offsetAt(tl, u1) === before;
  const ok2 = offsetAt(tl, u2) === after;
  if (ok1 && ok2) return Math.min(u1, u2);
  if (ok1) return u1;
  if (ok2) return u2;
  // Gap: reading the time with the old offset lands after the change, `gap` later on the clock.
  return u1;
}

function isoDate(epochDay: number): string {
  return new Date(epochDay * DAY).toISOString().slice(0, 10);
}

/** The staff-zone calendar date (YYYY-MM-DD) of an instant; throws RulesError for an unknown zone. */
export function localDate(instant: number, timeZone: string): string {
  return isoDate(Math.floor((instant + offsetOf(timeZone, instant)) / DAY));
}

// ---------------------------------------------------------------------------------------------
// Slots

function assertFinite(v: number, what: string): void {
  if (!Number.isFinite(v)) throw new RangeError(`computeSlots: ${what} must be a finite number`);
}

/**
 * "First candidate index with c[i] > x (or ≥ x)" in O(1) on average: bucket k stores the index
 * of the first candidate ≥ base + k·width, so a lookup only binary-searches inside one bucket.
 */
function candidateIndex(c: readonly number[]): (x: number, orEqual: boolean) => number {
  const n = c.length;
  const base = c[0]!;
  const last = c[n - 1]!;
  const buckets = 4 * n;
  const width = Math.max(1, Math.ceil((last - base + 1) / buckets));
  const first = new Int32Array(buckets + 2);
  for (let k = 0, j = 0; k < first.length; k++) {
    while (j < n && c[j]! < base + k * width) j++;
    first[k] = j;
  }
  return (x, orEqual) => {
    if (x < base) return 0;
    if (x > last) return n;
    const k = Math.floor((x - base) / width);
    let lo = first[k]!;
    let hi = first[k + 1]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (orEqual ? c[mid]! < x : c[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Bookable slot starts (sorted UTC epoch ms) for a service; throws RulesError on bad rules. */
export function computeSlots(q: SlotQuery): number[] {
  const errors = validateRules(q.rules, q.timeZone);
  if (errors[0]) throw errors[0];
  assertFinite(q.now, 'now');
  assertFinite(q.range.start, 'range.start');
  assertFinite(q.range.end, 'range.end');
  for (const b of q.busy) {
    assertFinite(b.start, 'busy start');
    assertFinite(b.end, 'busy end');
  }

  const r = q.rules;
  const zone = q.timeZone;
  const duration = r.durationMinutes * MINUTE;
  const step = r.stepMinutes * MINUTE;
  const before = r.bufferBeforeMinutes * MINUTE;
  const after = r.bufferAfterMinutes * MINUTE;

  const today = Math.floor((q.now + offsetOf(zone, q.now)) / DAY);
  const lo = Math.max(q.range.start, q.now + r.minimumNoticeMinutes * MINUTE);
  // The horizon's closing midnight is within ±14 h of (today + horizon + 1) days as UTC.
  const hiBound = Math.min(q.range.end, (today + r.horizonDays + 2) * DAY);
  if (lo >= hiBound) return [];

  // Local dates whose hours can reach [lo, hi): offsets are within ±1 day of UTC.
  const firstDay = Math.floor(lo / DAY) - 2;
  const lastDay = Math.floor(hiBound / DAY) + 1;
  const tl = buildTimeline(zone, (firstDay - 2) * DAY, (lastDay + 3) * DAY);
  // When the horizon's midnight is a day past range.end it cannot bind (offsets < 1 day), and
  // it may lie outside the timeline, so it is only converted when it matters.
  const horizonWall = (today + r.horizonDays + 1) * DAY;
  const hi = horizonWall - DAY >= q.range.end ? q.range.end : Math.min(q.range.end, wallToInstant(tl, horizonWall));
  if (lo >= hi) return [];

  const overrides = new Map<number, readonly TimeRange[]>();
  for (const o of r.overrides) overrides.set(parseDate(o.date)!, o.hours);
  const weekly = WEEKDAYS.map((w) => r.hours[w]);

  const candidates: number[] = [];
  let sorted = true;
  for (let day = firstDay; day <= lastDay; day++) {
    // 1970-01-01 was a Thursday (index 3 in WEEKDAYS).
    const ranges = overrides.get(day) ?? weekly[(((day + 3) % 7) + 7) % 7]!;
    if (ranges.length === 0) continue;
    if (r.dailyCap !== null && q.bookedPerDay && (q.bookedPerDay.get(isoDate(day)) ?? 0) >= r.dailyCap) continue;
    for (const [s, e] of ranges) {
      const rs = wallToInstant(tl, day * DAY + parseTime(s)! * MINUTE);
      const re = wallToInstant(tl, day * DAY + parseTime(e)! * MINUTE);
      let t = rs + Math.max(0, Math.ceil((lo - rs) / step)) * step;
      for (; t + duration <= re && t < hi; t += step) {
        if (sorted && candidates.length > 0 && t <= candidates[candidates.length - 1]!) sorted = false;
        candidates.push(t);
      }
    }
  }
  if (!sorted) {
    candidates.sort((a, b) => a - b);
    let w = 0;
    for (let i = 0; i < candidates.length; i++) if (i === 0 || candidates[i] !== candidates[w - 1]) candidates[w++] = candidates[i]!;
    candidates.length = w;
  }
  if (candidates.length === 0) return [];

  // Busy [bs, be) blocks slot c iff c − before < be and bs < c + duration + after,
  // i.e. bs − duration − after < c < be + before: one contiguous run of the sorted candidates.
  const find = candidateIndex(candidates);
  const blocked = new Int32Array(candidates.length + 1);
  for (const b of q.busy) {
    if (b.end <= b.start) continue;
    const i0 = find(b.start - duration - after, false);
    const i1 = find(b.end + before, true);
    if (i0 < i1) {
      blocked[i0] = blocked[i0]! + 1;
      blocked[i1] = blocked[i1]! - 1;
    }
  }
  const out: number[] = [];
  let depth = 0;
  for (let i = 0; i < candidates.length; i++) {
    depth += blocked[i]!;
    if (depth === 0) out.push(candidates[i]!);
  }
  return out;
}
