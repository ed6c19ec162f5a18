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
      value: [
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
    assert.deepEqual(await provider.busy(day), { ok: false, error: 'unauthorized' });
    g.state.freeBusyErrors.set(PRIMARY, 'internalError');
    assert.deepEqual(await provider.busy(day), { ok: false, error: 'unreachable' });
    g.state.freeBusyErrors.clear();
    const { provider: gone } = makeProvider({ conflictCalendarIds: ['deleted-calendar@group.calendar.google.com'] });
    assert.deepEqual(await gone.busy(day), { ok: false, error: 'unauthorized' });
  });

  it('fails closed on a garbled, oversized or slow answer', async () => {
    const { provider } = makeProvider();
    g.state.inject({ kind: 'garbage', route: 'freeBusy' });
    assert.deepEqual(await provider.busy(day), { ok: false, error: 'malformed' });
    g.state.inject({ kind: 'oversize', route: 'freeBusy' });
    assert.deepEqual(await provider.busy(day), { ok: false, error: 'malformed' });
    const { provider: impatient } = makeProvider({ timeoutMs: 300 });
    assert.ok((await impatient.busy(day)).ok); // token fetched before the slow answer
    g.state.inject({ kind: 'slow', route: 'freeBusy', delayMs: 1500 });
    assert.deepEqual(await impatient.busy(day), { ok: false, error: 'timeout' });
    assert.ok((await impatient.busy(day)).ok);
  });
});

