import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startGoogleStandin, type GoogleStandin } from '../../../scripts/test-support/google-standin.js';
import { fixedClock } from '../../lib/clock.js';
import type { NewBookingEvent } from '../provider.js';
import { createGoogleProvider, type GoogleProviderOptions } from './google.js';
import { googleEndpoints } from './oauth.js';

const PRIMARY = 'alice.martin@gmail.com';
const BOOKINGS = 'c_bookings0001@group.calendar.google.com';
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 1, 8); // 2026-12-01 09:00 Paris

let g: GoogleStandin;

before(async () => {
  g = await startGoogleStandin();
});
after(async () => {
  await g.stop();
});
beforeEach(() => {
  g.state.faults.length = 0;
  g.state.freeBusyErrors.clear();
  g.state.forceInvalidGrant = false;
  g.state.requests.length = 0;
});

let seq = 0;
/** A fresh 26-char base32hex id, like Creneau's booking ids. */
function newId(): string {
  seq += 1;
  return `creneau${String(seq).padStart(4, '0')}${Date.now().toString(32)}`.slice(0, 26).padEnd(26, '0');
}

function makeProvider(over: Partial<GoogleProviderOptions> = {}) {
  const sleeps: number[] = [];
  const clock = fixedClock(T0 - 24 * HOUR);
  let reconnects = 0;
  const provider = createGoogleProvider({
    endpoints: googleEndpoints(g.oauthUrl, g.apiUrl),
    clientId: g.state.clientId,
    clientSecret: g.state.clientSecret,
    refreshToken: g.state.issueRefreshToken(),
    bookingCalendarId: BOOKINGS,
    conflictCalendarIds: [PRIMARY],
    clock,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onNeedsReconnect: () => {
      reconnects += 1;
    },
    ...over,
  });
  return { provider, sleeps, clock, reconnects: () => reconnects };
}

function booking(over: Partial<NewBookingEvent> = {}): NewBookingEvent {
  return {
    id: newId(),
    start: T0 + 2 * HOUR,
    end: T0 + 2.5 * HOUR,
    timeZone: 'Europe/Paris',
    summary: 'Haircut — Jeanne Dupont',
    description: 'Note: short please\nCancel: https://booking.example.com/b/x.y/cancel',
    location: '12 rue de la Paix, Paris',
    organizer: { name: 'Alice Martin', email: PRIMARY },
    attendee: { name: 'Jeanne Dupont', email: 'jeanne@example.org' },
    serviceSlug: 'haircut',
    ...over,
  };
}

function stored(id: string) {
  const ev = g.state.events.get(BOOKINGS)?.get(id);
  assert.ok(ev, `event ${id} should exist in the stand-in`);
  return ev;
}

const day = { start: T0, end: T0 + 10 * HOUR };

describe('listCalendars', () => {
  it('lists every calendar with its display name and whether we may write to it', async () => {
    const { provider } = makeProvider();
    const res = await provider.listCalendars();
    assert.ok(res.ok);
    const byId = new Map(res.value.map((c) => [c.id, c]));
    assert.deepEqual(byId.get(PRIMARY), { id: PRIMARY, name: PRIMARY, writable: true, primary: true });
    assert.deepEqual(byId.get(BOOKINGS), { id: BOOKINGS, name: 'Bookings', writable: true, primary: false });
    assert.equal(byId.get('fr.french#holiday@group.v.calendar.google.com')?.writable, false);
    assert.equal(byId.get('bob.colleague@gmail.com')?.name, 'Bob');
    assert.equal(byId.get('bob.colleague@gmail.com')?.writable, false);
  });
});

