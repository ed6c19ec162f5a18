// The calendars' views (view.ts) against a real Radicale: sync-collection (RFC 6578) and its
// fall-backs, and the time-range read made before a write. A small proxy in front of Radicale
// records what is asked and, when told to, refuses a REPORT the way other servers do.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRadicale } from '../../../scripts/test-support/radicale.js';
import type { RadicaleServer } from '../../../scripts/test-support/radicale.js';
import { createBusyPool } from '../busy-pool.js';
import { createTransport } from './http.js';
import { createCalendarViews } from './view.js';
import type { CalendarViews } from './view.js';
import { createCaldavProvider } from './caldav.js';
import type { NewBookingEvent } from '../provider.js';

const pool = createBusyPool();
let dav: RadicaleServer;
let proxy: http.Server;
let proxyOrigin: string;
/** What the proxy saw, in order: `METHOD depth kind hrefs` (kind: the REPORT's root element). */
let seen: string[] = [];
/** When set, answers this status (with RFC 6578's precondition) to matching REPORTs instead of Radicale. */
let refuse: { readonly kind: string; readonly withToken: boolean; readonly status: number } | null = null;

const auth = (): string => `Basic ${Buffer.from(`${dav.username}:${dav.password}`).toString('base64')}`;

before(async () => {
  dav = await startRadicale();
  const upstream = new URL(dav.url);
  proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString('utf8');
      const kind = /<(?:\w+:)?(sync-collection|calendar-query|calendar-multiget|propfind)\b/.exec(text)?.[1] ?? '-';
      const hrefs = (text.match(/<d:href>/g) ?? []).length;
      const withToken = /<d:sync-token>[^<]+<\/d:sync-token>/.test(text);
      seen.push(`${req.method} ${req.headers.depth ?? '-'} ${kind}${kind === 'sync-collection' ? (withToken ? '+token' : '') : ''}${kind === 'calendar-multiget' ? ` ${hrefs}` : ''}`);
      if (refuse && kind === refuse.kind && refuse.withToken === withToken) {
        res.writeHead(refuse.status, { 'content-type': 'application/xml' });
        return res.end('<?xml version="1.0"?><d:error xmlns:d="DAV:"><d:valid-sync-token/></d:error>');
      }
      const fwd = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      fwd.end(body);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyOrigin = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
after(async () => {
  proxy?.closeAllConnections();
  proxy?.close();
  await dav?.stop();
  await pool.close();
});

const vevent = (uid: string, lines: string[]): string =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
const at = (uid: string, start: string): string => vevent(uid, [`DTSTART:${start}`, 'DURATION:PT1H', `SUMMARY:Secret ${uid}`]);

/** A calendar on Radicale, and views reading it through the proxy. */
async function calendar(name: string): Promise<{ cal: string; views: CalendarViews }> {
  const direct = await dav.makeCalendar(name);
  const cal = new URL(new URL(direct).pathname, proxyOrigin).href;
  const t = createTransport({ username: dav.username, password: dav.password, allowHosts: ['127.0.0.1'], origin: proxyOrigin });
  return { cal, views: createCalendarViews(t, (texts) => pool.minimize(texts)) };
}

async function remove(cal: string, file: string): Promise<void> {
  const res = await fetch(new URL(file, new URL(new URL(cal).pathname, dav.url)), { method: 'DELETE', headers: { authorization: auth() } });
  assert.equal(res.status, 200);
}

/** The UIDs a view holds (minimized texts keep UID and times only). */
function uids(texts: readonly string[]): string[] {
  return texts.map((t) => /\nUID:([^\r\n]*)/.exec(t)?.[1] ?? '?').sort();
}

const soon = (): number => Date.now() + 10_000;

test('sync-collection: the first read lists by sync, then only changes are asked and fetched; a deleted object disappears', async () => {
  const { cal, views } = await calendar('sync');
  const direct = new URL(new URL(cal).pathname, dav.url).href;
  for (const n of [1, 2, 3]) assert.equal(await dav.put(direct, `e${n}.ics`, at(`e${n}`, `2026040${n}T090000Z`)), 201);
  seen = [];
  let r = await views.refresh(cal, false, soon());
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(uids(r.value), ['e1', 'e2', 'e3']);
  assert.deepEqual(seen, ['PROPFIND 0 propfind', 'REPORT 0 sync-collection', 'REPORT 1 calendar-multiget 3'], 'no PROPFIND listing of every ETag');

  seen = [];
  r = await views.refresh(cal, false, soon());
  assert.ok(r.ok);
  assert.deepEqual(seen, ['PROPFIND 0 propfind'], 'an unchanged CTag: nothing else asked');

  assert.equal(await dav.put(direct, 'e4.ics', at('e4', '20260404T090000Z')), 201);
  assert.ok((await dav.put(direct, 'e2.ics', at('e2', '20260412T090000Z'))) < 300);
  await remove(cal, 'e1.ics');
  seen = [];
  r = await views.refresh(cal, false, soon());
  assert.ok(r.ok);
  assert.deepEqual(uids(r.value), ['e2', 'e3', 'e4'], 'the deleted object is gone, the new one is there');
  assert.ok(r.value.some((t) => t.includes('20260412T090000Z')), 'the changed object is read again');
  assert.deepEqual(seen, ['PROPFIND 0 propfind', 'REPORT 0 sync-collection+token', 'REPORT 1 calendar-multiget 2'], 'only the two changed objects are downloaded');

  // Before a write: the changes are asked even though the CTag has not moved.
  seen = [];
  r = await views.refresh(cal, true, soon());
  assert.ok(r.ok);
  assert.deepEqual(uids(r.value), ['e2', 'e3', 'e4']);
  assert.deepEqual(seen, ['PROPFIND 0 propfind', 'REPORT 0 sync-collection+token']);
});

for (const status of [403, 409, 418, 507]) {
  test(`sync-collection: a token refused with ${status} reads everything again by sync; an initial sync refused lists every ETag`, async () => {
    const { cal, views } = await calendar(`refused-${status}`);
    const direct = new URL(new URL(cal).pathname, dav.url).href;
    for (const n of [1, 2]) assert.equal(await dav.put(direct, `e${n}.ics`, at(`e${n}`, `2026040${n}T090000Z`)), 201);
    assert.ok((await views.refresh(cal, false, soon())).ok);
    await remove(cal, 'e1.ics');
    assert.equal(await dav.put(direct, 'e3.ics', at('e3', '20260403T090000Z')), 201);

    refuse = { kind: 'sync-collection', withToken: true, status };
    seen = [];
    let r = await views.refresh(cal, false, soon());
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(uids(r.value), ['e2', 'e3'], 'the deleted object is gone after the full re-read');
    assert.deepEqual(seen, ['PROPFIND 0 propfind', 'REPORT 0 sync-collection+token', 'REPORT 0 sync-collection', 'REPORT 1 calendar-multiget 1']);

    // A server that refuses sync-collection altogether: every ETag is listed, from then on.
    refuse = { kind: 'sync-collection', withToken: false, status };
    const other = await calendar(`nosync-${status}`);
    const otherDirect = new URL(new URL(other.cal).pathname, dav.url).href;
    assert.equal(await dav.put(otherDirect, 'a.ics', at('a', '20260405T090000Z')), 201);
    seen = [];
    r = await other.views.refresh(other.cal, false, soon());
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(uids(r.value), ['a']);
    assert.deepEqual(seen, ['PROPFIND 0 propfind', 'REPORT 0 sync-collection', 'PROPFIND 1 propfind', 'REPORT 1 calendar-multiget 1']);
    await remove(other.cal, 'a.ics');
    seen = [];
    r = await other.views.refresh(other.cal, false, soon());
    assert.ok(r.ok);
    assert.deepEqual(r.value, [], 'deleted');
    assert.deepEqual(seen, ['PROPFIND 0 propfind', 'PROPFIND 1 propfind'], 'sync-collection is not asked again');
    refuse = null;
  });
}

test('the time-range read before a write: one REPORT (and the collection itself, at once) finds a series started long before the range and nothing else', async () => {
  const { cal, views } = await calendar('window');
  const direct = new URL(new URL(cal).pathname, dav.url).href;
  assert.equal(await dav.put(direct, 'old.ics', vevent('old', ['DTSTART;TZID=Europe/Paris:20150105T090000', 'DTEND;TZID=Europe/Paris:20150105T100000', 'RRULE:FREQ=WEEKLY;BYDAY=MO'])), 201);
  assert.equal(await dav.put(direct, 'ended.ics', vevent('ended', ['DTSTART:20150106T090000Z', 'DURATION:PT1H', 'RRULE:FREQ=WEEKLY;UNTIL=20200101T000000Z'])), 201);
  for (let n = 0; n < 50; n++) assert.equal(await dav.put(direct, `past${n}.ics`, at(`past${n}`, `2024${String((n % 12) + 1).padStart(2, '0')}10T090000Z`)), 201);
  assert.equal(await dav.put(direct, 'today.ics', at('today', '20260323T120000Z')), 201);
  const day = { start: Date.parse('2026-03-23T00:00:00Z'), end: Date.parse('2026-03-24T00:00:00Z') }; // a Monday
  seen = [];
  const r = await views.window(cal, day, true, soon());
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(uids(r.value), ['old', 'today'], 'the 2015 weekly series is in, the ended one and the past events are not');
  assert.deepEqual(seen.sort(), ['OPTIONS - -', 'PROPFIND 0 propfind', 'REPORT 1 calendar-query'], 'Radicale is known by its DAV header (asked once)');
  seen = [];
  assert.ok((await views.window(cal, day, true, soon())).ok);
  assert.deepEqual(seen.sort(), ['PROPFIND 0 propfind', 'REPORT 1 calendar-query']);

  // A server that refuses the query: read through the view, and not asked again.
  refuse = { kind: 'calendar-query', withToken: false, status: 403 };
  const other = await calendar('window-refused');
  const otherDirect = new URL(new URL(other.cal).pathname, dav.url).href;
  assert.equal(await dav.put(otherDirect, 'old.ics', vevent('old', ['DTSTART:20150105T090000Z', 'DURATION:PT1H', 'RRULE:FREQ=WEEKLY'])), 201);
  seen = [];
  let w = await other.views.window(other.cal, day, true, soon());
  assert.ok(w.ok, JSON.stringify(w));
  assert.deepEqual(uids(w.value), ['old']);
  assert.ok(seen.includes('REPORT 0 sync-collection'), seen.join());
  seen = [];
  w = await other.views.window(other.cal, day, false, soon());
  assert.ok(w.ok);
  assert.deepEqual(seen, ['PROPFIND 0 propfind'], 'the view answers; the query is not tried again');
  refuse = null;
});

test('before a write, one time-range read serves the busy time and the bookings counted right after it; a write drops it', async () => {
  const { cal } = await calendar('one-read');
  const p = createCaldavProvider({ username: dav.username, password: dav.password, allowHosts: ['127.0.0.1'], bookingCalendarUrl: cal, conflictCalendarUrls: [cal], uidHost: 'b.test', timeZone: 'Europe/Paris', origin: proxyOrigin, engine: pool });
  const start = Date.parse('2026-06-02T08:00:00Z');
  const event = (id: string, at: number): NewBookingEvent => ({
    id,
    start: at,
    end: at + 30 * 60_000,
    timeZone: 'Europe/Paris',
    summary: 'Haircut',
    description: '',
    location: '',
    organizer: { name: 'Alice', email: 'alice@example.com' },
    attendee: { name: 'Zoë', email: 'zoe@example.net' },
    serviceSlug: 'haircut',
  });
  assert.ok((await p.createEvent(event('0123456789abcdefghijklmnop', start))).ok);
  const day = { start: Date.parse('2026-06-02T00:00:00Z'), end: Date.parse('2026-06-03T00:00:00Z') };
  seen = [];
  const busy = await p.busy(day, { thorough: true });
  assert.deepEqual(busy, { ok: true, value: [{ start, end: start + 30 * 60_000 }] });
  const booked = await p.bookings(day);
  assert.ok(booked.ok);
  assert.deepEqual(booked.value.map((b) => [b.id, b.attendeeEmail]), [['0123456789abcdefghijklmnop', 'zoe@example.net']]);
  assert.equal(seen.filter((s) => s.startsWith('REPORT')).length, 1, `one REPORT for both: ${seen.join(' | ')}`);

  // A write through the provider: the next count asks the calendar again, and sees it.
  assert.ok((await p.createEvent(event('0123456789abcdefghijklmnoq', start + 3_600_000))).ok);
  seen = [];
  const again = await p.bookings(day);
  assert.ok(again.ok);
  assert.equal(again.value.length, 2);
  assert.deepEqual(seen, ['REPORT 1 calendar-query']);

  // A slot page's read (not before a write) keeps nothing.
  assert.ok((await p.busy(day)).ok);
  seen = [];
  assert.ok((await p.bookings(day)).ok);
  assert.deepEqual(seen, ['REPORT 1 calendar-query']);
});