describe('busy leaving one booking out (a reschedule)', () => {
  const BOB = 'bob.colleague@gmail.com';
  const none = { exceptBookingId: 'nosuchbooking0000000000000' };

  /** A fetch that rewrites every events.list answer (Google's JSON) before the provider reads it. */
  function rewritingLists(edit: (body: { items?: unknown[]; nextPageToken?: string }) => void): typeof fetch {
    return async (input, init) => {
      const res = await fetch(input, init);
      const url = input instanceof Request ? input.url : String(input);
      if (!/\/events\?/.test(url) || res.status !== 200) return res;
      const body = (await res.json()) as { items?: unknown[]; nextPageToken?: string };
      edit(body);
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json; charset=UTF-8' } });
    };
  }

  it('leaves out exactly that event, while another event overlapping it still counts', async () => {
    const base = Date.UTC(2027, 2, 1, 8);
    const range = { start: base, end: base + 10 * HOUR };
    const { provider } = makeProvider();
    assert.equal(provider.excludesFromBusy, true);
    const mine = booking({ start: base + 2 * HOUR, end: base + 3 * HOUR });
    assert.ok((await provider.createEvent(mine)).ok);
    g.state.addEvent(BOOKINGS, { start: base + 2.5 * HOUR, end: base + 3.5 * HOUR, summary: 'Supplier visit' });
    g.state.addEvent(PRIMARY, { start: base + 5 * HOUR, end: base + 6 * HOUR, status: 'tentative' });
    g.state.addEvent(PRIMARY, { start: base + 7 * HOUR, end: base + 8 * HOUR, eventType: 'outOfOffice' });
    g.state.addEvent(PRIMARY, { start: base - HOUR, end: base + 0.5 * HOUR }); // clipped to the range
    g.state.requests.length = 0;

    const res = await provider.busy(range, { exceptBookingId: mine.id });
    assert.deepEqual(res, {
      ok: true,
      value: [
        { start: base, end: base + 0.5 * HOUR },
        { start: base + 2.5 * HOUR, end: base + 3.5 * HOUR },
        { start: base + 5 * HOUR, end: base + 6 * HOUR },
        { start: base + 7 * HOUR, end: base + 8 * HOUR },
      ],
    });
    assert.equal(g.state.requestsTo('freeBusy').length, 0);
    const lists = g.state.requestsTo('events.list');
    assert.deepEqual(lists.map((r) => decodeURIComponent(r.path.split('/')[4] ?? '')), [BOOKINGS, PRIMARY]);
    for (const r of lists) {
      assert.equal(r.query.get('singleEvents'), 'true');
      assert.equal(r.query.get('showDeleted'), 'false');
      assert.ok(Date.parse(r.query.get('timeMin') ?? '') <= range.start);
      assert.ok(Date.parse(r.query.get('timeMax') ?? '') >= range.end);
    }

    // Without an exception, freeBusy as before: the booking and the overlapping event merge.
    const all = await provider.busy(range);
    assert.deepEqual(all.ok && all.value[1], { start: base + 2 * HOUR, end: base + 3.5 * HOUR });
    assert.equal(g.state.requestsTo('freeBusy').length, 1);
  });

  it('counts transparent and cancelled events as free', async () => {
    const base = Date.UTC(2027, 2, 8, 8);
    const range = { start: base, end: base + 10 * HOUR };
    g.state.addEvent(PRIMARY, { start: base + HOUR, end: base + 2 * HOUR, transparent: true });
    g.state.addEvent(BOOKINGS, { start: base + 3 * HOUR, end: base + 4 * HOUR, status: 'cancelled' });
    g.state.addEvent(BOOKINGS, { start: base + 5 * HOUR, end: base + 6 * HOUR });
    // Google may still hand out cancelled instances, some with nothing but id and status.
    const fetchWithCancelled = rewritingLists((body) => {
      body.items = [
        ...(body.items ?? []),
        { kind: 'calendar#event', etag: '"3426112345678000"', id: 'cancelledinstance001', status: 'cancelled' },
        {
          kind: 'calendar#event',
          etag: '"3426112345679000"',
          id: 'cancelledinstance002',
          status: 'cancelled',
          start: { dateTime: '2027-03-08T10:00:00+01:00', timeZone: 'Europe/Paris' },
          end: { dateTime: '2027-03-08T16:00:00+01:00', timeZone: 'Europe/Paris' },
        },
      ];
    });
    const { provider } = makeProvider({ fetch: fetchWithCancelled });
    assert.deepEqual(await provider.busy(range, none), { ok: true, value: [{ start: base + 5 * HOUR, end: base + 6 * HOUR }] });
  });

  it('blocks an all-day event from local midnight to local midnight in the staff zone', async () => {
    const range = { start: Date.UTC(2027, 2, 14), end: Date.UTC(2027, 2, 19) };
    g.state.addEvent(PRIMARY, { allDay: { start: '2027-03-16', end: '2027-03-17' }, summary: 'Day off' });
    const { provider: newYork } = makeProvider({ timeZone: 'America/New_York' });
    assert.deepEqual(await newYork.busy(range, none), {
      ok: true,
      value: [{ start: Date.UTC(2027, 2, 16, 4), end: Date.UTC(2027, 2, 17, 4) }], // EDT, UTC−4
    });
    // No staff zone given: the calendar's own zone (Europe/Paris, UTC+1 in March) is used.
    const { provider: calendarZone } = makeProvider();
    assert.deepEqual(await calendarZone.busy(range, none), {
      ok: true,
      value: [{ start: Date.UTC(2027, 2, 15, 23), end: Date.UTC(2027, 2, 16, 23) }],
    });
    // An all-day date that cannot be placed is unknown time.
    const { provider: bad } = makeProvider({
      fetch: rewritingLists((body) => {
        body.items = [{ kind: 'calendar#event', etag: '"1"', id: 'baddate000001', status: 'confirmed', start: { date: '2027-02-30x' }, end: { date: '2027-03-01' } }];
      }),
    });
    assert.deepEqual(await bad.busy(range, none), { ok: false, error: 'malformed' });
  });

  it('fails closed when events.list fails, and never falls back for the booking calendar', async () => {
    const range = { start: Date.UTC(2027, 2, 20, 8), end: Date.UTC(2027, 2, 20, 18) };
    const { provider } = makeProvider();
    g.state.inject({ kind: 'server_error', route: 'events.list', times: 3 });
    assert.deepEqual(await provider.busy(range, none), { ok: false, error: 'unreachable' });
    g.state.inject({ kind: 'garbage', route: 'events.list' });
    assert.deepEqual(await provider.busy(range, none), { ok: false, error: 'malformed' });
    g.state.inject({ kind: 'quota_403', route: 'events.list' });
    assert.deepEqual(await provider.busy(range, none), { ok: false, error: 'rate_limited' });
    const { provider: gone } = makeProvider({ bookingCalendarId: 'deleted-calendar@group.calendar.google.com' });
    assert.deepEqual(await gone.busy(range, none), { ok: false, error: 'unauthorized' });
    assert.ok((await provider.busy(range, none)).ok);
  });

  it('reads a free/busy-only calendar through freeBusy, still failing closed', async () => {
    const base = Date.UTC(2027, 2, 20, 8);
    const range = { start: base, end: base + 10 * HOUR };
    g.state.addEvent(BOB, { start: base + HOUR, end: base + 2 * HOUR });
    const { provider } = makeProvider({ conflictCalendarIds: [PRIMARY, BOB] });
    assert.deepEqual(await provider.busy(range, none), { ok: true, value: [{ start: base + HOUR, end: base + 2 * HOUR }] });
    const [fb] = g.state.requestsTo('freeBusy');
    assert.deepEqual((fb?.body as { items: unknown }).items, [{ id: BOB }]);
    g.state.freeBusyErrors.set(BOB, 'internalError');
    assert.deepEqual(await provider.busy(range, none), { ok: false, error: 'unreachable' });
  });

  it('follows pageToken through every page, and refuses an endless listing', async () => {
    const base = Date.UTC(2027, 2, 25, 7);
    const range = { start: base, end: base + 12 * HOUR };
    const minute = 60_000;
    const expected: { start: number; end: number }[] = [];
    for (let i = 0; i < 260; i += 1) {
      const start = base + i * 2 * minute;
      g.state.addEvent(PRIMARY, { start, end: start + minute });
      expected.push({ start, end: start + minute });
    }
    const { provider } = makeProvider();
    assert.deepEqual(await provider.busy(range, none), { ok: true, value: expected });
    const primaryLists = g.state.requestsTo('events.list').filter((r) => r.path.includes(encodeURIComponent(PRIMARY)));
    assert.equal(primaryLists.length, 2);
    assert.equal(primaryLists[0]?.query.get('pageToken'), null);
    assert.ok(primaryLists[1]?.query.get('pageToken'));

    const { provider: endless } = makeProvider({
      fetch: rewritingLists((body) => {
        body.nextPageToken = 'MjUw';
      }),
    });
    g.state.requests.length = 0;
    assert.deepEqual(await endless.busy(range, none), { ok: false, error: 'malformed' });
    assert.ok(g.state.requestsTo('events.list').length <= 20);
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
    assert.deepEqual(await provider.busy(day), { ok: false, error: 'needs_reconnect' });
    assert.deepEqual(await provider.createEvent(booking()), { ok: false, error: 'needs_reconnect' });
    assert.equal(reconnects(), 1);
    assert.equal(g.state.requestsTo('token').length, 1);
    assert.equal(g.state.requestsTo('freeBusy').length, 0);
  });

  it('reports needs_reconnect when the refresh token was revoked', async () => {
    const { provider, reconnects } = makeProvider();
    for (const t of g.state.refreshTokens.values()) t.revoked = true;
    assert.deepEqual(await provider.listCalendars(), { ok: false, error: 'needs_reconnect' });
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
    assert.deepEqual(await provider.busy(day), { ok: false, error: 'rate_limited' });
    assert.ok(sleeps.length >= 2);
    assert.ok(sleeps.reduce((a, b) => a + b, 0) <= 3000);
    // Exponential: later waits are not shorter than the first one's floor.
    assert.ok((sleeps[sleeps.length - 1] ?? 0) >= (sleeps[0] ?? 0) / 2);
  });

  it('does not wait when Retry-After exceeds the budget, and never waits out a daily quota', async () => {
    const { provider, sleeps } = makeProvider();
    g.state.inject({ kind: 'rate_limit_429', route: 'freeBusy', retryAfter: 60 });
    assert.deepEqual(await provider.busy(day), { ok: false, error: 'rate_limited' });
    g.state.inject({ kind: 'quota_403', route: 'freeBusy' });
    assert.deepEqual(await provider.busy(day), { ok: false, error: 'rate_limited' });
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
    assert.deepEqual(await provider.listCalendars(), { ok: false, error: 'unreachable' });
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
      error: 'unreachable',
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
    assert.deepEqual(await provider.createEvent(ev), { ok: false, error: 'conflict' });
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
    assert.deepEqual(await provider.createEvent(other), { ok: false, error: 'conflict' });
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
      created: Date.parse(stored(ev.id).created),
    });
    assert.deepEqual(await provider.getEvent(newId()), { ok: false, error: 'not_found' });
  });

  it('moves only with the current etag, bumping the sequence and notifying the client', async () => {
    const { provider } = makeProvider();
    const ev = booking();
    const created = await provider.createEvent(ev);
    assert.ok(created.ok);
    assert.deepEqual(await provider.moveEvent(ev.id, ev.start + HOUR, ev.end + HOUR, '"1234"'), {
      ok: false,
      error: 'precondition_failed',
    });
    assert.equal(Date.parse(stored(ev.id).start.dateTime ?? ''), ev.start);

    const moved = await provider.moveEvent(ev.id, ev.start + HOUR, ev.end + HOUR, created.value.etag, 'Recap at the new time');
    assert.ok(moved.ok);
    const back = await provider.getEvent(ev.id);
    assert.ok(back.ok);
    assert.equal(back.value.description, 'Recap at the new time');
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
      error: 'precondition_failed',
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
    assert.deepEqual(await provider.getEvent(ev.id), { ok: false, error: 'not_found' });
    assert.deepEqual(await provider.cancelEvent(ev.id), { ok: false, error: 'not_found' });
    assert.deepEqual(await provider.cancelEvent(newId()), { ok: false, error: 'not_found' });
    // And the id can never be booked again.
    assert.deepEqual(await provider.createEvent(ev), { ok: false, error: 'conflict' });
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
    assert.deepEqual(await provider.bookings(day), { ok: false, error: 'malformed' });
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
      assert.deepEqual(await provider.busy(day), { ok: false, error: 'refused' });
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
