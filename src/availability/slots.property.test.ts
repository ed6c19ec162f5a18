import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { computeSlots, RulesError } from './slots.js';
import type { ServiceRules, SlotQuery, TimeRange, Weekday } from './slots.js';
import type { Interval } from '../lib/interval.js';

// computeSlots compared with a brute-force oracle written independently of it: the oracle
// gets offsets from luxon (the engine uses Intl directly and never luxon's offsets), walks
// the window minute by minute to read each instant's wall clock, finds range boundaries as
// "first minute whose wall clock reaches the target" (plus the RFC 5545 gap shift), and then
// tests every minute against every rule with plain loops.

const MIN = 60_000;
const DAY = 1440 * MIN;

// Zones with gaps, overlaps, odd offsets, a midnight change (Santiago) and none (UTC).
const ZONES = ['Europe/Paris', 'America/New_York', 'Australia/Sydney', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/Santiago', 'America/St_Johns', 'UTC'] as const;
type Zone = (typeof ZONES)[number];

// Windows the oracle tabulates, in time order; anchors for `now` are picked inside them.
const WINDOWS: readonly [number, number][] = [
  [Date.UTC(1985, 11, 10), Date.UTC(1986, 0, 25)],
  [Date.UTC(2025, 11, 20), Date.UTC(2027, 0, 10)],
];

/** Offsets in minutes as {from, offset} segments, found by hourly luxon samples and minute bisection. */
interface Table {
  readonly from: number[];
  readonly offset: number[];
}

function luxonOffset(zone: string, t: number): number {
  return DateTime.fromMillis(t, { zone }).offset;
}

function tabulate(zone: string): Table {
  const from: number[] = [];
  const offset: number[] = [];
  for (const [a, b] of WINDOWS) {
    let prev = luxonOffset(zone, a);
    from.push(a);
    offset.push(prev);
    for (let t = a + 60 * MIN; t <= b; t += 60 * MIN) {
      const o = luxonOffset(zone, t);
      if (o === prev) continue;
      let lo = t - 60 * MIN;
      let hi = t;
      while (hi - lo > MIN) {
        const mid = lo + Math.floor((hi - lo) / 2 / MIN) * MIN;
        if (luxonOffset(zone, mid) === prev) lo = mid;
        else hi = mid;
      }
      from.push(hi);
      offset.push(o);
      prev = o;
    }
    from.push(b + 1);
    offset.push(Number.NaN); // outside tabulated time: a test bug, must not pass silently
  }
  return { from, offset };
}

const tables = new Map<Zone, Table>(ZONES.map((z) => [z, tabulate(z)]));

function offsetMin(table: Table, t: number): number {
  let i = table.from.length - 1;
  while (i >= 0 && table.from[i]! > t) i--;
  const o = i < 0 ? Number.NaN : table.offset[i]!;
  if (Number.isNaN(o)) throw new Error(`oracle: ${new Date(t).toISOString()} is outside the tabulated windows`);
  return o;
}

// Anchors: every offset change in the tables, plus an ordinary day, so most runs touch a change.
const ANCHORS = new Map<Zone, number[]>(
  ZONES.map((z) => {
    const t = tables.get(z)!;
    const changes = t.from.filter((f, i) => i > 0 && !Number.isNaN(t.offset[i]!) && !Number.isNaN(t.offset[i - 1]!) && t.offset[i] !== t.offset[i - 1]);
    return [z, [...changes, Date.UTC(2026, 5, 17, 10)]];
  }),
);

const WEEKDAY_BY_UTC_DAY: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function parseHHMM(s: string): number {
  const [h, m] = s.split(':').map(Number);
  return h! * 60 + m!;
}

function dayString(epochDay: number): string {
  const d = new Date(epochDay * DAY);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
}

/** The brute-force answer. */
function oracle(q: SlotQuery): number[] {
  const table = tables.get(q.timeZone as Zone)!;
  const r = q.rules;
  const nowMinute = Math.floor(q.now / MIN) * MIN;
  const today = Math.floor((nowMinute / MIN + offsetMin(table, nowMinute)) / 1440);

  // Walk every minute from well before today to well after the horizon, reading the wall clock
  // (local minutes since 1970-01-01 00:00) of each.
  const first = (today - 4) * DAY;
  const count = (r.horizonDays + 9) * 1440;
  const walls = new Float64Array(count);
  const runningMax = new Float64Array(count);
  let seg = 0;
  for (let i = 0; i < count; i++) {
    const m = first + i * MIN;
    while (seg + 1 < table.from.length && table.from[seg + 1]! <= m) seg++;
    if (table.from[seg]! > m || Number.isNaN(table.offset[seg])) throw new Error(`oracle: ${new Date(m).toISOString()} is outside the tabulated windows`);
    walls[i] = m / MIN + table.offset[seg]!;
    runningMax[i] = Math.max(walls[i]!, i > 0 ? runningMax[i - 1]! : -Infinity);
  }
  const instant = (i: number): number => first + i * MIN;
  /** First minute whose wall clock reaches `target`; inside a gap, shift forward by the gap. */
  const resolve = (target: number): number => {
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (runningMax[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0 || lo === count) throw new Error('oracle: walk too short');
    if (walls[lo] === target) return instant(lo);
    const clockBefore = walls[lo - 1]! + 1; // what the clock would read at instant(lo) without the change
    return instant(lo) + (target - clockBefore) * MIN;
  };

  const horizonEnd = resolve((today + r.horizonDays + 1) * 1440);
  const earliest = Math.max(q.range.start, q.now + r.minimumNoticeMinutes * MIN);
  const latest = Math.min(q.range.end, horizonEnd);

  const windows: { day: number; start: number; end: number }[] = [];
  for (let day = today - 2; day <= today + r.horizonDays + 2; day++) {
    const name = dayString(day);
    const override = r.overrides.find((o) => o.date === name);
    const ranges = override ? override.hours : r.hours[WEEKDAY_BY_UTC_DAY[new Date(day * DAY).getUTCDay()]!];
    if (r.dailyCap !== null && (q.bookedPerDay?.get(name) ?? 0) >= r.dailyCap) continue;
    for (const [s, e] of ranges) {
      windows.push({ day, start: resolve(day * 1440 + parseHHMM(s)), end: resolve(day * 1440 + parseHHMM(e)) });
    }
  }

  const out: number[] = [];
  for (let m = Math.ceil(earliest / MIN) * MIN; m < latest; m += MIN) {
    const onGrid = windows.some((w) => m >= w.start && (m - w.start) % (r.stepMinutes * MIN) === 0 && m + r.durationMinutes * MIN <= w.end);
    if (!onGrid) continue;
    const guardStart = m - r.bufferBeforeMinutes * MIN;
    const guardEnd = m + (r.durationMinutes + r.bufferAfterMinutes) * MIN;
    const clash = q.busy.some((b) => b.end > b.start && b.start < guardEnd && guardStart < b.end);
    if (!clash) out.push(m);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Generators

/** Minutes of day biased toward the small hours, where the changes happen. */
const minuteOfDay = fc.oneof(
  fc.integer({ min: 0, max: 1440 }),
  fc.integer({ min: 0, max: 96 }).map((q) => q * 15),
  fc.integer({ min: 0, max: 300 }),
  fc.integer({ min: 1320, max: 1440 }),
);

const toHHMM = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** 0–3 non-overlapping ranges: sorted distinct points paired up, shuffled. */
const dayRanges: fc.Arbitrary<readonly TimeRange[]> = fc
  .uniqueArray(minuteOfDay, { maxLength: 6 })
  .chain((pts) => {
    const sorted = [...pts].sort((a, b) => a - b);
    const ranges: TimeRange[] = [];
    for (let i = 0; i + 1 < sorted.length; i += 2) ranges.push([toHHMM(sorted[i]!), toHHMM(sorted[i + 1]!)]);
    return fc.shuffledSubarray(ranges, { minLength: ranges.length, maxLength: ranges.length });
  });

const smallMinutes = (max: number): fc.Arbitrary<number> => fc.oneof(fc.integer({ min: 5, max }), fc.constantFrom(15, 30, 45, 60, 90));

const scenario = fc
  .record({
    zone: fc.constantFrom(...ZONES),
    anchorPick: fc.nat(),
    nowShift: fc.integer({ min: -3 * DAY, max: DAY }),
    rangeShift: fc.integer({ min: -DAY, max: 3 * DAY }),
    rangeLength: fc.integer({ min: 0, max: 5 * DAY }),
    duration: smallMinutes(240),
    step: smallMinutes(240),
    bufferBefore: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 120 })),
    bufferAfter: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 120 })),
    notice: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3000 })),
    horizon: fc.integer({ min: 1, max: 4 }),
    cap: fc.option(fc.integer({ min: 1, max: 3 })),
    week: fc.record({ mon: dayRanges, tue: dayRanges, wed: dayRanges, thu: dayRanges, fri: dayRanges, sat: dayRanges, sun: dayRanges }),
    overrides: fc.uniqueArray(fc.record({ dayShift: fc.integer({ min: -2, max: 5 }), hours: dayRanges }), { maxLength: 3, selector: (o) => o.dayShift }),
    busy: fc.array(fc.record({ shift: fc.integer({ min: -DAY, max: 6 * DAY }), length: fc.integer({ min: -30 * MIN, max: 6 * 60 * MIN }) }), { maxLength: 20 }),
    booked: fc.array(fc.tuple(fc.integer({ min: -2, max: 6 }), fc.integer({ min: 0, max: 3 })), { maxLength: 4 }),
  })
  .map((s): SlotQuery => {
    const anchors = ANCHORS.get(s.zone)!;
    const anchor = anchors[s.anchorPick % anchors.length]!;
    const now = anchor + s.nowShift;
    const anchorDay = Math.floor(anchor / DAY);
    const rules: ServiceRules = {
      durationMinutes: s.duration,
      stepMinutes: s.step,
      bufferBeforeMinutes: s.bufferBefore,
      bufferAfterMinutes: s.bufferAfter,
      minimumNoticeMinutes: s.notice,
      horizonDays: s.horizon,
      dailyCap: s.cap,
      hours: s.week,
      overrides: s.overrides.map((o) => ({ date: dayString(anchorDay + o.dayShift), hours: o.hours })),
    };
    const busy: Interval[] = s.busy.map((b) => ({ start: now + b.shift, end: now + b.shift + b.length }));
    const start = now + s.rangeShift;
    return {
      rules,
      timeZone: s.zone,
      now,
      range: { start, end: start + s.rangeLength },
      busy,
      bookedPerDay: new Map(s.booked.map(([d, n]) => [dayString(anchorDay + d), n])),
    };
  });

