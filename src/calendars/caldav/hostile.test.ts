import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createCaldavProvider, discoverCaldav } from './caldav.js';
import { insertStaff } from '../../accounts/accounts.repo.js';
import { insertService } from '../../catalog/catalog.repo.js';
import { defaultFields } from '../../catalog/catalog.js';
import { openRules, startWorld } from '../../../scripts/test-support/world.js';
import type { World } from '../../../scripts/test-support/world.js';
import { hiddenValue, startTestApp } from '../../../scripts/test-support/app.js';
import { setupOwner } from '../../accounts/test-helpers.js';
import type { Command, Mode, Seen } from './hostile-server.js';

/**
 * CalDAV servers written to hurt (issue #13): impossible rules, endless fine-grained series,
 * absurdly deep XML, endless and trickling answers, incomplete listings, other origins and
 * impossible dates. Each must fail closed for its own calendar only, quickly, while everyone
 * else is served as usual and no credential leaves the origin the staff member entered.
 */

interface Hostile {
  readonly origin: string;
  readonly url: string;
  /** Sets the behaviour (and, with `reset`, zeroes the counters); answers what was seen so far. */
  set(c: Command): Promise<Seen>;
  seen(): Promise<Seen>;
}

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.disconnect();
});

/** Starts a hostile server in its own process (hostile-server.ts). */
async function startHostile(): Promise<Hostile> {
  const child = fork(fileURLToPath(new URL('./hostile-server.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', () => reject(new Error('the hostile server did not start')));
  });
  let queue = Promise.resolve<Seen>({ requests: 0, withAuth: 0, endlessSent: 0 });
  const set = (c: Command): Promise<Seen> => {
    queue = queue.then(() => new Promise<Seen>((resolve) => {
      child.once('message', (m: { seen: Seen }) => resolve(m.seen));
      child.send(c);
    }));
    return queue;
  };
  return { origin: `http://127.0.0.1:${port}`, url: `http://127.0.0.1:${port}/`, set, seen: () => set({}) };
}

function vevent(lines: string): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//hostile//EN', 'BEGIN:VEVENT', `UID:${Math.random().toString(36).slice(2)}`, 'DTSTAMP:20260101T000000Z', lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

const RANGE = { start: Date.parse('2026-03-23T00:00:00Z'), end: Date.parse('2026-03-30T00:00:00Z') };
const NEVER = [
  'DTSTART:20260101T100000Z\r\nDTEND:20260101T110000Z\r\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30',
  'DTSTART:20260101T100000Z\r\nDTEND:20260101T110000Z\r\nRRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30',
  'DTSTART:20260101T100000Z\r\nDTEND:20260101T110000Z\r\nRRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6',
  'DTSTART:20260101T100000Z\r\nDTEND:20260101T110000Z\r\nRRULE:FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31;BYHOUR=10',
  'DTSTART:20260101T100000Z\r\nDTEND:20260101T110000Z\r\nRRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30',
];
const EVERY_SECOND = 'DTSTART:20200101T000000Z\r\nDURATION:PT1S\r\nRRULE:FREQ=SECONDLY';
const EVERY_MINUTE = 'DTSTART:20200101T000000Z\r\nDURATION:PT30S\r\nRRULE:FREQ=MINUTELY';
const OUT_OF_RANGE = [
  'DTSTART:20261301T100000Z\r\nDTEND:20261301T110000Z',
  'DTSTART:20260324T991000Z\r\nDTEND:20260324T993000Z',
  'DTSTART;VALUE=DATE:20260230\r\nDTEND;VALUE=DATE:20260231',
  'DTSTART:20260324T100000Z\r\nDTEND:20260324T110000Z\r\nEXDATE:20260324T256100Z\r\nRRULE:FREQ=DAILY;COUNT=2',
  'DTSTART:20260324T100000Z\r\nDTEND:20260324T110000Z\r\nRRULE:FREQ=DAILY;UNTIL=20261399T000000Z',
];

