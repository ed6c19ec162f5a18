import { test } from 'node:test';
import assert from 'node:assert/strict';
import ICAL from 'ical.js';
import type { NewBookingEvent } from './provider.js';
import { buildBookingIcs, confirmedIcs, withReminderMarker, foldLine, moveBookingIcs, parseBookingIcs, PRODID } from './ics.js';
import { busyFromIcs } from './busy.js';

const base: NewBookingEvent = {
  id: '0123456789abcdefghijklmnopqrstuv',
  start: Date.parse('2026-12-01T09:00:00Z'),
  end: Date.parse('2026-12-01T09:30:00Z'),
  timeZone: 'Europe/Paris',
  summary: 'Haircut — Zoë Dupont',
  description: 'Note: please be on time\nCancel: https://booking.example.com/b/abc.def',
  location: '12 rue de la Paix, Paris',
  organizer: { name: 'Alice Martin', email: 'alice@example.com' },
  attendee: { name: 'Zoë Dupont', email: 'zoe@example.net' },
  serviceSlug: 'haircut',
};
const opts = { uidHost: 'booking.example.com', sequence: 0, status: 'CONFIRMED' as const, stamp: Date.parse('2026-11-20T10:00:00Z') };

test('a booking round-trips through its ICS', () => {
  const ics = buildBookingIcs(base, opts);
  assert.match(ics, /^BEGIN:VCALENDAR\r\n/);
  assert.ok(ics.includes(`PRODID:${PRODID}\r\n`));
  assert.ok(ics.includes('UID:0123456789abcdefghijklmnopqrstuv@booking.example.com\r\n'));
  assert.ok(ics.includes('DTSTART:20261201T090000Z\r\n'));
  assert.ok(ics.includes('X-CRENEAU-SERVICE:haircut\r\n'));
  assert.ok(!/[^\r]\n/.test(ics), 'every line ends with CRLF');
  for (const line of ics.split('\r\n')) assert.ok(Buffer.byteLength(line) <= 75, line);
  assert.deepEqual(parseBookingIcs(ics), { ...base, cancelled: false, sequence: 0, created: opts.stamp });
  const busy = busyFromIcs([ics], { start: base.start - 3_600_000, end: base.end + 3_600_000 }, 'UTC');
  assert.deepEqual(busy, { ok: true, value: [{ start: base.start, end: base.end }] });
});

test('METHOD and STATUS for iMIP cancel', () => {
  const ics = buildBookingIcs(base, { ...opts, sequence: 2, status: 'CANCELLED', method: 'CANCEL' });
  assert.ok(ics.includes('METHOD:CANCEL\r\n'));
  const parsed = parseBookingIcs(ics);
  assert.equal(parsed?.cancelled, true);
  assert.equal(parsed?.sequence, 2);
});

test('long multi-byte lines fold at 75 octets without splitting a character', () => {
  const folded = foldLine(`SUMMARY:${'é'.repeat(100)}`);
  for (const l of folded.split('\r\n')) assert.ok(Buffer.byteLength(l) <= 75);
  assert.equal(folded.replace(/\r\n /g, ''), `SUMMARY:${'é'.repeat(100)}`);
});

test('injection attempts stay inside their value: one VEVENT, only our properties', () => {
  const nasty: NewBookingEvent = {
    ...base,
    summary: 'Cut; with, commas \\ and "quotes": END:VEVENT',
    description: 'line1\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil\nDTSTART:20261201T100000Z\nATTENDEE:mailto:evil@x\n\\n;,',
    location: 'A;B,C\\D',
    organizer: { name: 'Alice "the boss"; ROLE=CHAIR:mailto:evil@x', email: 'alice@example.com' },
    attendee: { name: 'Zoë ^ "Z" , ; :', email: 'zoe@example.net' },
  };
  const ics = buildBookingIcs(nasty, opts);
  const root = new ICAL.Component(ICAL.parse(ics) as unknown[]);
  const events = root.getAllSubcomponents('vevent');
  assert.equal(events.length, 1);
  const names = events[0]!.getAllProperties().map((p) => p.name).sort();
  assert.deepEqual(names, ['attendee', 'created', 'description', 'dtend', 'dtstamp', 'dtstart', 'location', 'organizer', 'sequence', 'status', 'summary', 'uid', 'x-creneau-service', 'x-creneau-timezone']);
  assert.equal(events[0]!.getAllProperties('attendee').length, 1);
  assert.equal(events[0]!.getFirstProperty('organizer')!.getParameter('role'), undefined);
  assert.deepEqual(parseBookingIcs(ics), { ...nasty, cancelled: false, sequence: 0, created: opts.stamp });
});

