import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { boot } from '../boot.js';
import type { Deps } from '../deps.js';
import { client, openForm, openRules, postForm, soon, startWorld, type World } from '../../scripts/test-support/world.js';
import { formatDate } from '../lib/time.js';
import { ReminderScan } from './reminder.service.js';
import { insertStaff } from '../accounts/accounts.repo.js';
import { insertService } from '../catalog/catalog.repo.js';
import { defaultFields } from '../catalog/catalog.js';
import { saveSettings } from '../privacy/privacy.repo.js';
import { BRAND_SETTINGS } from '../privacy/brand.js';
import { CLAIM_TTL_MS } from './reminders.js';

// Reminders end to end: the real booking form writes the event into a real Radicale (or the
// Google stand-in), the real scan reads it back and e-mails the SMTP sink. Only the scan's
// clock is chosen, to stand at the moments a reminder falls due.

const MIN = 60_000;

for (const provider of ['caldav', 'google'] as const) {
  describe(`reminders (${provider})`, () => {
    let world: World;
    before(async () => {
      world = await startWorld({ provider });
      // The lead times are the service's own (the catalog's `reminders`), as an owner sets them.
      // The business name the owner set (/admin/settings) signs the reminders.
      await saveSettings(world.deps.db, { [BRAND_SETTINGS.name]: 'Salon Alice' });
      await world.addService('massage', openRules({ durationMinutes: 60, stepMinutes: 60 }), { title: 'Massage', reminders: [1440, 120] });
    });
    after(async () => {
      await world?.stop();
    });

    /** A scan as one app process would run it, with its clock at `at`. */
    const scanAt = (deps: Deps, at: number) => new ReminderScan({ ...deps, clock: { now: () => at } }).scanOnce();

    /** Books through the public form like a client; returns the booking id. */
    async function book(start: number, n: string, opts: { lang?: string; tz?: string } = {}): Promise<string> {
      const tz = opts.tz ?? 'Europe/Paris';
      const form = await openForm(world, 'massage', start, tz);
      const res = await postForm(`${world.url}/@alice/massage/book`, { ...form, ...client(n) }, opts.lang ? { 'accept-language': opts.lang } : {});
      assert.equal(res.status, 303, `booking ${n}`);
      const token = /\/b\/([^?]+)/.exec(res.headers.get('location') ?? '')?.[1] ?? '';
      return token.split('.')[0] ?? '';
    }

    const mailsTo = (n: string) => world.smtp.mails.filter((m) => m.to === `client${n}@example.com` && /Reminder|Rappel/.test(m.subject));

    it('sends each reminder once, in the language and zone of the booking, across a restart and two processes', async () => {
      const start = soon('10:00', 3);
      await book(start, 'r1', { lang: 'fr', tz: 'America/New_York' });
      const dayBefore = start - 1440 * MIN + MIN;

      const first = await scanAt(world.deps, dayBefore);
      assert.equal(first.sent, 1);
      await world.smtp.waitFor(1);
      const [mail] = mailsTo('r1');
      assert.ok(mail, 'the reminder arrived');
      assert.match(mail.subject, /^Rappel : Massage/);
      const ny = DateTime.fromMillis(start, { zone: 'America/New_York' }); // 10:00 in Paris
      assert.match(mail.text, new RegExp(`\\b0?${ny.hour}[:h]00\\b`), `time in the client's zone: ${mail.text}`);
      assert.doesNotMatch(mail.text, /\b10[:h]00\b/, "not the staff member's time");
      assert.match(mail.text, /America\/New York/);
      assert.match(mail.text, /Alice Martin/);
      assert.match(mail.text, /\/b\/[0-9a-v]{26}\.[0-9a-v]{32}\?tz=America%2FNew_York/, 'the manage link, with the zone');
      assert.match(mail.text, /— Salon Alice/, "the business's name");
      assert.match(mail.raw, /^Auto-Submitted: auto-generated/im);
      assert.match(mail.raw, /Content-Type: text\/html/i, 'multipart with an HTML part');

      // The same process scans again; then a restarted app on the same data directory.
      assert.equal((await scanAt(world.deps, dayBefore + MIN)).sent, 0);
      const restarted = await boot(world.deps.config);
      try {
        assert.equal((await scanAt(restarted, dayBefore + 2 * MIN)).sent, 0);
        // Two processes on one calendar when the two-hour reminder falls due: one sends.
        const twoHours = start - 120 * MIN + MIN;
        const both = await Promise.all([scanAt(world.deps, twoHours), scanAt(restarted, twoHours)]);
        assert.equal(both[0].sent + both[1].sent, 1, JSON.stringify(both));
      } finally {
        await restarted.db.destroy();
      }
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(mailsTo('r1').length, 2, 'one per lead time, never twice');
    });

    it('a booking made inside a lead time gets no reminder for it', async () => {
      // The first hourly slot (09:00–16:00, today or tomorrow) between 3 hours and a day away:
      // inside the day-before lead, outside the two-hour one. There always is one.
      const now = Date.now();
      const candidates = [0, 1].flatMap((day) => [9, 10, 11, 12, 13, 14, 15, 16].map((h) => soon(`${String(h).padStart(2, '0')}:00`, day)));
      const start = candidates.find((s) => s - now > 3 * 60 * MIN && s - now < 1440 * MIN - 5 * MIN);
      assert.ok(start !== undefined, 'a slot inside the day-before lead');
      await book(start, 'r2');
      const before = world.smtp.mails.length;
      assert.equal((await scanAt(world.deps, Math.max(now, start - 1440 * MIN) + MIN)).sent, 0);
      assert.equal((await scanAt(world.deps, start - 120 * MIN + MIN)).sent, 1, 'the two-hour one still leaves');
      await world.smtp.waitFor(before + 1);
      assert.equal(mailsTo('r2').length, 1);
    });

    it('an event the staff member moved in their calendar is reminded at its new time', async () => {
      const start = soon('14:00', 4);
      const id = await book(start, 'r3');
      const moved = start + 1440 * MIN;
      await moveInCalendarApp(world, id, moved);
      assert.equal((await scanAt(world.deps, start - 1440 * MIN + MIN)).sent, 0, 'nothing at the old time');
      assert.equal((await scanAt(world.deps, moved - 1440 * MIN + MIN)).sent, 1);
      await new Promise((r) => setTimeout(r, 300));
      const [mail] = mailsTo('r3');
      assert.ok(mail?.text.includes(formatDate(moved, 'Europe/Paris', 'en')), `the new date: ${mail?.text}`);
      assert.ok(!mail?.text.includes(formatDate(start, 'Europe/Paris', 'en')), 'not the old one');
    });

    const caldavOnly = provider === 'caldav' ? false : "a second staff member's calendar is connected here through CalDAV; connecting one through the Google stand-in needs the OAuth flow, which this file does not drive";
    it('a scan reads only the calendars of staff members with a service that reminds, each once', { skip: caldavOnly }, async () => {
      assert.ok(world.dav, 'the CalDAV world has its server');
      // Bob: a calendar and a service without reminders.
      const bob = await insertStaff(world.deps.db, { username: 'bob', displayName: 'Bob', email: 'bob@salon.test', passwordHash: null, locale: 'en', timeZone: 'Europe/Paris', isOwner: false }, Date.now());
      await insertService(world.deps.db, bob, { slug: 'plain', title: 'Plain', description: '', location: '', rules: openRules(), fields: defaultFields(), active: true }, Date.now());
      await world.dav.makeCalendar('bob', 'Bob');
      const connected = await world.deps.calendars.connectCaldav(bob, { url: world.dav.url, username: world.dav.username, password: world.dav.password, booking: 'Bob' });
      assert.ok(connected.ok);
      const report = await scanAt(world.deps, Date.now());
      assert.equal(report.calendars, 1, "only Alice's calendar is read");
      assert.equal(report.unreadable, 0);
    });

    it('a booking cancelled before its reminder gets none', async () => {
      const start = soon('16:00', 6);
      const form = await openForm(world, 'massage', start);
      const res = await postForm(`${world.url}/@alice/massage/book`, { ...form, ...client('r5') });
      assert.equal(res.status, 303);
      const token = /\/b\/([^?]+)/.exec(res.headers.get('location') ?? '')?.[1] ?? '';
      assert.equal((await postForm(`${world.url}/b/${token}/cancel`, {})).status, 303);
      assert.equal((await scanAt(world.deps, start - 1440 * MIN + MIN)).sent, 0);
      assert.equal((await scanAt(world.deps, start - 120 * MIN + MIN)).sent, 0);
    });

    it('a process that died after its claim leaves the reminder to another after the claim expires: at worst once more', async () => {
      const start = soon('15:00', 5);
      const id = await book(start, 'r4');
      const due = start - 1440 * MIN + MIN;
      await claimAsIfCrashed(world, id, start, due);
      assert.equal((await scanAt(world.deps, due + MIN)).sent, 0, 'the claim holds while it is fresh');
      assert.equal((await scanAt(world.deps, due + CLAIM_TTL_MS)).sent, 1);
      assert.equal((await scanAt(world.deps, due + CLAIM_TTL_MS + MIN)).sent, 0);
    });
  });
}

