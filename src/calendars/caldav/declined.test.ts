import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startRadicale } from '../../../scripts/test-support/radicale.js';
import type { DavServer } from '../../../scripts/test-support/dav-server.js';
import { createCaldavProvider } from './caldav.js';

// "An event the staff member has declined (their own ATTENDEE with PARTSTAT=DECLINED) is free"
// (issue #14 §3), through a real CalDAV server: the provider learns the account's own addresses.
let dav: DavServer & { stop(): Promise<void> };
before(async () => {
  dav = await startRadicale({ username: 'alice@salon.test' });
});
after(() => dav?.stop());

const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
const meeting = (uid: string, start: number, partstat: string, who: string) =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', `UID:${uid}`, `DTSTAMP:${stamp(start)}`, `DTSTART:${stamp(start)}`, `DTEND:${stamp(start + 3600_000)}`, 'SUMMARY:Meeting', 'ORGANIZER:mailto:boss@corp.test', `ATTENDEE;PARTSTAT=${partstat}:mailto:${who}`, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

test('a meeting the account itself declined is free; one it accepted, or someone else declined, is busy', async () => {
  const cal = await dav.makeCalendar('work', 'Work');
  const day = Date.UTC(2027, 5, 7, 8);
  assert.equal(await dav.put(cal, 'declined.ics', meeting('m1@corp.test', day, 'DECLINED', 'Alice@Salon.test')), 201);
  assert.equal(await dav.put(cal, 'accepted.ics', meeting('m2@corp.test', day + 2 * 3600_000, 'ACCEPTED', 'alice@salon.test')), 201);
  assert.equal(await dav.put(cal, 'other.ics', meeting('m3@corp.test', day + 4 * 3600_000, 'DECLINED', 'bob@salon.test')), 201);
  const p = createCaldavProvider({ username: dav.username, password: dav.password, allowHosts: ['127.0.0.1'], bookingCalendarUrl: cal, conflictCalendarUrls: [cal], uidHost: 'b.test', timeZone: 'Europe/Paris' });
  for (const thorough of [false, true]) {
    const busy = await p.busy({ start: day - 3600_000, end: day + 8 * 3600_000 }, { thorough });
    assert.ok(busy.ok, JSON.stringify(busy));
    assert.deepEqual(
      busy.value.map((b) => [b.start, b.end]),
      [
        [day + 2 * 3600_000, day + 3 * 3600_000],
        [day + 4 * 3600_000, day + 5 * 3600_000],
      ],
      thorough ? 'before a write' : 'page view',
    );
  }
});
