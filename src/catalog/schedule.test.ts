// The staff member's weekly schedule, over HTTP, against a real calendar server (Radicale) and a
// real SQLite file: what it changes is read back where a client sees it, the slots JSON.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Browser, hiddenValue, startTestApp } from '../../scripts/test-support/app.js';
import { runCli } from '../../scripts/test-support/cli.js';
import { startWorld, STAFF_ZONE, type World } from '../../scripts/test-support/world.js';
import { setPasswordHash } from '../accounts/accounts.repo.js';
import { hashPassword } from '../accounts/password.js';
import { fromJson } from '../accounts/portable.js';
import { addDays, dateIn } from '../lib/time.js';
import { findService } from './catalog.repo.js';
import { findSchedule, saveSchedule } from './schedule.repo.js';
import { tempFolder } from '../../scripts/test-support/temp.js';

const PASSWORD = 'schedule test password';
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

function decode(v: string): string {
  return v.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** What a browser would post from a form left as it is: every input's value, ticked boxes, chosen options. */
function formDefaults(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input\b[^>]*>/g)) {
    const tag = m[0];
    const name = /\bname="([^"]*)"/.exec(tag)?.[1];
    if (!name) continue;
    const type = /\btype="([^"]*)"/.exec(tag)?.[1] ?? 'text';
    if ((type === 'checkbox' || type === 'radio') && !/\bchecked\b/.test(tag)) continue;
    out[decode(name)] = decode(/\bvalue="([^"]*)"/.exec(tag)?.[1] ?? (type === 'checkbox' ? 'on' : ''));
  }
  for (const m of html.matchAll(/<select\b[^>]*\bname="([^"]*)"[^>]*>([\s\S]*?)<\/select>/g)) {
    const options = [...(m[2] ?? '').matchAll(/<option value="([^"]*)"( selected)?/g)];
    const chosen = options.find((o) => o[2]) ?? options[0];
    out[decode(m[1] ?? '')] = decode(chosen?.[1] ?? '');
  }
  for (const m of html.matchAll(/<textarea\b[^>]*\bname="([^"]*)"[^>]*>([\s\S]*?)<\/textarea>/g)) out[decode(m[1] ?? '')] = decode(m[2] ?? '');
  return out;
}

/** The form of a page whose action is `action`. */
function formOf(html: string, action: string): string {
  const start = html.indexOf(`action="${action}"`);
  assert.ok(start >= 0, `a form posting to ${action}`);
  return html.slice(html.lastIndexOf('<form', start), html.indexOf('</form>', start));
}

/** Weekly hours as the schedule form posts them: the same ranges every day. */
function everyDay(ranges: readonly (readonly [string, string])[]): Record<string, string> {
  const f: Record<string, string> = {};
  for (const d of DAYS) {
    ranges.forEach(([from, to], i) => {
      f[`hours[${d}][${i}][from]`] = from;
      f[`hours[${d}][${i}][to]`] = to;
    });
  }
  return f;
}

