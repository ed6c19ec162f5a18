import assert from 'node:assert/strict';
import { test } from 'node:test';
import { busyFromIcs } from './busy.js';
import { minimizeIcs } from './ics-guard.js';

const ICS = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//test//EN',
  'X-WR-CALNAME:Private',
  'BEGIN:VEVENT',
  'UID:a@test',
  'DTSTAMP:20270101T000000Z',
  'DTSTART:20270104T090000Z',
  'DTEND:20270104T100000Z',
  'RRULE:FREQ=DAILY;COUNT=3',
  'SUMMARY:Therapy with Jeanne Dupont',
  'LOCATION:3 rue des Lilas',
  'DESCRIPTION:Phone +33 6 12 34 56 78',
  'ORGANIZER;CN=Alice:mailto:alice@salon.test',
  'ATTENDEE;CN=Jeanne Dupont;PARTSTAT=ACCEPTED:mailto:jeanne@example.com',
  'BEGIN:VALARM',
  'ACTION:DISPLAY',
  'DESCRIPTION:Call Jeanne',
  'TRIGGER:-PT15M',
  'END:VALARM',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:b@test',
  'DTSTAMP:20270101T000000Z',
  'DTSTART:20270105T140000Z',
  'DTEND:20270105T150000Z',
  'SUMMARY:Board meeting',
  'ATTENDEE;CN=Alice Martin;PARTSTAT=DECLINED:mailto:alice@salon.test',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:c@test',
  'DTSTAMP:20270101T000000Z',
  'DTSTART:20270106T140000Z',
  'DTEND:20270106T150000Z',
  'SUMMARY:Out of office (shown as free)',
  'X-MICROSOFT-CDO-BUSYSTATUS:FREE',
  'END:VEVENT',
  'BEGIN:VTODO',
  'UID:d@test',
  'SUMMARY:Send Jeanne her invoice',
  'END:VTODO',
  'END:VCALENDAR',
  '',
].join('\r\n');

test('the in-memory copy keeps what busy time needs and nothing that names anyone', () => {
  const min = minimizeIcs(ICS);
  assert.ok(min);
  for (const gone of ['Jeanne', 'Lilas', '+33', 'Therapy', 'Board', 'Out of office', 'invoice', 'Private', 'CN=', 'ACCEPTED', 'VALARM', 'VTODO']) {
    assert.ok(!min.includes(gone), `${gone} is not kept`);
  }
  assert.match(min, /ATTENDEE;PARTSTAT=DECLINED:mailto:alice@salon\.test/, 'who declined (for "declined is free")');
  assert.match(min, /X-MICROSOFT-CDO-BUSYSTATUS:FREE/);
  // And it reads as the original does, for the staff member who declined.
  const window = { start: Date.UTC(2027, 0, 1), end: Date.UTC(2027, 0, 10) };
  const opts = { self: ['mailto:alice@salon.test'] };
  const original = busyFromIcs([ICS], window, 'Europe/Paris', opts);
  assert.ok(original.ok);
  assert.deepEqual(busyFromIcs([min], window, 'Europe/Paris', opts), original);
  assert.equal(original.value.length, 3, 'the three therapy mornings; the declined meeting and the free day are not busy');
});
