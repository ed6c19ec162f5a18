import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeSlots } from './slots.js';
import type { ServiceRules, TimeRange } from './slots.js';

// Every expected instant below was written by hand from the tzdata rules, not produced by the
// engine. 2026 change days:
//   Europe/Paris         +01 → +02 on Sun 29 Mar at 02:00 local (01:00Z); back on Sun 25 Oct at 03:00 (01:00Z)
//   America/New_York     −05 → −04 on Sun 8 Mar at 02:00 local (07:00Z); back on Sun 1 Nov at 02:00 (06:00Z)
//   Australia/Sydney     +11 → +10 on Sun 5 Apr at 03:00 local (16:00Z on the 4th); +10 → +11 on Sun 4 Oct at 02:00 (16:00Z on the 3rd)
//   Australia/Lord_Howe  +11 → +10:30 on Sun 5 Apr at 02:00 local (15:00Z on the 4th); +10:30 → +11 on Sun 4 Oct at 02:00 (15:30Z on the 3rd)
//   Asia/Kathmandu       +05:45 all year; it moved from +05:30 at 1986-01-01 00:00 local (18:30Z), a 15-minute gap at midnight
// A gap boundary shifts forward by the gap length (RFC 5545 §3.3.5); an ambiguous one takes the
// first occurrence; the step runs in real minutes from the range's start instant.

const none: readonly TimeRange[] = [];

interface Case {
  readonly name: string;
  readonly zone: string;
  readonly date: string;
  readonly hours: readonly TimeRange[];
  readonly minutes: number; // duration = step
  readonly expected: readonly string[]; // UTC, "YYYY-MM-DDTHH:MM"
}

