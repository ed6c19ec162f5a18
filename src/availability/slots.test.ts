import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeSlots, localDate, RulesError, validateRules } from './slots.js';
import type { ServiceRules, SlotQuery, TimeRange, Weekday } from './slots.js';
import type { Interval } from '../lib/interval.js';

// 2026-11-23 is a Monday. Most tests run in UTC so expected instants read like the hours.
const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16);
const MON = '2026-11-23';
const none: readonly TimeRange[] = [];

function rules(over: Partial<ServiceRules> = {}, days: Partial<Record<Weekday, readonly TimeRange[]>> = {}): ServiceRules {
  return {
    durationMinutes: 60,
    stepMinutes: 60,
    bufferBeforeMinutes: 0,
    bufferAfterMinutes: 0,
    minimumNoticeMinutes: 0,
    horizonDays: 30,
    dailyCap: null,
    hours: { mon: [['09:00', '12:00']], tue: none, wed: none, thu: none, fri: none, sat: none, sun: none, ...days },
    overrides: [],
    ...over,
  };
}

function query(r: ServiceRules, extra: Partial<SlotQuery> = {}): SlotQuery {
  return {
    rules: r,
    timeZone: 'UTC',
    now: at('2026-11-21T12:00:00Z'),
    range: { start: at(`${MON}T00:00:00Z`), end: at(`${MON}T23:59:00Z`) },
    busy: [],
    ...extra,
  };
}

/** Slots as "HH:MM" UTC on Monday, for readable expectations. */
function monday(r: ServiceRules, extra: Partial<SlotQuery> = {}): string[] {
  return computeSlots(query(r, extra)).map((ms) => iso(ms).slice(11));
}

const busy = (from: string, to: string): Interval => ({ start: at(`${MON}T${from}:00Z`), end: at(`${MON}T${to}:00Z`) });

test('a plain morning gives one slot per step while the service fits', () => {
  assert.deepEqual(monday(rules()), ['09:00', '10:00', '11:00']);
});

test('step shorter than duration overlaps candidate slots; longer skips time', () => {
  assert.deepEqual(monday(rules({ stepMinutes: 45 })), ['09:00', '09:45', '10:30']);
  assert.deepEqual(monday(rules({ durationMinutes: 30, stepMinutes: 90 })), ['09:00', '10:30']);
});

test('a range shorter than the duration offers nothing', () => {
  assert.deepEqual(monday(rules({}, { mon: [['09:00', '09:50']] })), []);
});

test('busy time that only touches a slot does not block it', () => {
  assert.deepEqual(monday(rules(), { busy: [busy('10:00', '11:00')] }), ['09:00', '11:00']);
  assert.deepEqual(monday(rules(), { busy: [busy('08:00', '09:00'), busy('12:00', '13:00')] }), ['09:00', '10:00', '11:00']);
});

test('one minute of overlap blocks a slot', () => {
  assert.deepEqual(monday(rules(), { busy: [busy('09:59', '10:00')] }), ['10:00', '11:00']);
  assert.deepEqual(monday(rules(), { busy: [busy('08:00', '09:01')] }), ['10:00', '11:00']);
  assert.deepEqual(monday(rules(), { busy: [busy('11:59', '13:00')] }), ['09:00', '10:00']);
});

test('busy intervals may come unsorted, overlapping, nested or empty', () => {
  const b = [busy('11:30', '11:45'), busy('09:10', '09:20'), busy('09:00', '09:30'), busy('10:30', '10:30'), busy('10:40', '10:20')];
  assert.deepEqual(monday(rules(), { busy: b }), ['10:00']);
});

test('buffers extend the protected window on each side, touching still allowed', () => {
  const r = rules({ bufferBeforeMinutes: 30, bufferAfterMinutes: 10 });
  // Slot 10:00 needs [09:30, 11:10) free.
  assert.deepEqual(monday(r, { busy: [busy('11:10', '11:20')] }), ['09:00', '10:00']);
  assert.deepEqual(monday(r, { busy: [busy('11:09', '11:20')] }), ['09:00']);
  // Slot 09:00 needs [08:30, 10:10) free: buffers reach outside booking hours.
  assert.deepEqual(monday(r, { busy: [busy('08:00', '08:30')] }), ['09:00', '10:00', '11:00']);
  assert.deepEqual(monday(r, { busy: [busy('08:00', '08:31')] }), ['10:00', '11:00']);
  // After-buffer of 10 min: busy at 12:05 blocks the 11:00 slot (ends 12:00, guarded to 12:10).
  assert.deepEqual(monday(r, { busy: [busy('12:05', '12:06')] }), ['09:00', '10:00']);
});