describe('the weekly schedule, over HTTP, with a real calendar', () => {
  let w: World;
  let alice: Browser;
  // Three days in the staff zone, far enough ahead for any notice, inside every horizon.
  let d0 = '';
  let d1 = '';
  let d2 = '';

  const csrf = async (path = '/admin/schedule') => {
    const page = await alice.get(path);
    assert.equal(page.status, 200, `GET ${path}`);
    return hiddenValue(page.text, '_csrf');
  };

  /** The offered start times ("10:00", …) per staff-zone date, from the public slots JSON. */
  async function slotsBy(service: string): Promise<Record<string, string[]>> {
    const res = await fetch(`${w.url}/@alice/${service}/slots?from=${d0}&to=${d2}&tz=${encodeURIComponent(STAFF_ZONE)}`);
    assert.equal(res.status, 200, `slots of ${service}`);
    const body = (await res.json()) as { slots: string[] };
    const by: Record<string, string[]> = { [d0]: [], [d1]: [], [d2]: [] };
    for (const s of body.slots) (by[s.slice(0, 10)] ??= []).push(s.slice(11, 16));
    return by;
  }

  before(async () => {
    w = await startWorld();
    await setPasswordHash(w.deps.db, w.staffId, await hashPassword(PASSWORD), Date.now());
    alice = new Browser(w.url);
    const login = await alice.get('/login');
    const res = await alice.post('/login', { _form: hiddenValue(login.text, '_form'), login: 'alice', password: PASSWORD, next: '' });
    assert.equal(res.status, 303, 'signed in');
    d0 = dateIn(Date.now() + 3 * 86_400_000, STAFF_ZONE);
    d1 = addDays(d0, 1);
    d2 = addDays(d0, 2);
  });
  after(() => w?.stop());

  test('the staff home and the service editor link to the schedule page, which opens', async () => {
    assert.match((await alice.get('/admin')).text, /href="\/admin\/schedule"/);
    assert.match((await alice.get('/admin/services/new')).text, /Uses your weekly schedule — <a href="\/admin\/schedule">change it<\/a>/);
    const page = await alice.get('/admin/schedule');
    assert.equal(page.status, 200);
    assert.match(page.text, /name="hours\[mon\]\[0\]\[from\]" value="09:00"/, 'the default hours until the staff member saves theirs');
  });

  test('a new service is two fields: the rest of the form is folded under "More options" and posted as it is', async () => {
    const page = await alice.get('/admin/services/new');
    const form = formOf(page.text, '/admin/services');
    const folded = form.indexOf('<details class="more"');
    assert.ok(folded > 0, 'a "More options" fold');
    assert.doesNotMatch(form.slice(folded, folded + 40), /\bopen\b/, 'closed for a new service');
    assert.match(form.slice(folded), /<summary>More options<\/summary>/);
    const visible = [...form.slice(0, folded).matchAll(/<(?:input|select|textarea)\b[^>]*\bname="([^"]*)"[^>]*>/g)].filter((m) => !/type="hidden"/.test(m[0])).map((m) => m[1]);
    assert.deepEqual(visible, ['title', 'duration'], 'only the title and the duration are in sight');

    // The schedule: 10:00–11:00 every day; then a service from the short form, as a browser posts it.
    const saved = await alice.post('/admin/schedule', { _csrf: await csrf(), ...everyDay([['10:00', '11:00']]) });
    assert.equal(saved.status, 303, saved.text.slice(0, 500));
    const res = await alice.post('/admin/services', { ...formDefaults(form), title: 'Quick chat', duration: '30' });
    assert.equal(res.status, 303, res.text.slice(0, 1500));
    const s = await findService(w.deps.db, w.staffId, 'quick-chat');
    assert.ok(s, 'the slug is made from the title');
    assert.equal(s.usesSchedule, true);
    assert.equal(s.active, true);
    assert.deepEqual(await slotsBy('quick-chat'), { [d0]: ['10:00', '10:30'], [d1]: ['10:00', '10:30'], [d2]: ['10:00', '10:30'] });

    // A second service with the same title gets its own address.
    const again = await alice.post('/admin/services', { ...formDefaults(formOf((await alice.get('/admin/services/new')).text, '/admin/services')), title: 'Quick chat', duration: '60' });
    assert.equal(again.status, 303);
    assert.equal((await findService(w.deps.db, w.staffId, 'quick-chat-2'))?.rules.durationMinutes, 60);

    // Changing the schedule moves every service that uses it, at once.
    assert.equal((await alice.post('/admin/schedule', { _csrf: await csrf(), ...everyDay([['08:00', '09:00']]) })).status, 303);
    assert.deepEqual((await slotsBy('quick-chat'))[d1], ['08:00', '08:30']);
  });

  test("a service's own hours win over the schedule", async () => {
    const page = await alice.get('/admin/services/new');
    const form: Record<string, string> = { ...formDefaults(formOf(page.text, '/admin/services')), title: 'Long talk', duration: '30', own_hours: '1' };
    for (const d of DAYS) {
      form[`hours[${d}][0][from]`] = '14:00';
      form[`hours[${d}][0][to]`] = '15:00';
      form[`hours[${d}][1][from]`] = '';
      form[`hours[${d}][1][to]`] = '';
    }
    assert.equal((await alice.post('/admin/services', form)).status, 303);
    const s = await findService(w.deps.db, w.staffId, 'long-talk');
    assert.equal(s?.usesSchedule, false);
    assert.deepEqual(await slotsBy('long-talk'), { [d0]: ['14:00', '14:30'], [d1]: ['14:00', '14:30'], [d2]: ['14:00', '14:30'] });
    const edit = await alice.get(`/admin/services/${s.id}`);
    assert.match(edit.text, /id="own_hours" name="own_hours" value="1" checked/);
    assert.match(edit.text, /<details class="own-hours" open>/, 'its own hours are shown unfolded');
  });

  test('special days: closed, other hours, shown on the calendar, removed with a button', async () => {
    const closed = await alice.post('/admin/schedule/days', { _csrf: await csrf(), date: d1, closed: '1', 'day[0][from]': '', 'day[0][to]': '' });
    assert.equal(closed.status, 303, closed.text.slice(0, 800));
    const other = await alice.post('/admin/schedule/days', { _csrf: await csrf(), date: d2, 'day[0][from]': '16:00', 'day[0][to]': '17:00' });
    assert.equal(other.status, 303);
    assert.deepEqual(await slotsBy('quick-chat'), { [d0]: ['08:00', '08:30'], [d1]: [], [d2]: ['16:00', '16:30'] });
    assert.deepEqual((await slotsBy('long-talk'))[d1], ['14:00', '14:30'], 'a service with its own hours keeps them');

    // The month calendar marks them; a day's link puts its date in the form.
    const page = await alice.get(`/admin/schedule?month=${d1.slice(0, 7)}`);
    assert.match(page.text, new RegExp(`href="/admin/schedule\\?month=${d1.slice(0, 7)}&amp;date=${d1}#day-date" class="day-link special-closed`));
    const picked = await alice.get(`/admin/schedule?month=${d0.slice(0, 7)}&date=${d0}`);
    assert.match(picked.text, new RegExp(`id="day-date" name="date" value="${d0}"`));
    assert.match(picked.text, new RegExp(`date=${d0}#day-date" class="day-link[^"]*" aria-current=date`));

    // Any number of days: a few more, all kept, in date order.
    for (let i = 10; i < 16; i++) assert.equal((await alice.post('/admin/schedule/days', { _csrf: await csrf(), date: addDays(d0, i), closed: '1' })).status, 303);
    const all = await findSchedule(w.deps.db, w.staffId);
    assert.equal(all?.overrides.length, 8);
    assert.deepEqual(all.overrides.map((o) => o.date), [...all.overrides.map((o) => o.date)].sort());

    // Added again, a date replaces its entry; removing is a button (a POST with the date).
    assert.equal((await alice.post('/admin/schedule/days', { _csrf: await csrf(), date: d2, 'day[0][from]': '09:00', 'day[0][to]': '09:30' })).status, 303);
    assert.deepEqual((await slotsBy('quick-chat'))[d2], ['09:00']);
    const list = (await alice.get('/admin/schedule')).text;
    assert.match(list, new RegExp(`action="/admin/schedule/days/remove"[^]*?name="date" value="${d1}"[^]*?<button type="submit"`));
    assert.equal((await alice.post('/admin/schedule/days/remove', { _csrf: await csrf(), date: d1 })).status, 303);
    assert.deepEqual((await slotsBy('quick-chat'))[d1], ['08:00', '08:30'], 'the weekly hours again');
    assert.equal((await findSchedule(w.deps.db, w.staffId))?.overrides.length, 7);
  });

  test('special days that have passed are dropped when a day is added; today stays', async () => {
    const today = dateIn(Date.now(), STAFF_ZONE);
    const current = await findSchedule(w.deps.db, w.staffId);
    assert.ok(current);
    const old = [addDays(today, -400), addDays(today, -1)].map((date) => ({ date, hours: [] }));
    await saveSchedule(w.deps.db, w.staffId, { hours: current.hours, overrides: [...old, { date: today, hours: [] }, ...current.overrides] }, Date.now());
    const added = await alice.post('/admin/schedule/days', { _csrf: await csrf(), date: addDays(d0, 30), closed: '1' });
    assert.equal(added.status, 303, added.text.slice(0, 500));
    const dates = (await findSchedule(w.deps.db, w.staffId))?.overrides.map((o) => o.date) ?? [];
    assert.deepEqual(dates, [today, ...current.overrides.map((o) => o.date), addDays(d0, 30)], 'the past days are gone, today and the coming ones kept');
    // Leave the schedule as the next tests expect it.
    assert.equal((await alice.post('/admin/schedule/days/remove', { _csrf: await csrf(), date: addDays(d0, 30) })).status, 303);
    assert.equal((await alice.post('/admin/schedule/days/remove', { _csrf: await csrf(), date: today })).status, 303);
    assert.deepEqual(await findSchedule(w.deps.db, w.staffId), { ...current, overrides: current.overrides });
  });

  test('invalid hours and special days are refused with messages, and nothing is saved', async () => {
    const before = await findSchedule(w.deps.db, w.staffId);
    const bad = await alice.post('/admin/schedule', {
      _csrf: await csrf(),
      ...everyDay([['08:00', '09:00']]),
      'hours[mon][0][from]': '12:00',
      'hours[mon][0][to]': '10:00',
      'hours[tue][1][from]': '08:30',
      'hours[tue][1][to]': '09:30',
      'hours[wed][1][from]': '15:00',
    });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /id="hours-mon-0-to-error">The end must be after the start\./);
    assert.match(bad.text, /The ranges of this day overlap\./);
    assert.match(bad.text, /id="hours-wed-1-to-error">Enter both the start and the end time\./);
    assert.match(bad.text, /<a href="#hours-mon-0-to">Monday, range 1, to: The end must be after the start\.<\/a>/, 'the summary names and links to the field');
    assert.match(bad.text, /name="hours\[mon\]\[0\]\[from\]" value="12:00"/, 'what was typed is shown again');
    assert.deepEqual(await findSchedule(w.deps.db, w.staffId), before);

    const days: [Record<string, string>, RegExp][] = [
      [{ date: '', closed: '1' }, /id="day-date-error">This field is required\./],
      [{ date: '2031-02-30', closed: '1' }, /id="day-date-error">Enter a real date\./],
      [{ date: d0 }, /id="day-0-from-error">Enter hours for this date, or tick/],
      [{ date: d0, 'day[0][from]': '17:00', 'day[0][to]': '09:00' }, /id="day-0-to-error">The end must be after the start\./],
      [{ date: d0, 'day[0][from]': '09:00', 'day[0][to]': '11:00', 'day[1][from]': '10:00', 'day[1][to]': '12:00' }, /The ranges of this day overlap\./],
      [{ date: d0, 'day[1][from]': '09:00' }, /id="day-1-to-error">Enter both the start and the end time\./],
      [{ date: addDays(dateIn(Date.now(), STAFF_ZONE), -1), closed: '1' }, /id="day-date-error">This date has passed: choose today or a later day\./],
    ];
    for (const [form, message] of days) {
      const res = await alice.post('/admin/schedule/days', { _csrf: await csrf(), ...form });
      assert.equal(res.status, 422, JSON.stringify(form));
      assert.match(res.text, message, JSON.stringify(form));
      assert.match(res.text, /class="error-summary"/);
    }
    assert.deepEqual(await findSchedule(w.deps.db, w.staffId), before, 'nothing saved');
  });

  test('export carries the schedule and every service its effective hours; another instance imports it and its services still follow the schedule', async () => {
    const res = await alice.get('/admin/data/export');
    assert.equal(res.status, 200);
    const doc = fromJson(res.text);
    assert.ok(doc.ok, JSON.stringify(!doc.ok && doc.error));
    const mine = await findSchedule(w.deps.db, w.staffId);
    assert.deepEqual(doc.value.schedule, mine);
    const quick = doc.value.services.find((s) => s.slug === 'quick-chat');
    const long = doc.value.services.find((s) => s.slug === 'long-talk');
    const haircut = doc.value.services.find((s) => s.slug === 'haircut');
    assert.equal(quick?.usesSchedule, true);
    assert.deepEqual({ hours: quick.hours, overrides: quick.overrides }, mine, 'a service using the schedule carries its hours');
    assert.equal(long?.usesSchedule, false);
    assert.deepEqual(long.hours.mon, [['14:00', '15:00']]);
    assert.equal(haircut?.usesSchedule, false, 'a service stored before the schedule keeps its own hours');

    const dir = tempFolder('schedule-');
    const env = { CRENEAU_DATA_DIR: dir, CRENEAU_BASE_URL: 'http://127.0.0.1:9' };
    assert.equal((await runCli(['user', 'create', '--username', 'alice', '--email', 'other@example.com', '--time-zone', STAFF_ZONE], env)).code, 0);
    const file = join(dir, 'alice.json');
    writeFileSync(file, res.text);
    const imported = await runCli(['import', '--user', 'alice', file], env);
    assert.equal(imported.code, 0, imported.err);
    const exported = await runCli(['export', '--user', 'alice'], env);
    assert.deepEqual(JSON.parse(exported.out), JSON.parse(res.text), 'the round trip gives the same document');

    // On the other instance, the service still follows the schedule, which came with it.
    const app = await startTestApp({ CRENEAU_DATA_DIR: dir });
    try {
      const id = (app.deps.sqlite.prepare("select id from staff where username = 'alice'").get() as { id: number }).id;
      assert.equal((await findService(app.deps.db, id, 'quick-chat'))?.usesSchedule, true);
      const sched = await findSchedule(app.deps.db, id);
      assert.deepEqual(sched, mine);
    } finally {
      await app.stop();
    }

    // A file written before the schedule existed imports as it did: each service with its own hours.
    const old = JSON.parse(res.text) as { schedule?: unknown; services: Record<string, unknown>[] };
    delete old.schedule;
    for (const s of old.services) delete s.usesSchedule;
    writeFileSync(file, JSON.stringify(old));
    assert.equal((await runCli(['import', '--user', 'alice', file], env)).code, 0);
    const after = JSON.parse((await runCli(['export', '--user', 'alice'], env)).out) as { services: { slug: string; usesSchedule: boolean; hours: unknown }[] };
    const q = after.services.find((s) => s.slug === 'quick-chat');
    assert.equal(q?.usesSchedule, false);
    assert.deepEqual(q.hours, quick.hours, 'the hours written in the file');

    // A hand-edited file whose service says it uses the schedule but gives other hours is refused, naming the key.
    const edited = JSON.parse(res.text) as { services: { slug: string; hours: Record<string, unknown> }[] };
    const e = edited.services.find((s) => s.slug === 'quick-chat');
    assert.ok(e);
    e.hours.sun = [['20:00', '21:00']];
    writeFileSync(file, JSON.stringify(edited));
    const refused = await runCli(['import', '--user', 'alice', file], env);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /services\[\d+\]\.hours: differ from the weekly schedule "schedule"/);
  });
});