const show = (q: SlotQuery): string =>
  JSON.stringify({ ...q, now: new Date(q.now).toISOString(), bookedPerDay: [...(q.bookedPerDay ?? new Map<string, number>())] });

test('computeSlots equals the minute-by-minute oracle on random rules, zones and busy sets', () => {
  let nonEmpty = 0;
  fc.assert(
    fc.property(scenario, (q) => {
      const got = computeSlots(q);
      const want = oracle(q);
      if (want.length > 0) nonEmpty++;
      assert.deepEqual(got, want, show(q));
    }),
    { numRuns: 4000 },
  );
  // The comparison is only meaningful if the generator produces real slots most of the time.
  assert.ok(nonEmpty > 1600, `only ${nonEmpty} runs had slots`);
});

test('the oracle itself matches hand-written instants (Paris gap and overlap)', () => {
  const rules: ServiceRules = {
    durationMinutes: 60,
    stepMinutes: 60,
    bufferBeforeMinutes: 0,
    bufferAfterMinutes: 0,
    minimumNoticeMinutes: 0,
    horizonDays: 4,
    dailyCap: null,
    hours: { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [['01:00', '04:00']] },
    overrides: [],
  };
  const base = { rules, timeZone: 'Europe/Paris', busy: [] };
  const spring = oracle({ ...base, now: Date.UTC(2026, 2, 27), range: { start: Date.UTC(2026, 2, 28), end: Date.UTC(2026, 2, 30) } });
  assert.deepEqual(spring.map((t) => new Date(t).toISOString()), ['2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z']);
  const fall = oracle({ ...base, now: Date.UTC(2026, 9, 23), range: { start: Date.UTC(2026, 9, 24), end: Date.UTC(2026, 9, 26) } });
  assert.deepEqual(fall.map((t) => new Date(t).toISOString()), ['2026-10-24T23:00:00.000Z', '2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T02:00:00.000Z']);
});