describe('hostile CalDAV servers, one provider at a time', () => {
  let bad: Hostile;
  let elsewhere: Hostile;
  before(async () => {
    elsewhere = await startHostile();
    bad = await startHostile();
    await bad.set({ other: elsewhere.origin });
  });
  const provider = () =>
    createCaldavProvider({ username: 'u', password: 'p', bookingCalendarUrl: `${bad.origin}/cal/`, conflictCalendarUrls: [`${bad.origin}/cal/`], allowHosts: ['127.0.0.1'], uidHost: 'b.test', timeZone: 'UTC', origin: bad.origin });

  test('an ordinary calendar reads (the baseline the others are measured against)', async () => {
    await bad.set({ mode: { kind: 'ics', texts: [vevent('DTSTART:20260324T100000Z\r\nDTEND:20260324T110000Z')] } });
    assert.deepEqual(await provider().busy(RANGE), { ok: true, value: [{ start: Date.parse('2026-03-24T10:00:00Z'), end: Date.parse('2026-03-24T11:00:00Z') }] });
  });

  test('rules that can never match are refused, quickly', async () => {
    for (const rule of NEVER) {
      await bad.set({ mode: { kind: 'ics', texts: [vevent(rule)] } });
      const t0 = Date.now();
      assert.deepEqual(await provider().busy(RANGE), { ok: false, error: 'too_costly' }, rule);
      assert.ok(Date.now() - t0 < 5000, rule);
    }
  });

  test('every-second and every-minute series without end: too costly, not free', async () => {
    await bad.set({ mode: { kind: 'ics', texts: [vevent(EVERY_SECOND)] } });
    assert.deepEqual(await provider().busy(RANGE), { ok: false, error: 'too_costly' });
    await bad.set({ mode: { kind: 'ics', texts: Array.from({ length: 20 }, () => vevent(EVERY_MINUTE)) } });
    assert.deepEqual(await provider().busy(RANGE), { ok: false, error: 'too_costly' });
  });

  test('dates with out-of-range fields are refused, not rolled over', async () => {
    for (const lines of OUT_OF_RANGE) {
      await bad.set({ mode: { kind: 'ics', texts: [vevent('DTSTART:20260325T100000Z\r\nDTEND:20260325T110000Z'), vevent(lines)] } });
      assert.deepEqual(await provider().busy(RANGE), { ok: false, error: 'malformed' }, lines);
    }
  });

  test('200,000-deep XML is refused before it is parsed', async () => {
    await bad.set({ mode: { kind: 'deep' } });
    const t0 = Date.now();
    assert.deepEqual(await provider().busy(RANGE), { ok: false, error: 'malformed' });
    assert.ok(Date.now() - t0 < 2000);
  });

  test('an endless chunked answer is cut at the size cap', async () => {
    await bad.set({ mode: { kind: 'endless' }, reset: true });
    assert.deepEqual(await provider().busy(RANGE), { ok: false, error: 'malformed' });
    await new Promise((r) => setTimeout(r, 200));
    const { endlessSent } = await bad.seen();
    assert.ok(endlessSent > 0 && endlessSent < 64 * 1024 * 1024, `the client stopped reading (server wrote ${endlessSent} bytes)`);
  });

  test('a listing without the collection itself is a failed read, never an empty calendar', async () => {
    await bad.set({ mode: { kind: 'no-self' } });
    assert.deepEqual(await provider().busy(RANGE), { ok: false, error: 'malformed' });
  });

  test('an href or a redirect to another origin: refused, and that origin never sees a credential', async () => {
    await elsewhere.set({ reset: true });
    await bad.set({ mode: { kind: 'foreign-href' } });
    assert.deepEqual(await provider().busy(RANGE), { ok: false, error: 'malformed' });
    await bad.set({ mode: { kind: 'redirect' } });
    assert.deepEqual(await provider().busy(RANGE), { ok: false, error: 'refused' });
    await bad.set({ mode: { kind: 'foreign-principal' } });
    const found = await discoverCaldav({ url: bad.url, username: 'u', password: 'p', allowHosts: ['127.0.0.1'] });
    assert.deepEqual(found, { ok: false, error: { foreignOrigin: elsewhere.origin } });
    // A calendar stored for one origin is never read on another, even when asked to.
    const crossed = createCaldavProvider({ username: 'u', password: 'p', bookingCalendarUrl: `${elsewhere.origin}/cal/`, conflictCalendarUrls: [`${elsewhere.origin}/cal/`], allowHosts: ['127.0.0.1'], uidHost: 'b.test', timeZone: 'UTC', origin: bad.origin });
    assert.deepEqual(await crossed.busy(RANGE), { ok: false, error: 'refused' });
    assert.deepEqual(await elsewhere.seen(), { requests: 0, withAuth: 0, endlessSent: 0 });
  });

  test('an answer at one byte per second fails within the read deadline', { timeout: 20_000 }, async () => {
    await bad.set({ mode: { kind: 'trickle' } });
    const t0 = Date.now();
    assert.deepEqual(await provider().busy(RANGE), { ok: false, error: 'timeout' });
    assert.ok(Date.now() - t0 <= 10_000, `failed after ${Date.now() - t0} ms`);
  });
});

