import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import ICAL from 'ical.js';
import { busyFromIcs } from './busy.js';
import { FastTime } from './recur-iterator.js';

const FIXTURES = new URL('./fixtures/busy/', import.meta.url);

interface Fixture {
  readonly files: string[];
  readonly timeZone: string;
  readonly window: { start: string; end: string };
  readonly busy: [string, string][];
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const ms = (s: string): number => Date.parse(s);

const cases = readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort();

test('the fixture folder is there', () => {
  assert.ok(cases.length >= 20, `expected the busy fixtures in ${FIXTURES.pathname}`);
});

for (const name of cases) {
  test(`fixture ${name}`, () => {
    const fx = JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Fixture;
    const texts = fx.files.map((f) => readFileSync(new URL(f, FIXTURES), 'utf8'));
    const res = busyFromIcs(texts, { start: ms(fx.window.start), end: ms(fx.window.end) }, fx.timeZone);
    assert.ok(res.ok, 'expected busy intervals, got malformed');
    assert.deepEqual(
      res.value.map((b) => [iso(b.start), iso(b.end)]),
      fx.busy,
    );
  });
}

const WINDOW = { start: ms('2026-03-23T00:00:00Z'), end: ms('2026-04-06T00:00:00Z') };
const ev = (lines: string): string =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN', 'BEGIN:VEVENT', 'UID:x@t', 'DTSTAMP:20260301T000000Z', lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

test('malformed input fails closed instead of reading as free', () => {
  const bad = [
    '',
    'hello',
    'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20260324T100000Z\r\n',
    ev('DTSTART:2026XX24T100000Z\r\nDTEND:20260324T110000Z'),
    ev('SUMMARY:no start'),
    ev('DTSTART;TZID=Nowhere/Atlantis:20260324T100000\r\nDTEND;TZID=Nowhere/Atlantis:20260324T110000'),
    'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nEND:VCARD\r\n',
  ];
  for (const text of bad) {
    const good = ev('DTSTART:20260325T100000Z\r\nDTEND:20260325T110000Z');
    assert.deepEqual(busyFromIcs([good, text], WINDOW, 'Europe/Paris'), { ok: false, error: 'malformed' }, JSON.stringify(text));
  }
  assert.deepEqual(busyFromIcs([], WINDOW, 'Not/AZone'), { ok: false, error: 'malformed' });
});

test('a series that cannot be expanded within the caps is too costly, not free', () => {
  const t0 = Date.now();
  const res = busyFromIcs([ev('DTSTART:20200101T000000Z\r\nDURATION:PT1S\r\nRRULE:FREQ=SECONDLY;COUNT=900000000')], WINDOW, 'UTC');
  assert.deepEqual(res, { ok: false, error: 'too_costly' });
  assert.ok(Date.now() - t0 < 5000, 'the cap must stop expansion quickly');
});

test('an old daily series is expanded cheaply and exactly', () => {
  const t0 = Date.now();
  const res = busyFromIcs([ev('DTSTART;TZID=Europe/Paris:19900101T090000\r\nDTEND;TZID=Europe/Paris:19900101T093000\r\nRRULE:FREQ=DAILY')], WINDOW, 'Europe/Paris');
  assert.ok(res.ok);
  assert.equal(res.value.length, 14);
  assert.deepEqual([iso(res.value[0]!.start), iso(res.value[13]!.start)], ['2026-03-23T08:00:00Z', '2026-04-05T07:00:00Z']);
  assert.ok(Date.now() - t0 < 1000);
});

test('a Windows TZID takes its rules from the VTIMEZONE of the same file', () => {
  const vtz = [
    'BEGIN:VTIMEZONE', 'TZID:W. Europe Standard Time',
    'BEGIN:STANDARD', 'DTSTART:16010101T030000', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', 'END:STANDARD',
    'BEGIN:DAYLIGHT', 'DTSTART:16010101T020000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3', 'END:DAYLIGHT',
    'END:VTIMEZONE',
  ].join('\r\n');
  const text = ev('DTSTART;TZID=W. Europe Standard Time:20260327T100000\r\nDTEND;TZID=W. Europe Standard Time:20260327T110000\r\nRRULE:FREQ=DAILY;COUNT=3').replace('BEGIN:VEVENT', `${vtz}\r\nBEGIN:VEVENT`);
  const res = busyFromIcs([text], WINDOW, 'UTC');
  assert.ok(res.ok);
  assert.deepEqual(res.value.map((b) => iso(b.start)), ['2026-03-27T09:00:00Z', '2026-03-28T09:00:00Z', '2026-03-29T08:00:00Z']);
});

test('an event the staff member declined is free; another attendee declining changes nothing', () => {
  const declined = ev('DTSTART:20260325T100000Z\r\nDTEND:20260325T110000Z\r\nORGANIZER:mailto:boss@example.org\r\nATTENDEE;PARTSTAT=DECLINED:mailto:Ann@Example.org\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org');
  const other = declined.replace('UID:x@t', 'UID:y@t').replaceAll('20260325T1', '20260326T1').replace('PARTSTAT=DECLINED:mailto:Ann', 'PARTSTAT=ACCEPTED:mailto:Ann').replace('PARTSTAT=ACCEPTED:mailto:bob', 'PARTSTAT=DECLINED:mailto:bob');
  const asAnn = busyFromIcs([declined, other], WINDOW, 'UTC', { self: ['mailto:ann@example.org'] });
  assert.ok(asAnn.ok);
  assert.deepEqual(asAnn.value.map((b) => iso(b.start)), ['2026-03-26T10:00:00Z']);
  // Without knowing who the staff member is, nothing is read as declined (never free by mistake).
  const unknown = busyFromIcs([declined, other], WINDOW, 'UTC');
  assert.ok(unknown.ok);
  assert.deepEqual(unknown.value.map((b) => iso(b.start)), ['2026-03-25T10:00:00Z', '2026-03-26T10:00:00Z']);
});

test('Outlook "shown as free" (X-MICROSOFT-CDO-BUSYSTATUS / INTENDEDSTATUS FREE) is free', () => {
  const texts = ['BUSYSTATUS:FREE', 'INTENDEDSTATUS:FREE', 'BUSYSTATUS:BUSY'].map((x, i) =>
    ev(`DTSTART:2026032${4 + i}T090000Z\r\nDTEND:2026032${4 + i}T100000Z\r\nX-MICROSOFT-CDO-${x}`).replace('UID:x@t', `UID:${i}@t`),
  );
  const res = busyFromIcs(texts, WINDOW, 'Europe/Paris');
  assert.ok(res.ok);
  assert.deepEqual(res.value.map((b) => iso(b.start)), ['2026-03-26T09:00:00Z']);
});

test('a date without VALUE=DATE (DTSTART:20260326) is an all-day event, not a refusal', () => {
  const res = busyFromIcs([ev('DTSTART:20260326\r\nDTEND:20260327')], WINDOW, 'Europe/Paris');
  assert.ok(res.ok);
  assert.deepEqual(res.value.map((b) => [iso(b.start), iso(b.end)]), [['2026-03-25T23:00:00Z', '2026-03-26T23:00:00Z']]);
});

test('FastTime clones as ical.js clones: same fields, zone, normalization and later arithmetic', () => {
  const paris = ICAL.TimezoneService.get('UTC');
  const seeds: ICAL.Time[] = [
    ICAL.Time.fromDateTimeString('2026-03-29T02:30:00'),
    ICAL.Time.fromDateString('2026-02-28'),
    ICAL.Time.fromData({ year: 2026, month: 12, day: 31, hour: 23, minute: 59, second: 59, isDate: false }, paris),
    ICAL.Time.fromData({ year: 2024, month: 2, day: 29, isDate: true }),
  ];
  // Unnormalized states, as the recurrence iterator leaves its current time between steps.
  const overflow = ICAL.Time.fromDateTimeString('2026-01-31T22:00:00');
  overflow.day += 40;
  overflow.hour += 30;
  seeds.push(overflow);
  const dateOverflow = ICAL.Time.fromDateString('2026-01-31');
  dateOverflow.day += 400;
  seeds.push(dateOverflow);
  // A DATE whose hours were set: ical.js's clone carries them into the day before dropping them.
  const dateHours = ICAL.Time.fromDateString('2026-03-31');
  dateHours.hour += 30;
  seeds.push(dateHours);
  const state = (t: ICAL.Time): unknown[] => [t.year, t.month, t.day, t.hour, t.minute, t.second, t.isDate, t.zone?.tzid, t.toString(), t.toUnixTime(), t.dayOfWeek(), t.dayOfYear()];
  for (const seed of seeds) {
    const mine = FastTime.copyOf(seed);
    const theirs = seed.clone();
    assert.ok(mine instanceof FastTime && mine.clone() instanceof FastTime);
    assert.deepEqual(state(mine), state(theirs), seed.toString());
    mine.adjust(3, 25, -61, 7);
    theirs.adjust(3, 25, -61, 7);
    assert.deepEqual(state(mine.clone()), state(theirs.clone()), seed.toString());
  }
});

test('the recurrence iterator gives the same dates from a FastTime as from an ICAL.Time', () => {
  const rules = [
    'FREQ=WEEKLY;BYDAY=MO,WE,FR', 'FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR', 'FREQ=MONTHLY;BYDAY=2TU', 'FREQ=MONTHLY;BYMONTHDAY=31',
    'FREQ=MONTHLY;BYDAY=-1FR;BYSETPOS=-1', 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', 'FREQ=HOURLY;INTERVAL=7;BYHOUR=9,13,17', 'FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=SU,TU',
    'FREQ=YEARLY;BYWEEKNO=1,53;BYDAY=MO', 'FREQ=YEARLY;BYYEARDAY=-1,100',
  ];
  const starts = [ICAL.Time.fromDateTimeString('2024-01-31T09:30:00'), ICAL.Time.fromDateString('2023-12-31')];
  for (const text of rules) {
    for (const start of starts) {
      // ical.js never returns from an hourly rule on a DATE start (busy.ts reads those under a budget).
      if (start.isDate && text.includes('HOURLY')) continue;
      const take = (dtstart: ICAL.Time): string[] => {
        const it = new ICAL.RecurIterator({ rule: ICAL.Recur.fromString(text), dtstart });
        const out: string[] = [];
        for (let t = it.next(); t && out.length < 300; t = it.next()) out.push(t.toString());
        return out;
      };
      const expected = take(start.clone());
      assert.ok(expected.length > 0, text);
      assert.deepEqual(take(FastTime.copyOf(start)), expected, `${text} from ${start.toString()}`);
    }
  }
});