describe('busy', () => {
  it('merges opaque events of the conflict and booking calendars, clipped to the range', async () => {
    g.state.addEvent(PRIMARY, { start: T0 - HOUR, end: T0 + HOUR }); // starts before the range
    g.state.addEvent(PRIMARY, { start: T0 + 3 * HOUR, end: T0 + 4 * HOUR, transparent: true }); // free
    g.state.addEvent(PRIMARY, { start: T0 + 5 * HOUR, end: T0 + 6 * HOUR, status: 'cancelled' });
    g.state.addEvent(BOOKINGS, { start: T0 + 0.5 * HOUR, end: T0 + 1.5 * HOUR });
    g.state.addEvent(BOOKINGS, { start: T0 + 7 * HOUR, end: T0 + 8 * HOUR, status: 'tentative' });
    const { provider } = makeProvider();
    const res = await provider.busy(day);
    assert.deepEqual(res, {
      ok: true,
      busy: [
        { start: T0, end: T0 + 1.5 * HOUR },
        { start: T0 + 7 * HOUR, end: T0 + 8 * HOUR },
      ],
    });
    const [q] = g.state.requestsTo('freeBusy');
    assert.deepEqual((q?.body as { items: unknown }).items, [{ id: BOOKINGS }, { id: PRIMARY }]);
  });

  it('fails closed when freeBusy reports an error for any calendar', async () => {
    const { provider } = makeProvider();
    g.state.freeBusyErrors.set(PRIMARY, 'notFound');
    assert.deepEqual(await provider.busy(day), { ok: false, reason: 'unauthorized' });
    g.state.freeBusyErrors.set(PRIMARY, 'internalError');
    assert.deepEqual(await provider.busy(day), { ok: false, reason: 'unreachable' });
    g.state.freeBusyErrors.clear();
    const { provider: gone } = makeProvider({ conflictCalendarIds: ['deleted-calendar@group.calendar.google.com'] });
    assert.deepEqual(await gone.busy(day), { ok: false, reason: 'unauthorized' });
  });

  it('fails closed on a garbled, oversized or slow answer', async () => {
    const { provider } = makeProvider();
    g.state.inject({ kind: 'garbage', route: 'freeBusy' });
    assert.deepEqual(await provider.busy(day), { ok: false, reason: 'malformed' });
    g.state.inject({ kind: 'oversize', route: 'freeBusy' });
    assert.deepEqual(await provider.busy(day), { ok: false, reason: 'malformed' });
    const { provider: impatient } = makeProvider({ timeoutMs: 300 });
    assert.ok((await impatient.busy(day)).ok); // token fetched before the slow answer
    g.state.inject({ kind: 'slow', route: 'freeBusy', delayMs: 1500 });
    assert.deepEqual(await impatient.busy(day), { ok: false, reason: 'timeout' });
    assert.ok((await impatient.busy(day)).ok);
  });
});

describe('access token', () => {
  it('is cached until it nearly expires, then refreshed', async () => {
    const { provider, clock } = makeProvider();
    assert.ok((await provider.busy(day)).ok);
    assert.ok((await provider.listCalendars()).ok);
    assert.equal(g.state.requestsTo('token').length, 1);
    clock.advance(3599_000 - 30_000); // inside the safety margin
    assert.ok((await provider.busy(day)).ok);
    assert.equal(g.state.requestsTo('token').length, 2);
  });

  it('is refreshed once when Google answers 401, and the call still succeeds', async () => {
    const { provider } = makeProvider();
    assert.ok((await provider.busy(day)).ok);
    g.state.expireAccessTokens();
    assert.ok((await provider.busy(day)).ok);
    assert.equal(g.state.requestsTo('token').length, 2);
    assert.equal(g.state.requestsTo('freeBusy').length, 3); // ok, 401, ok
  });

  it('reports needs_reconnect on invalid_grant, calls back once and stops asking Google', async () => {
    const { provider, reconnects } = makeProvider();
    g.state.forceInvalidGrant = true;
    assert.deepEqual(await provider.busy(day), { ok: false, reason: 'needs_reconnect' });
    assert.deepEqual(await provider.createEvent(booking()), { ok: false, reason: 'needs_reconnect' });
    assert.equal(reconnects(), 1);
    assert.equal(g.state.requestsTo('token').length, 1);
    assert.equal(g.state.requestsTo('freeBusy').length, 0);
  });

  it('reports needs_reconnect when the refresh token was revoked', async () => {
    const { provider, reconnects } = makeProvider();
    for (const t of g.state.refreshTokens.values()) t.revoked = true;
    assert.deepEqual(await provider.listCalendars(), { ok: false, reason: 'needs_reconnect' });
    assert.equal(reconnects(), 1);
  });
});

