import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Browser, hiddenValue, startTestApp, type TestApp } from '../../scripts/test-support/app.js';
import { googleEnv, startGoogleStandin } from '../../scripts/test-support/google-standin.js';
import { startRadicale, type RadicaleServer } from '../../scripts/test-support/radicale.js';
import { setupOwner } from '../accounts/test-helpers.js';
import { findConnection } from './connection.repo.js';

/** Every byte the data directory holds (database, -wal, -shm). */
function dataBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
}

describe('connecting a CalDAV calendar from the staff page (real Radicale)', () => {
  let app: TestApp;
  let dav: RadicaleServer;
  let owner: Browser;
  before(async () => {
    dav = await startRadicale();
    await dav.makeCalendar('work', 'Work');
    await dav.makeCalendar('personal', 'Personal');
    app = await startTestApp({ CRENEAU_CALDAV_ALLOW_HOSTS: '127.0.0.1' });
    owner = await setupOwner(app);
  });
  after(async () => {
    await app.stop();
    await dav.stop();
  });

  test('a wrong password, a private address and a malformed URL are refused with a clear message and nothing stored', async () => {
    const home = await owner.get('/admin');
    assert.match(home.text, /Three steps to your first booking/);
    assert.match(home.text, /href="\/admin\/calendar">Connect your calendar/);
    const page = await owner.get('/admin/calendar');
    assert.equal(page.status, 200);
    assert.match(page.text, /Connect/);
    const csrf = hiddenValue(page.text, '_csrf');
    const wrong = await owner.post('/admin/calendar/caldav', { _csrf: csrf, url: dav.url, username: dav.username, password: 'not-the-password' });
    assert.equal(wrong.status, 422);
    assert.match(wrong.text, /user name or password was refused/);
    const ssrf = await owner.post('/admin/calendar/caldav', { _csrf: csrf, url: 'http://10.1.2.3:5232/', username: 'a', password: 'b' });
    assert.equal(ssrf.status, 422);
    assert.match(ssrf.text, /This address cannot be used/);
    const bad = await owner.post('/admin/calendar/caldav', { _csrf: csrf, url: 'not a url', username: 'a', password: 'b' });
    assert.equal(bad.status, 422);
    const noCsrf = await owner.post('/admin/calendar/caldav', { url: dav.url, username: dav.username, password: dav.password });
    assert.equal(noCsrf.status, 403);
    assert.equal(await findConnection(app.deps.db, 1), undefined);
  });

  test('connect, choose calendars, test, and disconnect-and-forget; the password is never readable on disk', async () => {
    const csrf = hiddenValue((await owner.get('/admin/calendar')).text, '_csrf');
    const res = await owner.post('/admin/calendar/caldav', { _csrf: csrf, url: dav.url, username: dav.username, password: dav.password });
    assert.equal(res.status, 303, res.text.slice(0, 300));
    const page = await owner.get('/admin/calendar?done=connected');
    assert.match(page.text, /Your calendar is connected/);
    assert.match(page.text, /<h2 id="check-title">Connection check<\/h2>/, 'connecting runs the check');
    assert.match(page.text, /Work/);
    assert.match(page.text, /Personal/);
    const conn = await findConnection(app.deps.db, 1);
    assert.ok(conn);
    assert.ok(!conn.secretSealed.includes(dav.password));
    app.deps.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    assert.equal(dataBytes(app.dataDir).indexOf(dav.password), -1, 'the CalDAV password is not in the SQLite files');

    const work = /value="([^"]+work\/)"/.exec(page.text)?.[1];
    const personal = /value="([^"]+personal\/)"/.exec(page.text)?.[1];
    assert.ok(work && personal);
    const chosen = await owner.post('/admin/calendar/choose', [
      ['_csrf', csrf],
      ['booking', work],
      ['conflicts', personal],
    ]);
    assert.equal(chosen.status, 303);
    const after = await findConnection(app.deps.db, 1);
    assert.equal(after?.bookingCalendar, work);
    assert.deepEqual([...(after?.conflictCalendars ?? [])].sort(), [personal, work].sort(), 'the booking calendar always counts as busy');

    const tested = await owner.post('/admin/calendar/test', { _csrf: csrf });
    assert.equal(tested.status, 200);
    assert.match(tested.text, /The connection works\./);
    assert.match(tested.text, /<li class="check-ok"><strong>OK:<\/strong> The server accepted your password; 2 calendar\(s\) found\.<\/li>/);

    // "Disconnect and forget" asks first, saying what stops and what stays; the page alone changes nothing.
    const calendarPage = (await owner.get('/admin/calendar')).text;
    assert.match(calendarPage, /<a class="button danger" href="\/admin\/calendar\/disconnect">Disconnect and forget…<\/a>/);
    assert.doesNotMatch(calendarPage, /action="\/admin\/calendar\/disconnect"/, 'no one-click disconnect');
    const ask = await owner.get('/admin/calendar/disconnect');
    assert.equal(ask.status, 200);
    assert.match(ask.text, /Disconnect your calendar\?/);
    assert.match(ask.text, /Creneau will stop using “Work”/);
    assert.match(ask.text, /cancel and reschedule links stop working/);
    assert.ok(await findConnection(app.deps.db, 1), 'still connected after the question');
    const askFr = await owner.get('/admin/calendar/disconnect', { 'accept-language': 'fr' });
    assert.match(askFr.text, /Déconnecter votre agenda/);
    const gone = await owner.post('/admin/calendar/disconnect', { _csrf: hiddenValue(ask.text, '_csrf') });
    assert.equal(gone.status, 303);
    assert.equal(await findConnection(app.deps.db, 1), undefined);
    assert.match((await owner.get('/admin/calendar')).text, /Server address/);
  });

  test('creneau import with a calendar block connects in the same transaction as the services', async () => {
    const { main } = await import('../main.js');
    const { writeFileSync } = await import('node:fs');
    const file = join(app.dataDir, 'import.json');
    const exported = (await owner.get('/admin/data/export')).text;
    const doc = JSON.parse(exported) as Record<string, unknown>;
    const env = { CRENEAU_DATA_DIR: app.dataDir, CRENEAU_LOG: 'off', CRENEAU_CALDAV_ALLOW_HOSTS: '127.0.0.1' };
    const quiet = { log: console.log, error: console.error };
    console.log = () => undefined;
    console.error = () => undefined;
    try {
      writeFileSync(file, JSON.stringify({ ...doc, calendar: { provider: 'caldav', url: dav.url, username: dav.username, password: 'wrong', calendar: 'Work', conflictCalendars: [] } }));
      assert.equal(await main(['import', '--user', 'alice', file], env), 1, 'a wrong password imports nothing');
      assert.equal(await findConnection(app.deps.db, 1), undefined);
      writeFileSync(file, JSON.stringify({ ...doc, calendar: { provider: 'caldav', url: dav.url, username: dav.username, password: dav.password, calendar: 'Work', conflictCalendars: ['Personal'] } }));
      assert.equal(await main(['import', '--user', 'alice', file], env), 0);
    } finally {
      console.log = quiet.log;
      console.error = quiet.error;
    }
    const conn = await findConnection(app.deps.db, 1);
    assert.ok(conn?.bookingCalendar.endsWith('/work/'));
    assert.equal(conn?.conflictCalendars.length, 2);
    assert.ok(!conn?.secretSealed.includes(dav.password));
    const csrf = hiddenValue((await owner.get('/admin/calendar')).text, '_csrf');
    await owner.post('/admin/calendar/disconnect', { _csrf: csrf });
  });

  test('signed-out visitors are sent to sign in', async () => {
    const anon = await new Browser(app.url).get('/admin/calendar');
    assert.equal(anon.status, 303);
    assert.match(anon.location ?? '', /^\/login\?next=/);
  });
});