test('minimum notice counts from now and includes the exact boundary', () => {
  const now = at(`${MON}T08:00:00Z`);
  assert.deepEqual(monday(rules({ minimumNoticeMinutes: 60 }), { now }), ['09:00', '10:00', '11:00']);
  assert.deepEqual(monday(rules({ minimumNoticeMinutes: 61 }), { now }), ['10:00', '11:00']);
  assert.deepEqual(monday(rules({ minimumNoticeMinutes: 0 }), { now: at(`${MON}T10:30:00Z`) }), ['11:00']);
  // Notice does not shift the grid: a 90-minute notice does not create a 09:30 slot.
  assert.deepEqual(monday(rules({ minimumNoticeMinutes: 90 }), { now }), ['10:00', '11:00']);
});

test('slots start inside [range.start, range.end) and may end after range.end', () => {
  const range = { start: at(`${MON}T10:00:00Z`), end: at(`${MON}T11:00:00Z`) };
  assert.deepEqual(monday(rules(), { range }), ['10:00']);
  assert.deepEqual(monday(rules(), { range: { start: range.start + 1, end: range.end + 1 } }), ['11:00']);
  assert.deepEqual(monday(rules(), { range: { start: range.end, end: range.start } }), []);
});

test('horizon ends at the midnight closing day today + horizonDays in the staff zone', () => {
  const every = { mon: [['09:00', '10:00']], tue: [['09:00', '10:00']], wed: [['09:00', '10:00']], thu: [['09:00', '10:00']], fri: [['09:00', '10:00']], sat: [['09:00', '10:00']], sun: [['09:00', '10:00']] } as const;
  const week = { start: at('2026-11-20T00:00:00Z'), end: at('2026-11-30T00:00:00Z') };
  // Saturday 21 at 08:00: today's slot, Sunday 22 and Monday 23; nothing from Tuesday 24.
  const slots = computeSlots(query(rules({ horizonDays: 2 }, every), { now: at('2026-11-21T08:00:00Z'), range: week }));
  assert.deepEqual(slots.map(iso), ['2026-11-21T09:00', '2026-11-22T09:00', '2026-11-23T09:00']);
  // "Today" is the staff zone's date: 23:30Z on the 21st is already the 22nd in Paris.
  const paris = computeSlots({
    ...query(rules({ horizonDays: 1 }, every), { now: at('2026-11-21T23:30:00Z'), range: week }),
    timeZone: 'Europe/Paris',
  });
  assert.deepEqual(paris.map(iso), ['2026-11-22T08:00', '2026-11-23T08:00']);
});

test('horizon boundary is exclusive at local midnight, including a 24:00 end', () => {
  const late = rules({ horizonDays: 1, durationMinutes: 30, stepMinutes: 30 }, { sat: [['23:00', '24:00']], sun: [['00:00', '01:00'], ['23:00', '24:00']] });
  const slots = computeSlots(query(late, { now: at('2026-11-21T00:00:00Z'), range: { start: at('2026-11-21T00:00:00Z'), end: at('2026-11-25T00:00:00Z') } }));
  assert.deepEqual(slots.map(iso), ['2026-11-21T23:00', '2026-11-21T23:30', '2026-11-22T00:00', '2026-11-22T00:30', '2026-11-22T23:00', '2026-11-22T23:30']);
});

test('daily cap closes a day once reached and ignores other days', () => {
  const r = rules({ dailyCap: 2 }, { tue: [['09:00', '10:00']] });
  const twoDays = { start: at(`${MON}T00:00:00Z`), end: at('2026-11-25T00:00:00Z') };
  const run = (booked: [string, number][]): string[] => computeSlots(query(r, { range: twoDays, bookedPerDay: new Map(booked) })).map(iso);
  assert.deepEqual(run([]), ['2026-11-23T09:00', '2026-11-23T10:00', '2026-11-23T11:00', '2026-11-24T09:00']);
  assert.deepEqual(run([[MON, 1]]), ['2026-11-23T09:00', '2026-11-23T10:00', '2026-11-23T11:00', '2026-11-24T09:00']);
  assert.deepEqual(run([[MON, 2]]), ['2026-11-24T09:00']);
  assert.deepEqual(run([[MON, 5], ['2026-11-24', 2]]), []);
  // Without a cap, the counts are irrelevant.
  const uncapped = computeSlots(query(rules(), { bookedPerDay: new Map([[MON, 99]]) }));
  assert.equal(uncapped.length, 3);
});

