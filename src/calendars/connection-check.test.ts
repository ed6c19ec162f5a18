// The connection check that explains (issue #14.5, and #14.3's "the unreadable object is named"),
// through the staff calendar page against real servers: Radicale (with a rights file, to make a
// calendar read-only) and Cyrus IMAP's CalDAV (Fastmail's engine, which schedules by itself).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hiddenValue, startTestApp, type Browser, type TestApp } from '../../scripts/test-support/app.js';
import { startCyrus, type CyrusServer } from '../../scripts/test-support/cyrus.js';
import { basicAuth, type DavServer } from '../../scripts/test-support/dav-server.js';
import { startRadicale } from '../../scripts/test-support/radicale.js';
import { createLogger } from '../lib/log.js';
import { setupOwner } from '../accounts/test-helpers.js';
import { authRefused, propertyOf } from './caldav/probe.js';
import { findConnection } from './connection.repo.js';

const DAY = 86_400_000;
const stamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

/** The check's list items as text: "Problem: …" per line (tags removed, entities kept). */
function checks(html: string): string[] {
  const list = /<ul class="checks">([\s\S]*?)<\/ul>/.exec(html)?.[1];
  assert.ok(list, 'the page shows the check as a list');
  return [...list.matchAll(/<li class="check-(ok|warn|error)">([\s\S]*?)<\/li>/g)].map((m) => `${m[1]} ${(m[2] ?? '').replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim()}`);
}

/** A CalDAV request as another client would send it. */
async function davFetch(dav: DavServer, url: string, method: string, body?: string, depth = '1'): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method, headers: { authorization: basicAuth(dav.username, dav.password), depth, 'content-type': 'application/xml; charset=utf-8' }, ...(body ? { body } : {}) });
  return { status: res.status, text: await res.text() };
}

/** The collection's sync-token and its object hrefs. */
async function snapshot(dav: DavServer, cal: string): Promise<{ token: string; hrefs: string[] }> {
  const r = await davFetch(dav, cal, 'PROPFIND', '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:sync-token/><d:getetag/></d:prop></d:propfind>');
  assert.equal(r.status, 207);
  const token = /sync-token[^>]*>([^<]+)</.exec(r.text)?.[1] ?? '';
  assert.ok(token);
  const hrefs = [...r.text.matchAll(/<(?:\w+:)?href>([^<]+\.ics)<\/(?:\w+:)?href>/g)].map((m) => m[1] ?? '');
  return { token, hrefs };
}

/** What changed in a calendar since a sync-token (RFC 6578): hrefs, with the removed ones answering 404. */
async function changesSince(dav: DavServer, cal: string, token: string): Promise<string> {
  const r = await davFetch(dav, cal, 'REPORT', `<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`);
  assert.equal(r.status, 207, r.text);
  return r.text;
}

function event(uid: string, summary: string, extra: string[] = [], start = Date.now() + DAY): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', `UID:${uid}`, `DTSTAMP:${stamp(Date.now())}`, `DTSTART:${stamp(start)}`, 'DURATION:PT1H', `SUMMARY:${summary}`, ...extra, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

const RIGHTS = (shared: 'rw' | 'r') =>
  [
    '[root]', 'user: .+', 'collection:', 'permissions: R',
    '[principal]', 'user: .+', 'collection: {user}', 'permissions: RW',
    '[shared]', 'user: .+', 'collection: {user}/shared', `permissions: ${shared}`,
    '[calendars]', 'user: .+', 'collection: {user}/[^/]+', 'permissions: rw',
    '',
  ].join('\n');