test('control characters are refused in every value (description allows newlines only)', () => {
  const bad: Partial<NewBookingEvent>[] = [
    { summary: 'a\r\nATTENDEE:mailto:evil@x' },
    { summary: 'a\nb' },
    { location: 'a\rb' },
    { description: 'ok\u0000' },
    { description: 'a\u2028b' },
    { organizer: { name: 'A\nB', email: 'a@b.c' } },
    { attendee: { name: 'Z', email: 'z@x\r\nATTENDEE:mailto:evil@x' } },
    { attendee: { name: 'Z', email: 'not an email' } },
    { serviceSlug: 'hair\ncut' },
    { id: 'UPPER' },
  ];
  for (const b of bad) assert.throws(() => buildBookingIcs({ ...base, ...b }, opts), /invalid characters/, JSON.stringify(b));
  assert.throws(() => buildBookingIcs(base, { ...opts, uidHost: 'x\r\nUID:y' }), /invalid characters/);
});

test('a move keeps other properties and bumps SEQUENCE', () => {
  const ics = buildBookingIcs(base, opts).replace('END:VEVENT', 'BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:x\r\nEND:VALARM\r\nEND:VEVENT');
  const moved = moveBookingIcs(ics, base.start + 86_400_000, base.end + 86_400_000, opts.stamp + 1000);
  assert.ok(moved?.includes('BEGIN:VALARM'));
  const parsed = parseBookingIcs(moved!);
  assert.deepEqual(parsed, { ...base, start: base.start + 86_400_000, end: base.end + 86_400_000, cancelled: false, sequence: 1, created: opts.stamp });
  const described = parseBookingIcs(moveBookingIcs(ics, base.start, base.end, opts.stamp, 'New time; line two\nthree, four') ?? '');
  assert.equal(described?.description, 'New time; line two\nthree, four', 'a new description replaces the old one, escaped');
});

test('something that is not a Creneau booking reads as null', () => {
  assert.equal(parseBookingIcs('garbage'), null);
  assert.equal(parseBookingIcs(buildBookingIcs(base, opts).replace(/X-CRENEAU-SERVICE:[^\r]*\r\n/, '')), null);
});

test('the reminder marker and the approval rewrite only their own properties', () => {
  const ics = buildBookingIcs({ ...base, status: 'TENTATIVE', lang: 'fr', clientTimeZone: 'America/New_York' }, { ...opts, status: 'TENTATIVE' });
  const parsed = parseBookingIcs(ics);
  assert.equal(parsed?.status, 'TENTATIVE');
  assert.equal(parsed?.lang, 'fr');
  assert.equal(parsed?.clientTimeZone, 'America/New_York');
  const marked = withReminderMarker(ics, 'start=20261201T090000Z sent=1440');
  assert.ok(marked);
  assert.equal(parseBookingIcs(marked)?.reminded, 'start=20261201T090000Z sent=1440');
  assert.deepEqual({ ...parseBookingIcs(marked), reminded: undefined }, { ...parsed, reminded: undefined });
  assert.equal(withReminderMarker(marked, 'start=20261201T090000Z sent=1440.120')?.match(/X-CRENEAU-REMINDED/g)?.length, 1, 'replaced, not added');
  assert.equal(withReminderMarker(ics, 'bad\r\nSTATUS:CANCELLED'), null, 'a marker cannot inject a line');
  const approved = confirmedIcs(marked, opts.stamp + 1000);
  const back = approved ? parseBookingIcs(approved) : null;
  assert.equal(back?.status, undefined, 'CONFIRMED');
  assert.equal(back?.sequence, 1);
  assert.equal(back?.reminded, 'start=20261201T090000Z sent=1440');
});
