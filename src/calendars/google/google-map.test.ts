import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewBookingEvent } from '../provider.js';
import { bookedFrom, busyFromEvents, calendarsFrom, eventFrom, freeBusyFrom, insertBody, isDate, parseDateTime, sameBooking, toBookingEvent } from './google-map.js';

const HOUR = 3_600_000;
const T = Date.UTC(2027, 5, 1, 8);
const range = { start: T, end: T + 10 * HOUR };
const iso = (ms: number) => new Date(ms).toISOString();
const timed = (id: string, start: number, end: number, extra: Record<string, unknown> = {}) => ({
  id,
  etag: '"1"',
  status: 'confirmed',
  start: { dateTime: iso(start), timeZone: 'Europe/Paris' },
  end: { dateTime: iso(end), timeZone: 'Europe/Paris' },
  ...extra,
});

describe('dates', () => {
  it('reads RFC 3339 date-times with offsets and fractions', () => {
    assert.equal(parseDateTime('2027-06-01T10:00:00+02:00'), T);
    assert.equal(parseDateTime('2027-06-01T08:00:00.250Z'), T + 250);
    assert.equal(parseDateTime('2027-06-01T03:30:00-04:30'), T);
    assert.equal(parseDateTime('2028-02-29T00:00:00Z'), Date.UTC(2028, 1, 29));
  });

  it('refuses out-of-range fields instead of rolling them over', () => {
    for (const bad of ['2027-02-29T10:00:00Z', '2027-04-31T10:00:00Z', '2027-13-01T00:00:00Z', '2027-06-01T24:00:00Z', '2027-06-01T10:60:00Z', '2027-06-01T10:00:60Z', '2027-06-01T10:00:00+24:00', '2027-06-01T10:00:00', '2027-06-01']) {
      assert.equal(parseDateTime(bad), undefined, bad);
    }
    assert.equal(isDate('2028-02-29'), true);
    for (const bad of ['2027-02-29', '2027-06-31', '2027-6-1', '2027-06-01T00:00:00Z']) assert.equal(isDate(bad), false, bad);
  });
});

describe('busy from events.list', () => {
  it('counts opaque events, clipped; skips cancelled, transparent and the excepted booking', () => {
    const items = [
      timed('a', T - HOUR, T + HOUR),
      timed('b', T + 2 * HOUR, T + 3 * HOUR, { transparency: 'transparent' }),
      timed('c', T + 4 * HOUR, T + 5 * HOUR, { status: 'cancelled' }),
      { id: 'd', status: 'cancelled' },
      timed('mine', T + 6 * HOUR, T + 7 * HOUR),
      timed('e', T + 8 * HOUR, T + 9 * HOUR, { status: 'tentative' }),
    ];
    assert.deepEqual(busyFromEvents(items, range, 'Europe/Paris', 'mine'), {
      ok: true,
      value: [
        { start: T, end: T + HOUR },
        { start: T + 8 * HOUR, end: T + 9 * HOUR },
      ],
    });
  });

  it('places an all-day event in the given zone, and fails without a zone or without times', () => {
    const allDay = { id: 'x', status: 'confirmed', start: { date: '2027-06-01' }, end: { date: '2027-06-02' } };
    assert.deepEqual(busyFromEvents([allDay], { start: 0, end: Date.UTC(2028, 0, 1) }, 'Europe/Paris', ''), {
      ok: true,
      value: [{ start: Date.UTC(2027, 4, 31, 22), end: Date.UTC(2027, 5, 1, 22) }],
    });
    assert.deepEqual(busyFromEvents([allDay], range, undefined, ''), { ok: false, error: 'malformed' });
    assert.deepEqual(busyFromEvents([{ id: 'y', status: 'confirmed' }], range, 'UTC', ''), { ok: false, error: 'malformed' });
    assert.deepEqual(busyFromEvents([{ id: 'z', start: { dateTime: iso(T + HOUR) }, end: { dateTime: iso(T) } }], range, 'UTC', ''), { ok: false, error: 'malformed' });
    assert.deepEqual(busyFromEvents(['not an event'], range, 'UTC', ''), { ok: false, error: 'malformed' });
  });
});