describe('the connection check explains (real Radicale, through the calendar page)', () => {
  let app: TestApp;
  let dav: DavServer;
  let owner: Browser;
  let dir: string;
  let rights: string;
  let work: string;
  let shared: string;
  const logs: string[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'creneau-check-'));
    rights = join(dir, 'rights');
    writeFileSync(rights, RIGHTS('rw'));
    dav = await startRadicale({ rightsFile: rights });
    work = await dav.makeCalendar('work', 'Work');
    shared = await dav.makeCalendar('shared', 'Shared');
    app = await startTestApp({ CRENEAU_CALDAV_ALLOW_HOSTS: '127.0.0.1', CRENEAU_LOG: 'debug' }, { deps: (d) => ({ ...d, log: createLogger('debug', (l) => logs.push(l)) }) });
    owner = await setupOwner(app);
  });
  after(async () => {
    await app.stop();
    await dav.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a refused password says so, with the advice that fits the provider (iCloud, Fastmail, Google)', async () => {
    const csrf = hiddenValue((await owner.get('/admin/calendar')).text, '_csrf');
    const wrong = await owner.post('/admin/calendar/caldav', { _csrf: csrf, url: dav.url, username: dav.username, password: 'not-the-password' });
    assert.equal(wrong.status, 422);
    const list = checks(wrong.text);
    assert.equal(list.length, 1);
    assert.match(list[0] ?? '', /^error Problem: Your password was refused\. Check the user name and password; if your account uses two-step verification, create an app password/);
    assert.equal(await findConnection(app.deps.db, 1), undefined);
    // The advice follows the server's host (those servers cannot be reached from a test).
    assert.equal(authRefused('https://caldav.icloud.com/').key, 'auth_refused_icloud');
    assert.equal(authRefused('https://p42-caldav.icloud.com:443/123/calendars/').key, 'auth_refused_icloud');
    assert.equal(authRefused('https://caldav.fastmail.com/dav/').key, 'auth_refused_fastmail');
    assert.equal(authRefused('https://apidata.googleusercontent.com/caldav/v2/').key, 'auth_refused_google');
    assert.equal(authRefused('https://icloud.com.example.net/').key, 'auth_refused');
  });

  test('connecting runs the check at once: password, writable calendar, who invites, CTag, busy read', async () => {
    const csrf = hiddenValue((await owner.get('/admin/calendar')).text, '_csrf');
    assert.equal(await dav.put(work, 'a.ics', event('ok-1@example.org', 'Lunch')), 201);
    const res = await owner.post('/admin/calendar/caldav', { _csrf: csrf, url: dav.url, username: dav.username, password: dav.password });
    assert.equal(res.status, 303);
    const page = await owner.get(res.location ?? '');
    const list = checks(page.text);
    assert.ok(list.includes('ok OK: The server accepted your password; 2 calendar(s) found.'), list.join('\n'));
    assert.ok(list.some((l) => /^ok OK: You can write into “(Work|Shared)”, which receives bookings\.$/.test(l)), list.join('\n'));
    assert.ok(list.includes('ok OK: This server does not send invitations itself: Creneau e-mails clients their invitation.'), list.join('\n'));
    assert.ok(list.some((l) => l.startsWith('ok OK: The server tells when a calendar has changed (CTag or sync-token)')), list.join('\n'));
    assert.ok(list.some((l) => /^ok OK: Your busy times for the next 60 days could be read \(\d+ events read, none refused\)\.$/.test(l)), list.join('\n'));
    assert.ok(!list.some((l) => l.startsWith('error')), list.join('\n'));
  });

  test('with consent, a recurring test event is written, found by a later occurrence, and removed; without, nothing is written', async () => {
    const page = await owner.get('/admin/calendar');
    const csrf = hiddenValue(page.text, '_csrf');
    assert.match(page.text, /<input type="checkbox" name="write" value="1"/);
    const chosen = await owner.post('/admin/calendar/choose', [['_csrf', csrf], ['booking', work], ['conflicts', shared]]);
    assert.equal(chosen.status, 303);

    const before = await snapshot(dav, work);
    const plain = await owner.post('/admin/calendar/test', { _csrf: csrf });
    assert.equal(plain.status, 200);
    assert.ok(!checks(plain.text).some((l) => /test event/.test(l)), 'no write without consent');
    assert.doesNotMatch(await changesSince(dav, work, before.token), /\.ics</, 'the calendar was not touched');

    const probed = await owner.post('/admin/calendar/test', { _csrf: csrf, write: '1' });
    assert.equal(probed.status, 200);
    const list = checks(probed.text);
    assert.ok(list.includes('ok OK: A test event was written into “Work” and found again by date, repeating events included.'), list.join('\n'));
    assert.ok(list.includes('ok OK: The test event was removed.'), list.join('\n'));
    assert.match(probed.text, /The connection works/);
    // The server's change log shows the test event, now gone (404), and nothing else.
    const changes = await changesSince(dav, work, before.token);
    const changed = [...changes.matchAll(/<(?:\w+:)?response>([\s\S]*?)<\/(?:\w+:)?response>/g)].map((m) => m[1] ?? '');
    assert.equal(changed.length, 1, changes);
    assert.match(changed[0] ?? '', /creneau-check-[0-9a-f]{20}\.ics/);
    assert.match(changed[0] ?? '', /404/);
    assert.deepEqual((await snapshot(dav, work)).hrefs.sort(), before.hrefs.sort(), 'the calendar holds what it held');
  });

  test('an object the busy reader refuses is named by SUMMARY and UID (escaped), never logged, and slots stay closed', async () => {
    const summary = 'Dentist <b>Ann</b> & co';
    const uid = 'never-matches-7@example.org';
    // A rule that can never match: the reader refuses it (fail closed); Radicale stores it.
    assert.equal(await dav.put(shared, 'bad.ics', event(uid, summary, ['RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30'])), 201);
    assert.equal(await dav.put(shared, 'fine.ics', event('fine-2@example.org', 'Gym', ['RRULE:FREQ=WEEKLY;COUNT=5'])), 201);
    const csrf = hiddenValue((await owner.get('/admin/calendar')).text, '_csrf');
    const res = await owner.post('/admin/calendar/test', { _csrf: csrf });
    const list = checks(res.text);
    const named = list.filter((l) => l.startsWith('error Problem: An event in “Shared” cannot be read'));
    assert.equal(named.length, 1, list.join('\n'));
    assert.match(named[0] ?? '', /“Dentist &lt;b&gt;Ann&lt;\/b&gt; &amp; co” \(UID never-matches-7@example\.org\)\.$/);
    assert.ok(!res.text.includes('<b>Ann</b>'), 'the summary is escaped');
    assert.ok(!res.text.includes('Gym'), 'only the refused object is named');
    assert.doesNotMatch(res.text, /The connection works/);
    assert.ok(!logs.some((l) => l.includes('Dentist') || l.includes(uid)), 'neither the summary nor the UID is logged');
    const { insertService } = await import('../catalog/catalog.repo.js');
    const { defaultFields, defaultRules } = await import('../catalog/catalog.js');
    await insertService(app.deps.db, 1, { slug: 'visit', title: 'Visit', description: '', location: '', rules: defaultRules(), fields: defaultFields(), active: true }, Date.now());
    // Slot reads ask Radicale for the window only (its time-range filter is trusted, docs/caldav.md):
    // a series that can never occur has no instance there, so it is not sent and blocks nothing —
    // the check above, which reads every object, is where it is found. (Objects a read does
    // receive and cannot read fail it closed: hostile.test.ts.)
    assert.equal((await fetch(`${app.url}/@alice/visit/slots`)).status, 200, 'a series that never occurs blocks no slot');
    assert.equal((await davFetch(dav, new URL('bad.ics', shared).href, 'DELETE')).status, 200);
    const again = await owner.post('/admin/calendar/test', { _csrf: csrf });
    assert.ok(!checks(again.text).some((l) => l.includes('cannot be read')), 'once removed, the check no longer names it');
  });

  test('a calendar that became read-only is named as such (Radicale rights file)', async () => {
    let csrf = hiddenValue((await owner.get('/admin/calendar')).text, '_csrf');
    assert.equal((await owner.post('/admin/calendar/choose', [['_csrf', csrf], ['booking', shared]])).status, 303);
    writeFileSync(rights, RIGHTS('r'));
    try {
      csrf = hiddenValue((await owner.get('/admin/calendar')).text, '_csrf');
      const res = await owner.post('/admin/calendar/test', { _csrf: csrf, write: '1' });
      const list = checks(res.text);
      assert.ok(list.includes('error Problem: This calendar is read-only for you: “Shared” does not accept new events. Choose another calendar for bookings, or ask its owner for write access.'), list.join('\n'));
      assert.ok(!list.some((l) => /test event/.test(l)), 'no write is tried into a read-only calendar');
    } finally {
      writeFileSync(rights, RIGHTS('rw'));
    }
  });
});

