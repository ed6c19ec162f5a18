import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { startRadicale } from '../../../scripts/test-support/radicale.js';
import type { RadicaleServer } from '../../../scripts/test-support/radicale.js';
import { createCaldavProvider, discoverCaldav } from './caldav.js';
import type { NewBookingEvent } from '../provider.js';

const FIXTURES = new URL('../fixtures/busy/', import.meta.url);
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const allowHosts = ['127.0.0.1'];

let dav: RadicaleServer;
let work: string;
let personal: string;

before(async () => {
  dav = await startRadicale();
  work = await dav.makeCalendar('work', 'Work');
  personal = await dav.makeCalendar('personal', 'Personal');
  await dav.makeCalendar('tasks', 'Tasks', ['VTODO']);
});
after(async () => {
  await dav?.stop();
});

const creds = (): { username: string; password: string; allowHosts: string[] } => ({ username: dav.username, password: dav.password, allowHosts });

test('discovery finds the same calendars from the root, well-known, principal and calendar URLs', async () => {
  for (const url of [dav.url, new URL('/.well-known/caldav', dav.url).href, new URL(`/${dav.username}/`, dav.url).href, work]) {
    const res = await discoverCaldav({ url, ...creds() });
    assert.ok(res.ok, `${url}: ${JSON.stringify(res)}`);
    const names = res.value.calendars.map((c) => `${c.name}:${c.writable}:${c.id}`).sort();
    assert.deepEqual(names, [`Personal:true:${personal}`, `Work:true:${work}`], url);
    assert.equal(res.value.serverSchedules, false, 'Radicale does not auto-schedule');
  }
});

test('wrong password is unauthorized, not an empty calendar list', async () => {
  const res = await discoverCaldav({ url: dav.url, ...creds(), password: 'wrong' });
  assert.deepEqual(res, { ok: false, error: 'unauthorized' });
  const p = createCaldavProvider({ ...creds(), password: 'wrong', bookingCalendarUrl: work, conflictCalendarUrls: [work], uidHost: 'b.test', timeZone: 'UTC' });
  assert.deepEqual(await p.busy({ start: 0, end: 86_400_000 }), { ok: false, error: 'unauthorized' });
});

test('the test server itself is refused unless allow-listed (also by CIDR)', async () => {
  assert.deepEqual(await discoverCaldav({ url: dav.url, ...creds(), allowHosts: [] }), { ok: false, error: 'refused' });
  const res = await discoverCaldav({ url: dav.url, ...creds(), allowHosts: ['127.0.0.0/8'] });
  assert.ok(res.ok);
});

interface Fixture {
  readonly files: string[];
  readonly timeZone: string;
  readonly window: { start: string; end: string };
  readonly busy: [string, string][];
}

test('every busy fixture, served by Radicale, gives the reference intervals', async () => {
  const cases = readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort();
  assert.ok(cases.length >= 20);
  for (const name of cases) {
    const fx = JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Fixture;
    const cal = await dav.makeCalendar(`fx-${name.replace('.json', '')}`);
    for (const f of fx.files) assert.equal(await dav.put(cal, f, readFileSync(new URL(f, FIXTURES), 'utf8')), 201, f);
    const p = createCaldavProvider({ ...creds(), bookingCalendarUrl: cal, conflictCalendarUrls: [cal], uidHost: 'b.test', timeZone: fx.timeZone });
    const res = await p.busy({ start: Date.parse(fx.window.start), end: Date.parse(fx.window.end) });
    assert.ok(res.ok, `${name}: ${JSON.stringify(res)}`);
    assert.deepEqual(res.value.map((b) => [iso(b.start), iso(b.end)]), fx.busy, name);
  }
});

const vevent = (uid: string, lines: string[]): string =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