describe('busy from freeBusy', () => {
  const answer = (calendars: Record<string, unknown>) => ({ kind: 'calendar#freeBusy', calendars });

  it('merges the calendars asked, clipped to the range', () => {
    const json = answer({
      a: { busy: [{ start: iso(T - HOUR), end: iso(T + HOUR) }] },
      b: { busy: [{ start: iso(T + 0.5 * HOUR), end: iso(T + 2 * HOUR) }] },
    });
    assert.deepEqual(freeBusyFrom(json, ['a', 'b'], range), { ok: true, value: [{ start: T, end: T + 2 * HOUR }] });
  });

  it('fails closed on a missing calendar, a missing busy list, errors or a backwards block', () => {
    assert.deepEqual(freeBusyFrom(answer({ a: { busy: [] } }), ['a', 'b'], range), { ok: false, error: 'malformed' });
    assert.deepEqual(freeBusyFrom(answer({ a: {} }), ['a'], range), { ok: false, error: 'malformed' });
    assert.deepEqual(freeBusyFrom(answer({ a: { errors: [{ reason: 'notFound' }], busy: [] } }), ['a'], range), { ok: false, error: 'unauthorized' });
    assert.deepEqual(freeBusyFrom(answer({ a: { errors: [{ reason: 'backendError' }] } }), ['a'], range), { ok: false, error: 'unreachable' });
    assert.deepEqual(freeBusyFrom(answer({ a: { busy: [{ start: iso(T + HOUR), end: iso(T) }] } }), ['a'], range), { ok: false, error: 'malformed' });
    assert.deepEqual(freeBusyFrom(answer({}), ['__proto__'], range), { ok: false, error: 'malformed' });
  });
});

describe('bookings and booking events', () => {
  const booking: NewBookingEvent = {
    id: 'abc0123456789',
    start: T + HOUR,
    end: T + 2 * HOUR,
    timeZone: 'Europe/Paris',
    summary: 'Haircut',
    description: 'Note',
    location: 'Shop',
    organizer: { name: 'Alice', email: 'alice@example.org' },
    attendee: { name: 'Jeanne', email: 'Jeanne@example.org' },
    serviceSlug: 'haircut',
  };

  it('writes a marked event and reads it back as the same booking', () => {
    const body = insertBody(booking);
    const stored = {
      ...body,
      etag: '"7"',
      status: 'confirmed',
      sequence: 2,
      organizer: { email: 'alice@example.org', displayName: 'Alice', self: true },
      attendees: [{ email: 'jeanne@example.org', displayName: 'Jeanne' }],
    };
    const ev = eventFrom(stored);
    assert.ok(ev.ok);
    assert.equal(sameBooking(ev.value, booking), true);
    assert.equal(sameBooking(ev.value, { ...booking, serviceSlug: 'massage' }), false);
    const back = toBookingEvent(ev.value);
    assert.ok(back.ok);
    assert.deepEqual(back.value, { ...booking, attendee: { name: 'Jeanne', email: 'jeanne@example.org' }, organizer: { name: 'Alice', email: 'alice@example.org' }, cancelled: false, etag: '"7"', sequence: 2 });
    assert.deepEqual(eventFrom({ ...stored, status: 'cancelled' }), { ok: false, error: 'not_found' });
    assert.deepEqual(eventFrom({ ...stored, start: { dateTime: '2027-06-31T10:00:00Z' } }), { ok: false, error: 'malformed' });
  });

  it('lists our timed bookings overlapping the range; all-day ones are not bookings; broken ones fail', () => {
    const mark = { extendedProperties: { private: { creneau: '1', creneauService: 'massage' } }, attendees: [{ email: 'a@example.org' }] };
    const items = [
      timed('in', T + HOUR, T + 2 * HOUR, mark),
      timed('out', T + 20 * HOUR, T + 21 * HOUR, mark),
      { id: 'gone', status: 'cancelled' },
      { id: 'allday', status: 'confirmed', start: { date: '2027-06-01' }, end: { date: '2027-06-02' } },
    ];
    assert.deepEqual(bookedFrom(items, range), { ok: true, value: [{ id: 'in', start: T + HOUR, end: T + 2 * HOUR, serviceSlug: 'massage', attendeeEmail: 'a@example.org' }] });
    assert.deepEqual(bookedFrom([...items, { id: 'nothing', status: 'confirmed' }], range), { ok: false, error: 'malformed' });
    assert.deepEqual(bookedFrom([{ id: 'bad', start: { date: '2027-02-30' }, end: { date: '2027-03-01' } }], range), { ok: false, error: 'malformed' });
  });

  it('names calendars by override, then summary, and says which are writable', () => {
    assert.deepEqual(
      calendarsFrom([
        { id: 'p', summary: 'Me', accessRole: 'owner', primary: true },
        { id: 'b', summary: 'b@x', summaryOverride: 'Bob', accessRole: 'freeBusyReader' },
        { id: 'w', accessRole: 'writer' },
        { id: 'd', accessRole: 'owner', deleted: true },
      ]),
      {
        ok: true,
        value: [
          { id: 'p', name: 'Me', writable: true, primary: true },
          { id: 'b', name: 'Bob', writable: false, primary: false },
          { id: 'w', name: 'w', writable: true, primary: false },
        ],
      },
    );
    assert.deepEqual(calendarsFrom([{ id: '' }]), { ok: false, error: 'malformed' });
  });
});