describe('the connection check on a server that schedules by itself (real Cyrus, in French)', () => {
  let app: TestApp;
  let dav: CyrusServer;
  let owner: Browser;
  before(async () => {
    dav = await startCyrus();
    app = await startTestApp({ CRENEAU_CALDAV_ALLOW_HOSTS: '127.0.0.1' });
    owner = await setupOwner(app, { email: dav.address });
  });
  after(async () => {
    await app.stop();
    await dav.stop();
  });

  test('server scheduling is detected and explained; the write probe works; the text is French for a French browser', async () => {
    const fr = { 'accept-language': 'fr' };
    const csrf = hiddenValue((await owner.get('/admin/calendar')).text, '_csrf');
    const res = await owner.post('/admin/calendar/caldav', { _csrf: csrf, url: dav.url, username: dav.username, password: dav.password });
    assert.equal(res.status, 303, res.text.slice(0, 500));
    const page = await owner.get(res.location ?? '');
    assert.ok(checks(page.text).includes('ok OK: This server sends invitations itself: Creneau will not e-mail clients.'), checks(page.text).join('\n'));

    const probed = await owner.post('/admin/calendar/test', { _csrf: csrf, write: '1' }, fr);
    const list = checks(probed.text);
    assert.match(probed.text, /<h2 id="check-title">Vérification de la connexion<\/h2>/);
    assert.ok(list.includes('ok OK : Ce serveur envoie lui-même les invitations : Creneau n’enverra pas d’e-mail aux clients.'), list.join('\n'));
    assert.ok(list.some((l) => /^ok OK : Un événement de test a été écrit dans « .+ » et retrouvé par date, répétitions comprises\.$/.test(l)), list.join('\n'));
    assert.ok(list.includes('ok OK : L’événement de test a été supprimé.'), list.join('\n'));

    // A profile e-mail the server does not schedule for: Creneau invites, and says why.
    await app.deps.db.updateTable('staff').set({ email: 'alice@elsewhere.example' }).where('id', '=', 1).execute();
    const other = checks((await owner.post('/admin/calendar/test', { _csrf: csrf })).text);
    assert.ok(
      other.includes(`warn Note: This server can send invitations, but only from ${dav.address}; your profile e-mail is alice@elsewhere.example, so Creneau e-mails clients itself. Use the calendar account&#39;s address as your profile e-mail to let the server do it.`),
      other.join('\n'),
    );
  });
});

test('propertyOf reads a folded, escaped property of broken ICS, and cuts it short', () => {
  assert.equal(propertyOf('BEGIN:VEVENT\r\nSUMMARY;LANGUAGE=fr:Caf\r\n é\\, thé\\; \\\\ ok\r\nUID:x\r\n', 'SUMMARY'), 'Café, thé; \\ ok');
  assert.equal(propertyOf('garbage', 'UID'), null);
  assert.equal(propertyOf(`SUMMARY:${'é'.repeat(500)}`, 'SUMMARY')?.length, 120);
});
