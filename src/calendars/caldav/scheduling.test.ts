import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildBookingIcs } from '../ics.js';
import { attendeeScheduling, invitedByOf, inviterFor, mailtoAddresses } from './scheduling.js';

const event = (attendee: string): string =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN', 'BEGIN:VEVENT', 'UID:a@t', 'DTSTAMP:20261201T000000Z', 'DTSTART:20261210T090000Z', 'DTEND:20261210T093000Z', 'ORGANIZER:mailto:alice@cyrus.test', attendee, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

test('the account’s addresses are its mailto: hrefs, lower-cased', () => {
  assert.deepEqual(mailtoAddresses(['mailto:Alice@Cyrus.test', '/dav/principals/user/alice/', 'urn:uuid:1', ' MAILTO:a%2Bb@x.test ']), ['alice@cyrus.test', 'a+b@x.test']);
});

test('the server invites only when it auto-schedules and the organizer is one of its addresses', () => {
  assert.equal(inviterFor(true, ['alice@cyrus.test'], 'ALICE@cyrus.test'), 'server');
  assert.equal(inviterFor(true, ['alice@cyrus.test'], 'alice@salon.test'), 'creneau', 'a foreign organizer is stored, not scheduled');
  assert.equal(inviterFor(false, ['alice@cyrus.test'], 'alice@cyrus.test'), 'creneau', 'no calendar-auto-schedule');
  assert.equal(inviterFor(true, null, 'alice@cyrus.test'), 'creneau', 'addresses unreadable: Creneau invites (with SCHEDULE-AGENT=CLIENT)');
});

test('a stored booking: SCHEDULE-AGENT=CLIENT or no delivery reported means Creneau invites', () => {
  const delivered = attendeeScheduling(event('ATTENDEE;SCHEDULE-STATUS=1.1:mailto:bob@example.com'));
  assert.deepEqual(delivered, { agent: null, status: '1.1' });
  assert.equal(invitedByOf('server', delivered), 'server');
  assert.equal(invitedByOf('server', attendeeScheduling(event('ATTENDEE;SCHEDULE-STATUS=5.1:mailto:bob@example.com'))), 'creneau');
  assert.equal(invitedByOf('server', attendeeScheduling(event('ATTENDEE:mailto:bob@example.com'))), 'creneau');
  const client = attendeeScheduling(event('ATTENDEE;SCHEDULE-AGENT=client:mailto:bob@example.com'));
  assert.deepEqual(client, { agent: 'CLIENT', status: null });
  assert.equal(invitedByOf('server', client), 'creneau');
  assert.equal(invitedByOf('creneau', delivered), 'creneau');
  assert.equal(attendeeScheduling('not ics'), null);
  assert.equal(invitedByOf('server', null), 'creneau');
});

test('SCHEDULE-AGENT=CLIENT is on the stored attendee, never in an iMIP message', () => {
  const ev = {
    id: 'abc',
    start: Date.parse('2026-12-10T09:00:00Z'),
    end: Date.parse('2026-12-10T09:30:00Z'),
    timeZone: 'Europe/Paris',
    summary: 'Haircut',
    description: '',
    location: '',
    organizer: { name: 'Alice', email: 'alice@salon.test' },
    attendee: { name: 'Bob', email: 'bob@example.com' },
    serviceSlug: 'haircut',
  };
  const base = { uidHost: 'b.test', sequence: 0, status: 'CONFIRMED' as const, stamp: 0 };
  assert.equal(attendeeScheduling(buildBookingIcs(ev, { ...base, scheduleAgentClient: true }))?.agent, 'CLIENT');
  assert.equal(attendeeScheduling(buildBookingIcs(ev, base))?.agent, null);
  assert.equal(attendeeScheduling(buildBookingIcs(ev, { ...base, scheduleAgentClient: true, method: 'REQUEST' }))?.agent, null);
});