describe('rate limits', () => {
  for (const kind of ['rate_limit_429', 'rate_limit_403', 'user_rate_limit_403'] as const) {
    it(`backs off with jitter on ${kind}, then succeeds`, async () => {
      const { provider, sleeps } = makeProvider();
      g.state.inject({ kind, route: 'freeBusy', times: 2 });
      assert.ok((await provider.busy(day)).ok);
      assert.equal(sleeps.length, 2);
      assert.ok(sleeps.every((ms) => ms > 0 && ms <= 1500));
      assert.equal(g.state.requestsTo('freeBusy').length, 3);
    });
  }

  it('gives up with rate_limited within the waiting budget', async () => {
    const { provider, sleeps } = makeProvider();
    g.state.inject({ kind: 'rate_limit_429', route: 'freeBusy', times: 100 });
    assert.deepEqual(await provider.busy(day), { ok: false, reason: 'rate_limited' });
    assert.ok(sleeps.length >= 2);
    assert.ok(sleeps.reduce((a, b) => a + b, 0) <= 3000);
    // Exponential: later waits are not shorter than the first one's floor.
    assert.ok((sleeps[sleeps.length - 1] ?? 0) >= (sleeps[0] ?? 0) / 2);
  });

  it('does not wait when Retry-After exceeds the budget, and never waits out a daily quota', async () => {
    const { provider, sleeps } = makeProvider();
    g.state.inject({ kind: 'rate_limit_429', route: 'freeBusy', retryAfter: 60 });
    assert.deepEqual(await provider.busy(day), { ok: false, reason: 'rate_limited' });
    g.state.inject({ kind: 'quota_403', route: 'freeBusy' });
    assert.deepEqual(await provider.busy(day), { ok: false, reason: 'rate_limited' });
    assert.deepEqual(sleeps, []);
  });
});

describe('server errors', () => {
  it('retries an idempotent call twice, then succeeds', async () => {
    const { provider } = makeProvider();
    g.state.inject({ kind: 'server_error', route: 'freeBusy', times: 2 });
    assert.ok((await provider.busy(day)).ok);
    assert.equal(g.state.requestsTo('freeBusy').length, 3);
  });

  it('gives up with unreachable after two retries', async () => {
    const { provider } = makeProvider();
    g.state.inject({ kind: 'unavailable', route: 'calendarList', times: 5 });
    assert.deepEqual(await provider.listCalendars(), { ok: false, reason: 'unreachable' });
    assert.equal(g.state.requestsTo('calendarList').length, 3);
  });

  it('never repeats a move after a 5xx', async () => {
    const { provider } = makeProvider();
    const ev = booking();
    const created = await provider.createEvent(ev);
    assert.ok(created.ok);
    g.state.inject({ kind: 'server_error', route: 'events.patch', times: 3 });
    assert.deepEqual(await provider.moveEvent(ev.id, ev.start + HOUR, ev.end + HOUR, created.value.etag), {
      ok: false,
      reason: 'unreachable',
    });
    assert.equal(g.state.requestsTo('events.patch').length, 1);
  });
});

