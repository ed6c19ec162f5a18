import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startGoogleStandin, type Fault, type GoogleStandin } from '../../../scripts/test-support/google-standin.js';
import { fixedClock } from '../../lib/clock.js';
import { createGoogleClient } from './google-client.js';
import { createGoogleProvider, type GoogleProviderOptions } from './google.js';
import { fetchUserinfo, googleEndpoints, revokeToken } from './oauth.js';

/**
 * Google's answers are untrusted input: anything short of a complete, coherent answer is a
 * failed read (fail closed), and the tokens go to the configured origins only.
 */

const PRIMARY = 'alice.martin@gmail.com';
const BOOKINGS = 'c_bookings0001@group.calendar.google.com';
const HOUR = 3_600_000;
const BASE = Date.UTC(2027, 4, 3, 7);
const range = { start: BASE, end: BASE + 10 * HOUR };
/** Leaving out a booking that does not exist makes busy() read events.list instead of freeBusy. */
const viaEvents = { exceptBookingId: 'nosuchbooking0000000000000' };

let g: GoogleStandin;
before(async () => {
  g = await startGoogleStandin();
  g.state.addEvent(PRIMARY, { start: BASE + HOUR, end: BASE + 2 * HOUR });
});
after(async () => {
  await g.stop();
});
beforeEach(() => {
  g.state.faults.length = 0;
  g.state.requests.length = 0;
});

function makeProvider(over: Partial<GoogleProviderOptions> = {}) {
  return createGoogleProvider({
    endpoints: googleEndpoints(g.oauthUrl, g.apiUrl),
    clientId: g.state.clientId,
    clientSecret: g.state.clientSecret,
    refreshToken: g.state.issueRefreshToken(),
    bookingCalendarId: BOOKINGS,
    conflictCalendarIds: [PRIMARY],
    clock: fixedClock(BASE - 24 * HOUR),
    sleep: async () => undefined,
    ...over,
  });
}

const malformed = { ok: false, error: 'malformed' };
const expectedBusy = { ok: true, value: [{ start: BASE + HOUR, end: BASE + 2 * HOUR }] };

describe('strict Google answers', () => {
  it('a list without items is a failed read, never an empty calendar', async () => {
    const p = makeProvider();
    g.state.inject({ kind: 'missing_items', route: 'events.list' });
    assert.deepEqual(await p.busy(range, viaEvents), malformed);
    g.state.inject({ kind: 'missing_items', route: 'freeBusy' });
    assert.deepEqual(await p.busy(range), malformed);
    g.state.inject({ kind: 'missing_items', route: 'calendarList' });
    assert.deepEqual(await p.listCalendars(), malformed);
    g.state.inject({ kind: 'missing_items', route: 'events.list' });
    assert.deepEqual(await p.bookings(range), malformed);
    // The same reads succeed once the answers are whole again.
    assert.deepEqual(await p.busy(range, viaEvents), expectedBusy);
    assert.deepEqual(await p.busy(range), expectedBusy);
  });

  it('a repeating page token is a loop: refused after the first repeat', async () => {
    const p = makeProvider();
    g.state.inject({ kind: 'page_token_loop', route: 'events.list', value: 'MjUw', times: 50 });
    assert.deepEqual(await p.busy(range, viaEvents), malformed);
    // Page 1 hands out the token, page 2 hands it out again: two requests, not fifty.
    assert.equal(g.state.requestsTo('events.list').length, 2);
  });

  it('a page token Google itself does not know, and a listing that never ends, fail closed', async () => {
    const p = makeProvider();
    g.state.inject({ kind: 'page_token_loop', route: 'events.list', value: 'bm90LWEtdG9rZW4' });
    assert.deepEqual(await p.busy(range, viaEvents), malformed);
    g.state.requests.length = 0;
    const endless = g.state.inject({ kind: 'endless_pages', route: 'calendarList', times: 1000 });
    assert.deepEqual(await p.listCalendars(), malformed);
    assert.equal(g.state.requestsTo('calendarList').length, 20);
    endless.times = 0;
    g.state.faults.length = 0;
    assert.ok((await p.listCalendars()).ok);
  });

  const badTimes = [
    '2027-13-01T10:00:00Z', // month 13
    '2027-02-30T10:00:00Z', // 30 February, which Date.parse rolls over into 2 March
    '2027-05-03T99:00:00Z', // hour 99
    '2027-05-03T10:61:00+02:00',
    '2027-05-03T10:00:00+25:00',
    '2027-05-03 10:00:00',
    'tomorrow',
    '2027-02-29', // all-day, not a leap year
    '2027-00-10',
  ];
  for (const value of badTimes) {
    it(`a malformed or out-of-range time (${value}) fails the read instead of moving or dropping the event`, async () => {
      const p = makeProvider();
      g.state.inject({ kind: 'bad_time', route: 'events.list', value });
      assert.deepEqual(await p.busy(range, viaEvents), malformed);
      g.state.inject({ kind: 'bad_time', route: 'events.list', value });
      assert.deepEqual(await p.bookings(range), malformed);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) {
        g.state.inject({ kind: 'bad_time', route: 'freeBusy', value });
        assert.deepEqual(await p.busy(range), malformed);
      }
      assert.deepEqual(await p.busy(range, viaEvents), expectedBusy);
    });
  }

  it('a live event without start or end fails the read; a booking read back without times is malformed', async () => {
    const p = makeProvider();
    g.state.inject({ kind: 'event_without_times', route: 'events.list' });
    assert.deepEqual(await p.busy(range, viaEvents), malformed);
    g.state.inject({ kind: 'event_without_times', route: 'events.list' });
    assert.deepEqual(await p.bookings(range), malformed);
    const id = 'strictbooking0000000000001';
    const made = await p.createEvent({
      id,
      start: BASE + 3 * HOUR,
      end: BASE + 4 * HOUR,
      timeZone: 'Europe/Paris',
      summary: 'Haircut',
      description: '',
      location: '',
      organizer: { name: 'Alice', email: PRIMARY },
      attendee: { name: 'Jeanne', email: 'jeanne@example.org' },
      serviceSlug: 'haircut',
    });
    assert.ok(made.ok);
    g.state.inject({ kind: 'event_without_times', route: 'events.get' });
    assert.deepEqual(await p.getEvent(id), malformed);
    g.state.inject({ kind: 'bad_time', route: 'events.get', value: '2027-05-03T24:00:00Z' });
    assert.deepEqual(await p.getEvent(id), malformed);
    assert.ok((await p.getEvent(id)).ok);
  });
});