test('arbitrary input never crashes: slots or a typed RulesError', () => {
  const anyNumber = fc.oneof(fc.integer({ min: -10, max: 2000 }), fc.double(), fc.constant(Number.NaN));
  const anyTime = fc.oneof(fc.constantFrom('00:00', '24:00', '9:00', '12:60', '', '23:59'), fc.string({ maxLength: 6 }));
  const anyRanges = fc.array(fc.tuple(anyTime, anyTime), { maxLength: 12 });
  const junk = fc.record({
    durationMinutes: anyNumber,
    stepMinutes: anyNumber,
    bufferBeforeMinutes: anyNumber,
    bufferAfterMinutes: anyNumber,
    minimumNoticeMinutes: anyNumber,
    horizonDays: fc.oneof(anyNumber, fc.integer({ min: 1, max: 5 })),
    dailyCap: fc.option(anyNumber),
    hours: fc.record({ mon: anyRanges, tue: anyRanges, wed: anyRanges, thu: anyRanges, fri: anyRanges, sat: anyRanges, sun: anyRanges }),
    overrides: fc.array(fc.record({ date: fc.oneof(fc.constantFrom('2026-11-23', '2026-02-29', '2028-02-29'), fc.string({ maxLength: 10 })), hours: anyRanges }), { maxLength: 3 }),
  });
  fc.assert(
    fc.property(junk, fc.constantFrom('Europe/Paris', 'UTC', 'Not/AZone', ''), (rules, timeZone) => {
      const q: SlotQuery = { rules: rules as ServiceRules, timeZone, now: Date.UTC(2026, 10, 21), range: { start: Date.UTC(2026, 10, 21), end: Date.UTC(2026, 10, 28) }, busy: [] };
      try {
        const slots = computeSlots(q);
        for (let i = 1; i < slots.length; i++) assert.ok(slots[i]! > slots[i - 1]!);
      } catch (e) {
        assert.ok(e instanceof RulesError, String(e));
      }
    }),
    { numRuns: 500 },
  );
});