test('the staff calendar page names the other origin a server pointed to, and stores nothing', async () => {
  const elsewhere = await startHostile();
  const bad = await startHostile();
  await bad.set({ other: elsewhere.origin });
  await bad.set({ mode: { kind: 'foreign-principal' } });
  const app = await startTestApp({ CRENEAU_CALDAV_ALLOW_HOSTS: '127.0.0.1' });
  try {
    const owner = await setupOwner(app);
    const csrf = hiddenValue((await owner.get('/admin/calendar')).text, '_csrf');
    const res = await owner.post('/admin/calendar/caldav', { _csrf: csrf, url: bad.url, username: 'u', password: 'secret' });
    assert.equal(res.status, 422);
    assert.match(res.text, new RegExp(`pointed to another address \\(${elsewhere.origin.replace(/[.]/g, '\\.')}\\)`));
    assert.equal((await elsewhere.seen()).requests, 0);
    assert.match(app.deps.i18n.getFixedT('fr')('calendar:error_foreign_origin', { origin: elsewhere.origin }), new RegExp(elsewhere.origin.replace(/[.]/g, '\\.')));
  } finally {
    await app.stop();
  }
});

/**
 * Asks Alice's slot picker and /healthz, one after the other, for at least `ms` and until `done`
 * settles; every answer must be a 200. Returns the latencies (also pushed into `into`).
 */