test('daily cap keys on the staff-zone date, not the UTC date', () => {
  // 00:30–01:30 on Monday in Paris is Sunday 23:30Z: the Monday count must close it.
  const r = rules({ dailyCap: 1 }, { mon: [['00:30', '01:30']] });
  const q = { ...query(r, { range: { start: at('2026-11-22T00:00:00Z'), end: at('2026-11-24T00:00:00Z') } }), timeZone: 'Europe/Paris' };
  assert.deepEqual(computeSlots(q).map(iso), ['2026-11-22T23:30']);
  assert.deepEqual(computeSlots({ ...q, bookedPerDay: new Map([['2026-11-22', 1]]) }).map(iso), ['2026-11-22T23:30']);
  assert.deepEqual(computeSlots({ ...q, bookedPerDay: new Map([[MON, 1]]) }), []);
});

test('an override replaces the weekly hours: closed, other hours, or opening a closed weekday', () => {
  assert.deepEqual(monday(rules({ overrides: [{ date: MON, hours: [] }] })), []);
  assert.deepEqual(monday(rules({ overrides: [{ date: MON, hours: [['14:00', '15:30']] }] })), ['14:00']);
  const tue = { start: at('2026-11-24T00:00:00Z'), end: at('2026-11-25T00:00:00Z') };
  const opened = rules({ overrides: [{ date: '2026-11-24', hours: [['07:00', '08:00']] }] });
  assert.deepEqual(computeSlots(query(opened, { range: tue })).map(iso), ['2026-11-24T07:00']);
  // An override on another date leaves Monday alone.
  assert.deepEqual(monday(rules({ overrides: [{ date: '2026-11-30', hours: [] }] })), ['09:00', '10:00', '11:00']);
});

test('several ranges in a day, given in any order, each with its own grid', () => {
  const r = rules({ durationMinutes: 30, stepMinutes: 30 }, { mon: [['14:10', '15:00'], ['09:00', '10:00'], ['12:00', '12:30']] });
  assert.deepEqual(monday(r), ['09:00', '09:30', '12:00', '14:10']);
});

test('touching ranges are allowed and 24:00 closes the day', () => {
  const r = rules({}, { mon: [['09:00', '10:00'], ['10:00', '11:00'], ['23:00', '24:00']] });
  assert.deepEqual(monday(r, { range: { start: at(`${MON}T00:00:00Z`), end: at('2026-11-24T00:00:00Z') } }), ['09:00', '10:00', '23:00']);
});