describe('connecting Google Calendar (stand-in speaking Google’s wire format)', () => {
  let app: TestApp;
  let google: Awaited<ReturnType<typeof startGoogleStandin>>;
  let owner: Browser;
  before(async () => {
    google = await startGoogleStandin();
    app = await startTestApp(googleEnv(google));
    owner = await setupOwner(app);
  });
  after(async () => {
    await app.stop();
    await google.stop();
  });

  /** Follows Creneau → Google → Creneau like a browser (the stand-in consents at once). */
  async function connect(): Promise<string> {
    const start = await owner.get('/admin/calendar/google');
    assert.equal(start.status, 303);
    const authorize = new URL(start.location ?? '');
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorize.searchParams.get('access_type'), 'offline');
    assert.ok(authorize.searchParams.get('state'));
    const consent = await fetch(authorize, { redirect: 'manual' });
    const callback = new URL(consent.headers.get('location') ?? '');
    const done = await owner.get(callback.pathname + callback.search);
    return done.location ?? done.text;
  }

  test('OAuth with state and PKCE stores a sealed refresh token; disconnect revokes it at Google', async () => {
    assert.equal(await connect(), '/admin/calendar?done=connected');
    const conn = await findConnection(app.deps.db, 1);
    assert.equal(conn?.provider, 'google');
    const page = await owner.get('/admin/calendar?done=connected');
    assert.match(page.text, /Connected to Google Calendar/);
    assert.match(page.text, /<li class="check-ok"><strong>OK:<\/strong> Creneau has access to your calendars; \d+ calendar\(s\) found\.<\/li>/, 'connecting runs the check');
    assert.match(page.text, /<li class="check-ok"><strong>OK:<\/strong> This server sends invitations itself: Creneau will not e-mail clients\.<\/li>/);
    assert.match(page.text, /<li class="check-ok"><strong>OK:<\/strong> Your busy times for the next 60 days could be read\.<\/li>/);
    const before = google.state.requestsTo('revoke').length;
    const csrf = hiddenValue(page.text, '_csrf');
    await owner.post('/admin/calendar/disconnect', { _csrf: csrf });
    assert.equal(google.state.requestsTo('revoke').length, before + 1, 'token revoked at Google');
    assert.equal(await findConnection(app.deps.db, 1), undefined);
  });

  test('a callback with a forged state is refused', async () => {
    const forged = await owner.get('/admin/calendar/google/callback?state=forged&code=x');
    assert.equal(forged.status, 400);
    assert.equal(await findConnection(app.deps.db, 1), undefined);
  });

  test('invalid_grant marks the connection "needs reconnect": no slots for clients, a banner for the staff', async () => {
    assert.equal(await connect(), '/admin/calendar?done=connected');
    google.state.forceInvalidGrant = true;
    google.state.expireAccessTokens();
    const { insertService } = await import('../catalog/catalog.repo.js');
    const { defaultFields, defaultRules } = await import('../catalog/catalog.js');
    await insertService(app.deps.db, 1, { slug: 'visit', title: 'Visit', description: '', location: '', rules: defaultRules(), fields: defaultFields(), active: true }, Date.now());
    const slots = await fetch(`${app.url}/@alice/visit/slots`);
    assert.equal(slots.status, 503);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await findConnection(app.deps.db, 1))?.status, 'needs_reconnect');
    const again = await fetch(`${app.url}/@alice/visit/slots`);
    assert.equal(again.status, 503, 'still no slot offered');
    assert.match((await owner.get('/admin/calendar')).text, /needs to be connected again/);
    assert.match((await owner.get('/admin')).text, /needs to be connected again/, 'the banner is on the staff home too');
    google.state.forceInvalidGrant = false;
    assert.equal(await connect(), '/admin/calendar?done=connected');
    assert.equal((await findConnection(app.deps.db, 1))?.status, 'ok', 'reconnecting clears the banner');
  });
});