async function probeFor(base: string, ms: number, done: () => Promise<unknown>, into: number[] = []): Promise<number[]> {
  let stop = false;
  const end = Promise.all([new Promise((r) => setTimeout(r, ms)), done()]).then(() => (stop = true));
  while (!stop) {
    for (const path of ['/healthz', `/@alice/haircut/slots?from=${dayAhead(1)}&to=${dayAhead(3)}`]) {
      const t0 = performance.now();
      const res = await fetch(`${base}${path}`);
      await res.arrayBuffer();
      into.push(performance.now() - t0);
      assert.equal(res.status, 200, path);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await end;
  return into;
}

/** A date `n` days from now (UTC), as the pages take it. */
function dayAhead(n: number): string {
  return new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
}

/** p99 of a list of durations. */
function p99(ms: readonly number[]): number {
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
}

describe('hostile CalDAV servers in the running appliance', () => {
  let world: World;
  let bad: Hostile;
  let elsewhere: Hostile;
  before(async () => {
    world = await startWorld();
    elsewhere = await startHostile();
    bad = await startHostile();
    await bad.set({ other: elsewhere.origin });
    await bad.set({ mode: { kind: 'ics', texts: [] } });
    const bob = await insertStaff(world.deps.db, { username: 'bob', displayName: 'Bob', email: 'bob@salon.test', passwordHash: null, locale: 'en', timeZone: 'Europe/Paris', isOwner: false }, Date.now());
    await insertService(world.deps.db, bob, { slug: 'shave', title: 'Shave', description: '', location: '', rules: openRules(), fields: defaultFields(), active: true }, Date.now());
    const connected = await world.deps.calendars.connectCaldav(bob, { url: bad.url, username: 'bob', password: 'bob-secret' });
    assert.ok(connected.ok, JSON.stringify(connected));
    // Alice's pages are warm (templates compiled, her calendar read once), as in a running appliance.
    // Bob's too, so the worker threads have started (a fresh pool loads its code once).
    for (const path of ['/healthz', `/@alice/haircut/slots?from=${dayAhead(1)}&to=${dayAhead(3)}`, `/@bob/shave/slots?from=${dayAhead(28)}&to=${dayAhead(29)}`]) {
      assert.equal((await fetch(`${world.url}${path}`)).status, 200, path);
    }
  });
  after(async () => {
    await world.stop();
  });

  const scenarios: [string, Mode][] = [
    ['a rule that never matches', { kind: 'ics', texts: [vevent(NEVER[1] ?? '')] }],
    ['an every-second series without end', { kind: 'ics', texts: [vevent(EVERY_SECOND)] }],
    ['every-minute series without end', { kind: 'ics', texts: Array.from({ length: 20 }, () => vevent(EVERY_MINUTE)) }],
    ['200,000-deep XML', { kind: 'deep' }],
    ['an endless chunked answer', { kind: 'endless' }],
    ['a listing without the collection', { kind: 'no-self' }],
    ['an href on another origin', { kind: 'foreign-href' }],
    ['a redirect to another origin', { kind: 'redirect' }],
    ['dates with out-of-range fields', { kind: 'ics', texts: [vevent(OUT_OF_RANGE[0] ?? '')] }],
    ['an answer at one byte per second', { kind: 'trickle' }],
  ];

  for (const [name, mode] of scenarios) {
    test(`${name}: Bob gets no slots within 10 s; Alice and /healthz answer with p99 < 100 ms`, { timeout: 60_000 }, async () => {
      await bad.set({ mode });
      await elsewhere.set({ reset: true });
      const day = dayAhead;
      // What this machine shows with nothing hostile going on (a shared CI machine can be slow):
      // the bound below is 100 ms beyond it, which on a quiet machine is the 100 ms itself.
      const baseline = await probeFor(world.url, 1000, () => Promise.resolve());
      const latencies: number[] = [];
      // Probes run for at least two seconds, so that p99 is taken over enough requests.
      const minimum = new Promise((r) => setTimeout(r, 2000));
      const probe = probeFor(world.url, 0, () => minimum.then(() => until), latencies);
      let release: () => void = () => undefined;
      const until = new Promise<void>((r) => (release = r));
      const t0 = Date.now();
      // 20 visitors ask for Bob's slots over ranges nobody asked for before (a length per scenario).
      const length = scenarios.findIndex(([n]) => n === name);
      const answers = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const res = await fetch(`${world.url}/@bob/shave/slots?from=${day(1 + i)}&to=${day(1 + i + length)}`);
          return { status: res.status, body: await res.text(), at: Date.now() - t0 };
        }),
      );
      const page = await fetch(`${world.url}/@bob/shave?from=${day(21 + length)}`);
      const html = await page.text();
      release();
      await probe;
      for (const a of answers) {
        assert.equal(a.status, 503, `${name}: ${a.body}`);
        assert.ok(a.at <= 10_000, `${name}: answered after ${a.at} ms`);
      }
      assert.match(html, /temporarily unavailable/);
      assert.ok(latencies.length >= 10, `${latencies.length} probes`);
      assert.ok(p99(latencies) < 100 + p99(baseline), `${name}: p99 ${p99(latencies).toFixed(1)} ms over ${latencies.length} requests (quiet: ${p99(baseline).toFixed(1)} ms)`);
      assert.equal((await elsewhere.seen()).withAuth, 0, 'no credential reached the other origin');
    });
  }
});