test('busy sees a series from 2015, and every change made between two reads', async () => {
  const cal = await dav.makeCalendar('live');
  const p = createCaldavProvider({ ...creds(), bookingCalendarUrl: cal, conflictCalendarUrls: [cal, personal], uidHost: 'b.test', timeZone: 'Europe/Paris' });
  const week = { start: Date.parse('2026-03-23T00:00:00Z'), end: Date.parse('2026-03-30T00:00:00Z') };
  assert.equal(await dav.put(cal, 'old.ics', vevent('old', ['DTSTART;TZID=Europe/Paris:20150105T090000', 'DTEND;TZID=Europe/Paris:20150105T100000', 'RRULE:FREQ=WEEKLY;BYDAY=MO'])), 201);
  let res = await p.busy(week);
  assert.ok(res.ok);
  assert.deepEqual(res.value.map((b) => iso(b.start)), ['2026-03-23T08:00:00Z']);

  assert.equal(await dav.put(personal, 'new.ics', vevent('new', ['DTSTART:20260325T120000Z', 'DTEND:20260325T130000Z'])), 201);
  res = await p.busy(week);
  assert.ok(res.ok);
  assert.deepEqual(res.value.map((b) => iso(b.start)), ['2026-03-23T08:00:00Z', '2026-03-25T12:00:00Z']);

  assert.equal(await dav.put(cal, 'old.ics', vevent('old', ['DTSTART;TZID=Europe/Paris:20150106T090000', 'DTEND;TZID=Europe/Paris:20150106T100000', 'RRULE:FREQ=WEEKLY;BYDAY=TU'])) < 300, true);
  res = await p.busy(week);
  assert.ok(res.ok);
  assert.deepEqual(res.value.map((b) => iso(b.start)), ['2026-03-24T08:00:00Z', '2026-03-25T12:00:00Z']);

  const del = await fetch(new URL('new.ics', personal), { method: 'DELETE', headers: { authorization: `Basic ${Buffer.from(`${dav.username}:${dav.password}`).toString('base64')}` } });
  assert.equal(del.status, 200);
  res = await p.busy(week);
  assert.ok(res.ok);
  assert.deepEqual(res.value.map((b) => iso(b.start)), ['2026-03-24T08:00:00Z']);

  assert.equal(await dav.put(cal, 'broken.ics', vevent('broken', ['DTSTART;TZID=Nowhere/Atlantis:20260325T120000', 'DURATION:PT1H'])), 201);
  assert.deepEqual(await p.busy(week), { ok: false, error: 'malformed' }, 'an unreadable event makes the calendar unreadable, not free');
});

const booking = (id: string, startIso: string): NewBookingEvent => ({
  id,
  start: Date.parse(startIso),
  end: Date.parse(startIso) + 30 * 60_000,
  timeZone: 'Europe/Paris',
  summary: 'Haircut — Zoë Dupont',
  description: 'Phone: +33 6 12 34 56 78\nCancel: https://b.test/b/x.y',
  location: 'Salon',
  organizer: { name: 'Alice', email: 'alice@example.com' },
  attendee: { name: 'Zoë Dupont', email: 'zoe@example.net' },
  serviceSlug: 'haircut',
});

test('create, read, list, move and cancel a booking; conflicts and stale ETags are reported', async () => {
  const cal = await dav.makeCalendar('bookings');
  const p = createCaldavProvider({ ...creds(), bookingCalendarUrl: cal, conflictCalendarUrls: [cal], uidHost: 'b.test', timeZone: 'Europe/Paris' });
  const ev = booking('0123456789abcdefghijklmnopqrstuv', '2026-12-01T09:00:00Z');
  const created = await p.createEvent(ev);
  assert.ok(created.ok, JSON.stringify(created));
  assert.deepEqual(await p.createEvent(ev), { ok: false, error: 'conflict' });

  const read = await p.getEvent(ev.id);
  assert.ok(read.ok);
  assert.ok(Math.abs((read.value.created ?? 0) - Date.now()) < 60_000, 'CREATED is when the booking was written');
  assert.deepEqual(read.value, { ...ev, cancelled: false, sequence: 0, etag: created.value.etag, invitedBy: 'creneau', created: read.value.created });

  const day = { start: Date.parse('2026-12-01T00:00:00Z'), end: Date.parse('2026-12-02T00:00:00Z') };
  assert.deepEqual(await p.bookings(day), { ok: true, value: [{ id: ev.id, start: ev.start, end: ev.end, serviceSlug: 'haircut', attendeeEmail: 'zoe@example.net' }] });
  assert.deepEqual(await p.busy(day), { ok: true, value: [{ start: ev.start, end: ev.end }] });

  const later = Date.parse('2026-12-01T14:00:00Z');
  const moved = await p.moveEvent(ev.id, later, later + 30 * 60_000, created.value.etag);
  assert.ok(moved.ok, JSON.stringify(moved));
  assert.notEqual(moved.value.etag, created.value.etag);
  assert.deepEqual(await p.moveEvent(ev.id, ev.start, ev.end, created.value.etag), { ok: false, error: 'precondition_failed' });
  const after = await p.getEvent(ev.id);
  assert.ok(after.ok);
  assert.equal(after.value.start, later);
  assert.equal(after.value.sequence, 1);
  assert.deepEqual(await p.busy(day), { ok: true, value: [{ start: later, end: later + 30 * 60_000 }] });

  assert.deepEqual(await p.cancelEvent(ev.id), { ok: true, value: null });
  assert.deepEqual(await p.cancelEvent(ev.id), { ok: false, error: 'not_found' });
  // A tombstone stays (so the used booking form cannot create the booking again): cancelled, no recap.
  const tomb = await p.getEvent(ev.id);
  assert.ok(tomb.ok);
  assert.equal(tomb.value.cancelled, true);
  assert.equal(tomb.value.description, '');
  assert.equal(tomb.value.sequence, 2);
  assert.deepEqual(await p.createEvent(ev), { ok: false, error: 'conflict' });
  assert.deepEqual(await p.moveEvent(ev.id, ev.start, ev.end, moved.value.etag), { ok: false, error: 'precondition_failed' });
  assert.deepEqual(await p.bookings(day), { ok: true, value: [] });
  assert.deepEqual(await p.busy(day), { ok: true, value: [] });
});