/** Every `minutes` from `from` (inclusive) to `to` (exclusive), as UTC "YYYY-MM-DDTHH:MM"; for 8-hour days. */
function every(from: string, to: string, minutes: number): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}Z`); t < Date.parse(`${to}Z`); t += minutes * 60_000) out.push(new Date(t).toISOString().slice(0, 16));
  return out;
}

const cases: Case[] = [
  // 09:00–17:00 is 8 real hours on change days: eight 60-minute slots.
  { name: 'Paris spring day 09–17 (CEST)', zone: 'Europe/Paris', date: '2026-03-29', hours: [['09:00', '17:00']], minutes: 60, expected: every('2026-03-29T07:00', '2026-03-29T15:00', 60) },
  { name: 'Paris day before spring 09–17 (CET)', zone: 'Europe/Paris', date: '2026-03-28', hours: [['09:00', '17:00']], minutes: 60, expected: every('2026-03-28T08:00', '2026-03-28T16:00', 60) },
  { name: 'Paris fall day 09–17 (CET)', zone: 'Europe/Paris', date: '2026-10-25', hours: [['09:00', '17:00']], minutes: 60, expected: every('2026-10-25T08:00', '2026-10-25T16:00', 60) },
  { name: 'New York spring day 09–17 (EDT)', zone: 'America/New_York', date: '2026-03-08', hours: [['09:00', '17:00']], minutes: 60, expected: every('2026-03-08T13:00', '2026-03-08T21:00', 60) },
  { name: 'New York fall day 09–17 (EST)', zone: 'America/New_York', date: '2026-11-01', hours: [['09:00', '17:00']], minutes: 60, expected: every('2026-11-01T14:00', '2026-11-01T22:00', 60) },
  { name: 'Sydney fall day 09–17 (AEST)', zone: 'Australia/Sydney', date: '2026-04-05', hours: [['09:00', '17:00']], minutes: 60, expected: every('2026-04-04T23:00', '2026-04-05T07:00', 60) },
  { name: 'Sydney spring day 09–17 (AEDT)', zone: 'Australia/Sydney', date: '2026-10-04', hours: [['09:00', '17:00']], minutes: 60, expected: every('2026-10-03T22:00', '2026-10-04T06:00', 60) },
  { name: 'Lord Howe fall day 09–17 (+10:30)', zone: 'Australia/Lord_Howe', date: '2026-04-05', hours: [['09:00', '17:00']], minutes: 60, expected: every('2026-04-04T22:30', '2026-04-05T06:30', 60) },
  { name: 'Lord Howe spring day 09–17 (+11)', zone: 'Australia/Lord_Howe', date: '2026-10-04', hours: [['09:00', '17:00']], minutes: 60, expected: every('2026-10-03T22:00', '2026-10-04T06:00', 60) },
  { name: 'Kathmandu 09–17 (+05:45)', zone: 'Asia/Kathmandu', date: '2026-03-29', hours: [['09:00', '17:00']], minutes: 60, expected: every('2026-03-29T03:15', '2026-03-29T11:15', 60) },

  // 01:00–04:00 across the gap: 2 real hours, nothing at 02:xx local.
  {
    name: 'Paris 01–04 across the gap, 30 min',
    zone: 'Europe/Paris',
    date: '2026-03-29',
    hours: [['01:00', '04:00']],
    minutes: 30,
    // 01:00 CET = 00:00Z … 04:00 CEST = 02:00Z; local 01:00, 01:30, 03:00, 03:30.
    expected: ['2026-03-29T00:00', '2026-03-29T00:30', '2026-03-29T01:00', '2026-03-29T01:30'],
  },
  {
    name: 'New York 01–04 across the gap, 60 min',
    zone: 'America/New_York',
    date: '2026-03-08',
    hours: [['01:00', '04:00']],
    minutes: 60,
    // 01:00 EST = 06:00Z … 04:00 EDT = 08:00Z; local 01:00 EST, 03:00 EDT.
    expected: ['2026-03-08T06:00', '2026-03-08T07:00'],
  },
  {
    name: 'Sydney 01–04 across the gap, 60 min',
    zone: 'Australia/Sydney',
    date: '2026-10-04',
    hours: [['01:00', '04:00']],
    minutes: 60,
    // 01:00 AEST = 15:00Z … 04:00 AEDT = 17:00Z; local 01:00, 03:00.
    expected: ['2026-10-03T15:00', '2026-10-03T16:00'],
  },
  {
    name: 'Lord Howe 01–04 across the 30-minute gap, 30 min',
    zone: 'Australia/Lord_Howe',
    date: '2026-10-04',
    hours: [['01:00', '04:00']],
    minutes: 30,
    // 01:00 +10:30 = 14:30Z … 04:00 +11 = 17:00Z (2.5 h); local 01:00, 01:30, 02:30, 03:00, 03:30.
    expected: ['2026-10-03T14:30', '2026-10-03T15:00', '2026-10-03T15:30', '2026-10-03T16:00', '2026-10-03T16:30'],
  },

  // 01:00–04:00 across the overlap: 4 real hours (3.5 at Lord Howe), the repeated hour is offered twice.
  {
    name: 'Paris 01–04 across the overlap, 60 min',
    zone: 'Europe/Paris',
    date: '2026-10-25',
    hours: [['01:00', '04:00']],
    minutes: 60,
    // 01:00 CEST = 23:00Z … 04:00 CET = 03:00Z; local 01:00 CEST, 02:00 CEST, 02:00 CET, 03:00 CET.
    expected: ['2026-10-24T23:00', '2026-10-25T00:00', '2026-10-25T01:00', '2026-10-25T02:00'],
  },
  {
    name: 'New York 01–04 across the overlap, 60 min',
    zone: 'America/New_York',
    date: '2026-11-01',
    hours: [['01:00', '04:00']],
    minutes: 60,
    // 01:00 is ambiguous: first = EDT = 05:00Z … 04:00 EST = 09:00Z.
    expected: ['2026-11-01T05:00', '2026-11-01T06:00', '2026-11-01T07:00', '2026-11-01T08:00'],
  },
  {
    name: 'Sydney 01–04 across the overlap, 60 min',
    zone: 'Australia/Sydney',
    date: '2026-04-05',
    hours: [['01:00', '04:00']],
    minutes: 60,
    // 01:00 AEDT = 14:00Z … 04:00 AEST = 18:00Z.
    expected: ['2026-04-04T14:00', '2026-04-04T15:00', '2026-04-04T16:00', '2026-04-04T17:00'],
  },
  {
    name: 'Lord Howe 01–04 across the overlap, 30 min',
    zone: 'Australia/Lord_Howe',
    date: '2026-04-05',
    hours: [['01:00', '04:00']],
    minutes: 30,
    // 01:00 +11 = 14:00Z … 04:00 +10:30 = 17:30Z: local 01:00, 01:30 (+11), 01:30, 02:00, 02:30, 03:00, 03:30 (+10:30).
    expected: ['2026-04-04T14:00', '2026-04-04T14:30', '2026-04-04T15:00', '2026-04-04T15:30', '2026-04-04T16:00', '2026-04-04T16:30', '2026-04-04T17:00'],
  },

  // Boundaries inside the gap shift forward by the gap length.
  {
    name: 'Paris start in the gap: 02:30 → 03:30 CEST',
    zone: 'Europe/Paris',
    date: '2026-03-29',
    hours: [['02:30', '04:00']],
    minutes: 30,
    expected: ['2026-03-29T01:30'],
  },
  {
    name: 'Paris end in the gap: 02:30 → 03:30 CEST',
    zone: 'Europe/Paris',
    date: '2026-03-29',
    hours: [['00:00', '02:30']],
    minutes: 30,
    // 00:00 CET = 23:00Z … 03:30 CEST = 01:30Z.
    expected: ['2026-03-28T23:00', '2026-03-28T23:30', '2026-03-29T00:00', '2026-03-29T00:30', '2026-03-29T01:00'],
  },
  {
    name: 'Lord Howe start in the gap: 02:15 → 02:45 (+11)',
    zone: 'Australia/Lord_Howe',
    date: '2026-10-04',
    hours: [['02:15', '03:00']],
    minutes: 15,
    // 02:45 +11 = 15:45Z … 03:00 +11 = 16:00Z.
    expected: ['2026-10-03T15:45'],
  },
  {
    name: 'New York range wholly inside the gap moves an hour later',
    zone: 'America/New_York',
    date: '2026-03-08',
    hours: [['02:00', '02:45']],
    minutes: 15,
    // 02:00 → 03:00 EDT = 07:00Z and 02:45 → 03:45 EDT = 07:45Z: shifting both keeps 45 real minutes.
    expected: ['2026-03-08T07:00', '2026-03-08T07:15', '2026-03-08T07:30'],
  },
  {
    name: 'Kathmandu 1986: midnight does not exist, 00:00 → 00:15 (+05:45)',
    zone: 'Asia/Kathmandu',
    date: '1986-01-01',
    hours: [['00:00', '01:00']],
    minutes: 15,
    // 00:15 +05:45 = 18:30Z … 01:00 +05:45 = 19:15Z.
    expected: ['1985-12-31T18:30', '1985-12-31T18:45', '1985-12-31T19:00'],
  },
  {
    name: 'Kathmandu 1985: 24:00 lands in the gap, 23:00–24:00 is 60 real minutes',
    zone: 'Asia/Kathmandu',
    date: '1985-12-31',
    hours: [['23:00', '24:00']],
    minutes: 15,
    // 23:00 +05:30 = 17:30Z … 00:15 +05:45 = 18:30Z.
    expected: ['1985-12-31T17:30', '1985-12-31T17:45', '1985-12-31T18:00', '1985-12-31T18:15'],
  },

  // Ambiguous boundaries take the first occurrence (the earlier instant).
  {
    name: 'Paris start ambiguous: 02:30 is CEST',
    zone: 'Europe/Paris',
    date: '2026-10-25',
    hours: [['02:30', '04:00']],
    minutes: 30,
    // 02:30 CEST = 00:30Z … 04:00 CET = 03:00Z.
    expected: ['2026-10-25T00:30', '2026-10-25T01:00', '2026-10-25T01:30', '2026-10-25T02:00', '2026-10-25T02:30'],
  },
  {
    name: 'Paris end ambiguous: 02:30 is CEST',
    zone: 'Europe/Paris',
    date: '2026-10-25',
    hours: [['00:00', '02:30']],
    minutes: 30,
    // 00:00 CEST = 22:00Z … 02:30 CEST = 00:30Z.
    expected: ['2026-10-24T22:00', '2026-10-24T22:30', '2026-10-24T23:00', '2026-10-24T23:30', '2026-10-25T00:00'],
  },
  {
    name: 'New York 01:30–02:00: 01:30 EDT to 02:00 EST is 90 minutes',
    zone: 'America/New_York',
    date: '2026-11-01',
    hours: [['01:30', '02:00']],
    minutes: 30,
    // 01:30 EDT = 05:30Z … 02:00 EST = 07:00Z; local 01:30 EDT, 01:00 EST, 01:30 EST.
    expected: ['2026-11-01T05:30', '2026-11-01T06:00', '2026-11-01T06:30'],
  },
  {
    name: 'Sydney 02:30 ambiguous is AEDT',
    zone: 'Australia/Sydney',
    date: '2026-04-05',
    hours: [['02:30', '03:00']],
    minutes: 30,
    // 02:30 AEDT = 15:30Z … 03:00 AEST = 17:00Z.
    expected: ['2026-04-04T15:30', '2026-04-04T16:00', '2026-04-04T16:30'],
  },
  {
    name: 'Lord Howe 01:45 ambiguous is +11',
    zone: 'Australia/Lord_Howe',
    date: '2026-04-05',
    hours: [['01:45', '02:00']],
    minutes: 15,
    // 01:45 +11 = 14:45Z … 02:00 +10:30 = 15:30Z: three real quarter hours.
    expected: ['2026-04-04T14:45', '2026-04-04T15:00', '2026-04-04T15:15'],
  },
];

function rulesFor(c: Case): ServiceRules {
  return {
    durationMinutes: c.minutes,
    stepMinutes: c.minutes,
    bufferBeforeMinutes: 0,
    bufferAfterMinutes: 0,
    minimumNoticeMinutes: 0,
    horizonDays: 30,
    dailyCap: null,
    hours: { mon: none, tue: none, wed: none, thu: none, fri: none, sat: none, sun: none },
    overrides: [{ date: c.date, hours: c.hours }],
  };
}

for (const c of cases) {
  test(`DST: ${c.name}`, () => {
    const day = Date.parse(`${c.date}T00:00:00Z`);
    const slots = computeSlots({
      rules: rulesFor(c),
      timeZone: c.zone,
      now: day - 5 * 86_400_000,
      range: { start: day - 2 * 86_400_000, end: day + 2 * 86_400_000 },
      busy: [],
    });
    assert.deepEqual(
      slots.map((ms) => new Date(ms).toISOString().slice(0, 16)),
      c.expected,
    );
  });
}

test('DST: the same hours as weekly rules give the same slots as an override', () => {
  // Sunday 29 March 2026 in Paris through the weekly table instead of an override.
  const r: ServiceRules = { ...rulesFor(cases[0]!), overrides: [], hours: { mon: none, tue: none, wed: none, thu: none, fri: none, sat: none, sun: [['09:00', '17:00']] } };
  const day = Date.parse('2026-03-29T00:00:00Z');
  const slots = computeSlots({ rules: r, timeZone: 'Europe/Paris', now: day - 86_400_000, range: { start: day, end: day + 86_400_000 }, busy: [] });
  assert.deepEqual(slots.map((ms) => new Date(ms).toISOString().slice(0, 16)), every('2026-03-29T07:00', '2026-03-29T15:00', 60));
});

test('DST: a busy interval given in UTC blocks exactly the repeated local hour it covers', () => {
  // Paris 25 Oct: 01–04 local, hourly. Busy 01:00Z–02:00Z is the SECOND 02:00–03:00 (CET).
  const c = cases.find((x) => x.name === 'Paris 01–04 across the overlap, 60 min')!;
  const day = Date.parse(`${c.date}T00:00:00Z`);
  const slots = computeSlots({
    rules: rulesFor(c),
    timeZone: c.zone,
    now: day - 5 * 86_400_000,
    range: { start: day - 86_400_000, end: day + 86_400_000 },
    busy: [{ start: Date.parse('2026-10-25T01:00:00Z'), end: Date.parse('2026-10-25T02:00:00Z') }],
  });
  assert.deepEqual(slots.map((ms) => new Date(ms).toISOString().slice(0, 16)), ['2026-10-24T23:00', '2026-10-25T00:00', '2026-10-25T02:00']);
});

test('DST: a step that does not divide the hour keeps real-time spacing across the gap', () => {
  // Paris 29 Mar, 01:00–05:00 local = 00:00Z–03:00Z, 45-minute step and duration.
  const c: Case = { name: 'x', zone: 'Europe/Paris', date: '2026-03-29', hours: [['01:00', '05:00']], minutes: 45, expected: [] };
  const day = Date.parse(`${c.date}T00:00:00Z`);
  const slots = computeSlots({ rules: rulesFor(c), timeZone: c.zone, now: day - 86_400_000, range: { start: day - 86_400_000, end: day + 86_400_000 }, busy: [] });
  // Local 01:00 CET, 01:45 CET, 03:30 CEST, 04:15 CEST.
  assert.deepEqual(slots.map((ms) => new Date(ms).toISOString().slice(0, 16)), ['2026-03-29T00:00', '2026-03-29T00:45', '2026-03-29T01:30', '2026-03-29T02:15']);
});