describe('Google tokens go to the configured origins only', () => {
  /** A server on another origin that records whatever reaches it. */
  async function startTrap() {
    const seen: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"access_token":"stolen","expires_in":3599,"items":[],"calendars":{}}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { seen, origin, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  it('no redirect, paging token or calendar id ever leads the access or refresh token to another origin', async () => {
    const trap = await startTrap();
    try {
      const redirect = (route: Fault['route']): Fault => ({ kind: 'redirect', route, location: `${trap.origin}/steal`, times: 5 });
      const refreshToken = g.state.issueRefreshToken();

      // The token endpoint redirects: the refresh token is not re-sent there.
      g.state.inject(redirect('token'));
      assert.equal((await makeProvider({ refreshToken }).busy(range)).ok, false);
      g.state.faults.length = 0;

      const p = makeProvider({ refreshToken });
      for (const route of ['freeBusy', 'events.list', 'calendarList', 'events.get', 'events.insert', 'events.delete'] as const) {
        g.state.inject(redirect(route));
      }
      assert.deepEqual(await p.busy(range), { ok: false, error: 'refused' });
      assert.deepEqual(await p.busy(range, viaEvents), { ok: false, error: 'refused' });
      assert.deepEqual(await p.listCalendars(), { ok: false, error: 'refused' });
      assert.deepEqual(await p.getEvent('strictbooking0000000000002'), { ok: false, error: 'refused' });
      g.state.faults.length = 0;

      // A page token that looks like a link is only ever a query parameter to the API.
      g.state.inject({ kind: 'page_token_loop', route: 'events.list', value: `${trap.origin}/calendar/v3/page2` });
      assert.deepEqual(await p.busy(range, viaEvents), malformed);
      const paged = g.state.requestsTo('events.list').at(-1);
      assert.equal(paged?.query.get('pageToken'), `${trap.origin}/calendar/v3/page2`);

      // Calendar ids shaped like URLs stay path segments under the API base.
      const odd = makeProvider({ refreshToken, conflictCalendarIds: [`${trap.origin}/x`, `//127.0.0.1:${new URL(trap.origin).port}/x`, '../../../steal'] });
      assert.deepEqual(await odd.busy(range), { ok: false, error: 'unauthorized' });
      assert.equal((await odd.busy(range, viaEvents)).ok, false);

      // Revoking and reading the profile do not follow a redirect either.
      const { revokeUrl, userinfoUrl } = googleEndpoints(g.oauthUrl, g.apiUrl);
      g.state.inject(redirect('revoke'));
      g.state.inject(redirect('userinfo'));
      assert.equal((await revokeToken({ revokeUrl, token: refreshToken })).ok, false);
      assert.equal((await fetchUserinfo({ userinfoUrl, accessToken: 'ya29.a0standin' })).ok, false);

      assert.deepEqual(trap.seen.map((r) => r.headers.authorization ?? null), [], 'the trap saw no request at all');
      assert.ok(g.state.requestsTo('freeBusy').length >= 2, 'the stand-in did get the calls');
    } finally {
      await trap.stop();
    }
  });

  it('the client refuses, before sending, a path that would leave the API base', async () => {
    const client = createGoogleClient({
      endpoints: googleEndpoints(g.oauthUrl, g.apiUrl),
      clientId: g.state.clientId,
      clientSecret: g.state.clientSecret,
      refreshToken: g.state.issueRefreshToken(),
      clock: fixedClock(BASE),
    });
    assert.deepEqual(await client.call({ method: 'GET', path: '/../../token', idempotent: true }), {
      ok: false,
      error: { reason: 'refused', retried: false },
    });
    assert.equal(g.state.requests.length, 0);
    const fine = await client.call({ method: 'GET', path: '/users/me/calendarList', idempotent: true });
    assert.ok(fine.ok);
    assert.equal(g.state.requestsTo('calendarList')[0]?.authorization?.startsWith('Bearer '), true);
  });
});