describe('events', () => {
  it('creates the event under our id, with the client invited and Google sending the invitation', async () => {
    const { provider } = makeProvider();
    const ev = booking();
    const res = await provider.createEvent(ev);
    assert.ok(res.ok);
    const s = stored(ev.id);
    assert.equal(res.value.etag, s.etag);
    assert.equal(s.status, 'confirmed');
    assert.equal(s.summary, ev.summary);
    assert.equal(Date.parse(s.start.dateTime ?? ''), ev.start);
    assert.equal(Date.parse(s.end.dateTime ?? ''), ev.end);
    assert.equal(s.start.timeZone, 'Europe/Paris');
    assert.deepEqual(s.attendees, [{ email: 'jeanne@example.org', displayName: 'Jeanne Dupont', responseStatus: 'needsAction' }]);
    assert.deepEqual(s.extendedProperties, { private: { creneau: '1', creneauService: 'haircut' } });
    assert.deepEqual(s.reminders, { useDefault: true });
    const [insert] = g.state.requestsTo('events.insert');
    assert.equal(insert?.query.get('sendUpdates'), 'all');
    assert.equal(provider.serverSchedules, true);
  });

  it('answers conflict when the id already exists', async () => {
    const { provider } = makeProvider();
    const ev = booking();
    assert.ok((await provider.createEvent(ev)).ok);
    assert.deepEqual(await provider.createEvent(ev), { ok: false, reason: 'conflict' });
  });

  it('treats a 409 after a lost answer as success when the event is ours', async () => {
    const { provider } = makeProvider();
    const ev = booking();
    g.state.inject({ kind: 'server_error', route: 'events.insert', afterHandling: true });
    const res = await provider.createEvent(ev);
    assert.ok(res.ok, JSON.stringify(res));
    assert.equal(res.value.etag, stored(ev.id).etag);
    assert.equal(g.state.requestsTo('events.insert').length, 2);
    assert.equal(stored(ev.id).attendees?.[0]?.email, ev.attendee.email);
  });

  it('still answers conflict after a 5xx when the existing event is someone else’s booking', async () => {
    const { provider } = makeProvider();
    const first = booking();
    assert.ok((await provider.createEvent(first)).ok);
    g.state.inject({ kind: 'server_error', route: 'events.insert' });
    const other = { ...booking(), id: first.id, attendee: { name: 'Paul', email: 'paul@example.org' } };
    assert.deepEqual(await provider.createEvent(other), { ok: false, reason: 'conflict' });
  });

  it('reads a booking back', async () => {
    const { provider } = makeProvider();
    const ev = booking();
    assert.ok((await provider.createEvent(ev)).ok);
    const res = await provider.getEvent(ev.id);
    assert.ok(res.ok);
    assert.deepEqual(res.value, {
      id: ev.id,
      start: ev.start,
      end: ev.end,
      timeZone: 'Europe/Paris',
      summary: ev.summary,
      description: ev.description,
      location: ev.location,
      organizer: { name: 'Bookings', email: BOOKINGS },
      attendee: ev.attendee,
      serviceSlug: 'haircut',
      cancelled: false,
      etag: stored(ev.id).etag,
      sequence: 0,
    });
    assert.deepEqual(await provider.getEvent(newId()), { ok: false, reason: 'not_found' });
  });

  it('moves only with the current etag, bumping the sequence and notifying the client', async () => {
    const { provider } = makeProvider();
    const ev = booking();
    const created = await provider.createEvent(ev);
    assert.ok(created.ok);
    assert.deepEqual(await provider.moveEvent(ev.id, ev.start + HOUR, ev.end + HOUR, '"1234"'), {
      ok: false,
      reason: 'precondition_failed',
    });
    assert.equal(Date.parse(stored(ev.id).start.dateTime ?? ''), ev.start);

    const moved = await provider.moveEvent(ev.id, ev.start + HOUR, ev.end + HOUR, created.value.etag);
    assert.ok(moved.ok);
    const back = await provider.getEvent(ev.id);
    assert.ok(back.ok);
    assert.equal(back.value.start, ev.start + HOUR);
    assert.equal(back.value.end, ev.end + HOUR);
    assert.equal(back.value.timeZone, 'Europe/Paris');
    assert.equal(back.value.sequence, 1);
    assert.equal(back.value.etag, moved.value.etag);
    const [patch] = g.state.requestsTo('events.patch');
    assert.equal(patch?.ifMatch, created.value.etag);
    assert.equal(patch?.query.get('sendUpdates'), 'all');
  });

  it('answers precondition_failed when the event changes between our read and our write', async () => {
    const ev = booking();
    // A fetch that lets someone edit the event in Google just before our PATCH leaves.
    const racing: typeof fetch = async (input, init) => {
      if (init?.method === 'PATCH') stored(ev.id).etag = '"9999999999999999"';
      return fetch(input, init);
    };
    const { provider } = makeProvider({ fetch: racing });
    const created = await provider.createEvent(ev);
    assert.ok(created.ok);
    assert.deepEqual(await provider.moveEvent(ev.id, ev.start + HOUR, ev.end + HOUR, created.value.etag), {
      ok: false,
      reason: 'precondition_failed',
    });
    assert.equal(Date.parse(stored(ev.id).start.dateTime ?? ''), ev.start);
  });

  it('deletes with a notification; afterwards the booking is not found', async () => {
    const { provider } = makeProvider();
    const ev = booking();
    assert.ok((await provider.createEvent(ev)).ok);
    assert.deepEqual(await provider.cancelEvent(ev.id), { ok: true, value: null });
    assert.equal(stored(ev.id).status, 'cancelled');
    assert.equal(g.state.requestsTo('events.delete')[0]?.query.get('sendUpdates'), 'all');
    assert.deepEqual(await provider.getEvent(ev.id), { ok: false, reason: 'not_found' });
    assert.deepEqual(await provider.cancelEvent(ev.id), { ok: false, reason: 'not_found' });
    assert.deepEqual(await provider.cancelEvent(newId()), { ok: false, reason: 'not_found' });
    // And the id can never be booked again.
    assert.deepEqual(await provider.createEvent(ev), { ok: false, reason: 'conflict' });
  });
});