test('validateRules accepts good rules and reports each problem with its field', () => {
  assert.deepEqual(validateRules(rules(), 'Europe/Paris'), []);
  const cases: [Partial<ServiceRules>, string, string, string?][] = [
    [{}, 'unknown_zone', 'timeZone', 'Mars/Olympus'],
    [{ durationMinutes: 0 }, 'zero_duration', 'durationMinutes'],
    [{ durationMinutes: -5 }, 'zero_duration', 'durationMinutes'],
    [{ durationMinutes: 4 }, 'bad_duration', 'durationMinutes'],
    [{ durationMinutes: 1441 }, 'bad_duration', 'durationMinutes'],
    [{ durationMinutes: 30.5 }, 'bad_duration', 'durationMinutes'],
    [{ durationMinutes: Number.NaN }, 'bad_duration', 'durationMinutes'],
    [{ stepMinutes: 0 }, 'bad_step', 'stepMinutes'],
    [{ stepMinutes: 1441 }, 'bad_step', 'stepMinutes'],
    [{ bufferBeforeMinutes: -1 }, 'bad_buffer', 'bufferBeforeMinutes'],
    [{ bufferAfterMinutes: 1441 }, 'bad_buffer', 'bufferAfterMinutes'],
    [{ minimumNoticeMinutes: 365 * 1440 + 1 }, 'bad_notice', 'minimumNoticeMinutes'],
    [{ horizonDays: 0 }, 'bad_horizon', 'horizonDays'],
    [{ horizonDays: 731 }, 'bad_horizon', 'horizonDays'],
    [{ dailyCap: 0 }, 'bad_daily_cap', 'dailyCap'],
    [{ dailyCap: 1001 }, 'bad_daily_cap', 'dailyCap'],
    [{ hours: { ...rules().hours, wed: 'closed' as unknown as TimeRange[] } }, 'bad_hours', 'hours.wed'],
    [{ hours: { ...rules().hours, tue: Array.from({ length: 11 }, (_, i): TimeRange => [`${String(i).padStart(2, '0')}:00`, `${String(i).padStart(2, '0')}:30`]) } }, 'too_many_ranges', 'hours.tue'],
    [{ hours: { ...rules().hours, mon: [['9:00', '12:00']] } }, 'bad_time', 'hours.mon[0].start'],
    [{ hours: { ...rules().hours, mon: [['09:00', '12:60']] } }, 'bad_time', 'hours.mon[0].end'],
    [{ hours: { ...rules().hours, mon: [['24:00', '24:00']] } }, 'bad_time', 'hours.mon[0].start'],
    [{ hours: { ...rules().hours, mon: [['09:00', '24:01']] } }, 'bad_time', 'hours.mon[0].end'],
    [{ hours: { ...rules().hours, mon: [['09:00'] as unknown as TimeRange] } }, 'bad_time', 'hours.mon[0]'],
    [{ hours: { ...rules().hours, fri: [['12:00', '09:00']] } }, 'end_before_start', 'hours.fri[0]'],
    [{ hours: { ...rules().hours, fri: [['12:00', '12:00']] } }, 'end_before_start', 'hours.fri[0]'],
    [{ hours: { ...rules().hours, sat: [['13:00', '17:00'], ['09:00', '13:01']] } }, 'overlapping_ranges', 'hours.sat'],
    [{ overrides: 'none' as unknown as ServiceRules['overrides'] }, 'bad_overrides', 'overrides'],
    [{ overrides: [{ date: '2026-02-30', hours: [] }] }, 'bad_date', 'overrides[0].date'],
    [{ overrides: [{ date: '26-11-23', hours: [] }] }, 'bad_date', 'overrides[0].date'],
    [{ overrides: [{ date: MON, hours: [] }, { date: MON, hours: [] }] }, 'duplicate_override', 'overrides[1].date'],
    [{ overrides: [{ date: MON, hours: [['10:00', '09:00']] }] }, 'end_before_start', 'overrides[0].hours[0]'],
  ];
  for (const [over, code, field, zone] of cases) {
    const errors = validateRules(rules(over), zone ?? 'UTC');
    assert.deepEqual(
      errors.map((e) => [e.code, e.field]),
      [[code, field]],
      `${code} for ${JSON.stringify(over)}`,
    );
    assert.ok(errors[0] instanceof RulesError);
  }
});

test('validateRules lists every problem at once', () => {
  const errors = validateRules(rules({ durationMinutes: 0, stepMinutes: 3, horizonDays: 0 }), 'Nowhere/Else');
  assert.deepEqual(errors.map((e) => e.code).sort(), ['bad_horizon', 'bad_step', 'unknown_zone', 'zero_duration']);
});

test('computeSlots throws a typed RulesError on bad rules, RangeError on non-finite input', () => {
  assert.throws(() => computeSlots(query(rules({ stepMinutes: 2 }))), (e: unknown) => e instanceof RulesError && e.code === 'bad_step' && e.field === 'stepMinutes');
  assert.throws(() => computeSlots({ ...query(rules()), timeZone: 'Europe/Pariss' }), (e: unknown) => e instanceof RulesError && e.code === 'unknown_zone');
  assert.throws(() => computeSlots(query(rules(), { now: Number.NaN })), RangeError);
  assert.throws(() => computeSlots(query(rules(), { busy: [{ start: 0, end: Number.NaN }] })), RangeError);
});

test('localDate reads the calendar date in the given zone', () => {
  const t = at('2026-11-21T23:30:00Z');
  assert.equal(localDate(t, 'UTC'), '2026-11-21');
  assert.equal(localDate(t, 'Europe/Paris'), '2026-11-22');
  assert.equal(localDate(t, 'America/New_York'), '2026-11-21');
  assert.equal(localDate(at('2026-11-21T18:14:59Z'), 'Asia/Kathmandu'), '2026-11-21');
  assert.equal(localDate(at('2026-11-21T18:15:00Z'), 'Asia/Kathmandu'), '2026-11-22');
  assert.throws(() => localDate(t, 'Bad/Zone'), RulesError);
});

test('a month window with a long horizon stays bounded by the horizon', () => {
  const r = rules({ horizonDays: 7 }, { tue: [['09:00', '10:00']] });
  const slots = computeSlots(query(r, { now: at('2026-11-21T12:00:00Z'), range: { start: 0, end: at('2030-01-01T00:00:00Z') } }));
  assert.deepEqual(slots.map(iso), ['2026-11-23T09:00', '2026-11-23T10:00', '2026-11-23T11:00', '2026-11-24T09:00']);
});