/** What the staff member's calendar app does when they drag the event to another time. */
async function moveInCalendarApp(world: World, id: string, start: number): Promise<void> {
  const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  if (world.radicale && world.calendarUrl) {
    const url = new URL(`${id}.ics`, world.calendarUrl.endsWith('/') ? world.calendarUrl : `${world.calendarUrl}/`).href;
    const auth = { authorization: `Basic ${Buffer.from(`${world.radicale.username}:${world.radicale.password}`).toString('base64')}` };
    const ics = await (await fetch(url, { headers: auth })).text();
    const duration = 60 * MIN;
    const edited = ics.replace(/^DTSTART:.*$/m, `DTSTART:${stamp(start)}\r`).replace(/^DTEND:.*$/m, `DTEND:${stamp(start + duration)}\r`);
    const res = await fetch(url, { method: 'PUT', headers: { ...auth, 'content-type': 'text/calendar' }, body: edited });
    assert.ok(res.status === 201 || res.status === 204, `calendar app PUT: ${res.status}`);
    return;
  }
  const ev = googleEvent(world, id);
  ev.start = { dateTime: new Date(start).toISOString(), timeZone: 'Europe/Paris' };
  ev.end = { dateTime: new Date(start + 60 * MIN).toISOString(), timeZone: 'Europe/Paris' };
  ev.etag = `"moved-${Date.now()}"`;
}

/** A marker as a process leaves it when it dies between its claim and its "sent". */
async function claimAsIfCrashed(world: World, id: string, start: number, at: number): Promise<void> {
  const connected = await world.deps.calendars.forStaff(world.staffId, 'Europe/Paris');
  assert.ok(connected);
  const ev = await connected.provider.getEvent(id);
  assert.ok(ev.ok);
  const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  const res = await connected.provider.markReminded(id, ev.value.etag, `start=${stamp(start)} sent= claim=1440@${stamp(at)}`);
  assert.ok(res.ok);
}

function googleEvent(world: World, id: string) {
  for (const events of world.google?.state.events.values() ?? []) {
    const ev = events.get(id);
    if (ev) return ev;
  }
  throw new Error(`no event ${id} in the stand-in`);
}