describe('bookings', () => {
  it('lists only live Creneau events overlapping the range', async () => {
    const { provider } = makeProvider();
    const base = Date.UTC(2027, 0, 4, 8);
    const range = { start: base, end: base + 24 * HOUR };
    const inRange = booking({ start: base + HOUR, end: base + 2 * HOUR, serviceSlug: 'massage' });
    const outside = booking({ start: base + 30 * HOUR, end: base + 31 * HOUR });
    const cancelled = booking({ start: base + 3 * HOUR, end: base + 4 * HOUR });
    for (const e of [inRange, outside, cancelled]) assert.ok((await provider.createEvent(e)).ok);
    assert.ok((await provider.cancelEvent(cancelled.id)).ok);
    g.state.addEvent(BOOKINGS, { start: base + 5 * HOUR, end: base + 6 * HOUR, summary: 'Dentist' });
    g.state.addEvent(BOOKINGS, {
      start: base + 6 * HOUR,
      end: base + 7 * HOUR,
      privateProps: { creneauService: 'haircut' }, // someone else's property, without our mark
    });

    const res = await provider.bookings(range);
    assert.deepEqual(res, {
      ok: true,
      value: [{ id: inRange.id, start: inRange.start, end: inRange.end, serviceSlug: 'massage', attendeeEmail: 'jeanne@example.org' }],
    });
    const [list] = g.state.requestsTo('events.list');
    assert.deepEqual(list?.query.getAll('privateExtendedProperty'), ['creneau=1']);
    assert.equal(list?.query.get('singleEvents'), 'true');
    assert.equal(list?.query.get('timeMin'), new Date(range.start).toISOString());
    assert.equal(list?.query.get('timeMax'), new Date(range.end).toISOString());
  });

  it('fails closed instead of answering with part of the list', async () => {
    const { provider } = makeProvider();
    g.state.inject({ kind: 'garbage', route: 'events.list' });
    assert.deepEqual(await provider.bookings(day), { ok: false, reason: 'malformed' });
  });
});

describe('outbound requests', () => {
  it('only ever reach the configured endpoints, and a redirect elsewhere is not followed', async () => {
    let trapped = 0;
    const trap = createServer((_req, res) => {
      trapped += 1;
      res.end('{}');
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}/steal`;
    try {
      const seen: string[] = [];
      const recording: typeof fetch = (input, init) => {
        seen.push(input instanceof Request ? input.url : String(input));
        return fetch(input, init);
      };
      const { provider } = makeProvider({ fetch: recording });
      const ev = booking();
      assert.ok((await provider.listCalendars()).ok);
      assert.ok((await provider.busy(day)).ok);
      const created = await provider.createEvent(ev);
      assert.ok(created.ok);
      assert.ok((await provider.getEvent(ev.id)).ok);
      assert.ok((await provider.moveEvent(ev.id, ev.start + HOUR, ev.end + HOUR, created.value.etag)).ok);
      assert.ok((await provider.bookings(day)).ok);
      assert.ok((await provider.cancelEvent(ev.id)).ok);
      g.state.inject({ kind: 'redirect', route: 'freeBusy', location: trapUrl, times: 5 });
      assert.deepEqual(await provider.busy(day), { ok: false, reason: 'unreachable' });
      g.state.expireAccessTokens();
      assert.ok((await provider.listCalendars()).ok);

      assert.equal(trapped, 0);
      assert.ok(seen.length >= 9);
      const { apiUrl, tokenUrl } = googleEndpoints(g.oauthUrl, g.apiUrl);
      for (const url of seen) {
        assert.ok(url === tokenUrl || url.startsWith(`${apiUrl}/`), `unexpected request to ${url}`);
      }
      // Everything the stand-in received was asked for through the recorded fetch.
      assert.equal(g.state.requests.length, seen.length);
    } finally {
      await new Promise<void>((resolve) => trap.close(() => resolve()));
    }
  });
});
