import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Browser, startTestApp, type TestApp } from '../../scripts/test-support/app.js';
import { csrfOf, inviteColleague, PASSWORD, setupOwner } from '../accounts/test-helpers.js';
import { findService, listActiveServices } from './catalog.repo.js';
import { defaultRules } from './catalog.js';
import { fromJson } from '../accounts/portable.js';
import { runCli as cli } from '../../scripts/test-support/cli.js';
import { tempFolder } from '../../scripts/test-support/temp.js';

function serviceForm(csrf: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    _csrf: csrf,
    title: 'Haircut',
    slug: 'haircut',
    description: 'A cut',
    location: '12 rue de la Paix',
    duration: '30',
    step: '',
    buffer_before: '5',
    buffer_after: '10',
    notice: '120',
    horizon: '60',
    daily_cap: '',
    own_hours: '1',
    'hours[mon][0][from]': '09:00',
    'hours[mon][0][to]': '12:00',
    'hours[mon][1][from]': '14:00',
    'hours[mon][1][to]': '18:00',
    'hours[tue][0][from]': '10:00',
    'hours[tue][0][to]': '16:00',
    'overrides[0][date]': '2026-12-25',
    'overrides[0][closed]': '1',
    'overrides[1][date]': '2026-12-24',
    'overrides[1][0][from]': '09:00',
    'overrides[1][0][to]': '12:00',
    'fields[note]': 'required',
    'fields[company]': 'optional',
    active: '1',
    ...extra,
  };
}

describe('services editor', () => {
  let app: TestApp;
  let alice: Browser;
  let bob: Browser;
  before(async () => {
    app = await startTestApp();
    alice = await setupOwner(app);
    bob = await inviteColleague(app, alice, { username: 'bob', email: 'bob@example.com', password: PASSWORD });
  });
  after(() => app.stop());

  const staffId = (u: string) => (app.deps.sqlite.prepare('select id from staff where username = ?').get(u) as { id: number }).id;

  test('a new service form has sensible defaults', async () => {
    const page = await alice.get('/admin/services/new');
    assert.equal(page.status, 200);
    assert.match(page.text, /name="duration" value="30"/);
    assert.match(page.text, /name="notice" value="120"/);
    assert.match(page.text, /name="horizon" value="60"/);
    assert.match(page.text, /name="hours\[fri\]\[1\]\[from\]" value="14:00"/);
    assert.match(page.text, /name="hours\[sat\]\[0\]\[from\]" value=""/);
    assert.match(page.text, /name="hours\[sun\]\[2\]\[to\]"/, 'three rows per weekday');
    assert.match(page.text, /<option value="optional" selected>/);
  });

  test('create, list, edit and delete with confirmation; rules stored in the ServiceRules shape', async () => {
    const res = await alice.post('/admin/services', serviceForm(await csrfOf(alice)));
    assert.equal(res.status, 303, res.text.slice(0, 800));
    const s = await findService(app.deps.db, staffId('alice'), 'haircut');
    assert.ok(s);
    assert.deepEqual(s.rules, {
      durationMinutes: 30,
      stepMinutes: 30,
      bufferBeforeMinutes: 5,
      bufferAfterMinutes: 10,
      minimumNoticeMinutes: 120,
      horizonDays: 60,
      dailyCap: null,
      hours: { mon: [['09:00', '12:00'], ['14:00', '18:00']], tue: [['10:00', '16:00']], wed: [], thu: [], fri: [], sat: [], sun: [] },
      overrides: [{ date: '2026-12-25', hours: [] }, { date: '2026-12-24', hours: [['09:00', '12:00']] }],
    });
    assert.deepEqual(s.fields, { note: 'required', address: 'off', company: 'optional', job_title: 'off', conference: 'off', phone: 'required' }, 'a post without the phone select keeps it required');
    assert.deepEqual([s.questions, s.reminders, s.approval, s.confirmEmail, s.cancelCutoffMinutes], [[], [], false, false, 0]);
    const list = await alice.get('/admin/services');
    assert.match(list.text, /Haircut/);
    assert.match(list.text, /href="\/@alice\/haircut"/, 'preview link');
    const edit = await alice.get(`/admin/services/${s.id}`);
    assert.match(edit.text, /name="overrides\[0\]\[closed\]" value="1" checked/);
    const { active: _unchecked, ...noActive } = serviceForm(await csrfOf(alice), { title: 'Long haircut', duration: '60' });
    const upd = await alice.post(`/admin/services/${s.id}`, noActive);
    assert.equal(upd.status, 303);
    const hidden = await findService(app.deps.db, staffId('alice'), 'haircut');
    assert.equal(hidden?.rules.stepMinutes, 60, 'empty step follows the duration');
    assert.equal((await listActiveServices(app.deps.db, staffId('alice'))).length, 0, 'an unchecked box hides it');
    const confirm = await alice.get(`/admin/services/${s.id}/delete`);
    assert.equal(confirm.status, 200);
    assert.match(confirm.text, /Long haircut/);
    const del = await alice.post(`/admin/services/${s.id}/delete`, { _csrf: await csrfOf(alice) });
    assert.equal(del.status, 303);
    assert.equal(await findService(app.deps.db, staffId('alice'), 'haircut'), undefined);
  });

  test('questions, phone, reminders, approval, double opt-in and cut-off: saved from the editor without script, shown again, removable', async () => {
    const form = serviceForm(await csrfOf(alice), {
      slug: 'session',
      'fields[phone]': 'optional',
      'questions[0][label]': 'Any allergies?',
      'questions[0][type]': 'text',
      'questions[0][id]': '',
      'questions[0][options]': '',
      'questions[1][label]': 'Which room?',
      'questions[1][type]': 'choice',
      'questions[1][id]': 'room',
      'questions[1][required]': '1',
      'questions[1][options]': 'Blue\r\nGreen\r\n\r\n',
      'questions[2][label]': '',
      'questions[2][type]': 'text',
      'reminders[0]': '120',
      'reminders[1]': '',
      'reminders[2]': '1440',
      approval: '1',
      confirm_email: '1',
      cancel_cutoff: '60',
    });
    const res = await alice.post('/admin/services', form);
    assert.equal(res.status, 303, res.text.slice(0, 2000));
    const s = await findService(app.deps.db, staffId('alice'), 'session');
    assert.ok(s);
    assert.equal(s.fields.phone, 'optional');
    assert.deepEqual(s.questions, [
      { id: 'any_allergies', label: 'Any allergies?', type: 'text', required: false, options: [] },
      { id: 'room', label: 'Which room?', type: 'choice', required: true, options: ['Blue', 'Green'] },
    ]);
    assert.deepEqual(s.reminders, [1440, 120]);
    assert.equal(s.approval, true);
    assert.equal(s.confirmEmail, true);
    assert.equal(s.cancelCutoffMinutes, 60);

    const edit = await alice.get(`/admin/services/${s.id}`);
    assert.match(edit.text, /<label for="question-1-label">Question<\/label>/, 'every input has a label');
    assert.match(edit.text, /name="questions\[1\]\[label\]" value="Which room\?"/);
    assert.match(edit.text, /name="questions\[3\]\[label\]" value=""/, 'two blank rows to add questions without script');
    assert.doesNotMatch(edit.text, /name="questions\[4\]/);
    assert.match(edit.text, /<textarea id="question-1-options"[^>]*>Blue\nGreen<\/textarea>/);
    assert.match(edit.text, /id="question-1-required" name="questions\[1\]\[required\]" value="1" checked/);
    assert.match(edit.text, /name="reminders\[0\]" value="1440"/);
    assert.match(edit.text, /id="approval" name="approval" value="1" aria-describedby="approval-hint" checked/);
    assert.match(edit.text, /<select id="field-phone" name="fields\[phone\]"[^>]*>\s*<option value="off">[^<]*<\/option>\s*<option value="optional" selected>/);

    // Emptying a question's text removes it; other values stay.
    const removed = await alice.post(`/admin/services/${s.id}`, { ...form, _csrf: await csrfOf(alice), 'questions[0][label]': '', approval: '' });
    assert.equal(removed.status, 303);
    const after = await findService(app.deps.db, staffId('alice'), 'session');
    assert.deepEqual(after?.questions.map((q) => q.id), ['room']);

    // Bad values: per-field messages, nothing changed.
    const bad = await alice.post(`/admin/services/${s.id}`, {
      ...form,
      _csrf: await csrfOf(alice),
      'questions[0][id]': 'room',
      'questions[1][options]': 'Only one',
      'questions[2][label]': 'Rate us',
      'questions[2][type]': 'stars',
      'reminders[1]': '3',
      cancel_cutoff: 'soon',
    });
    assert.equal(bad.status, 422);
    for (const [id, message] of [
      ['question-1-id', 'Another question already has this short name.'],
      ['question-1-options', 'Enter 2 to 20 choices, one per line.'],
      ['question-2-type', 'Choose a kind of answer.'],
      ['reminder-1', 'Enter a number of minutes between 5 and 20160, or leave it empty.'],
      ['cancel_cutoff', 'Enter a number of minutes between 0 and 525600.'],
    ]) {
      assert.match(bad.text, new RegExp(`<p class="field-error" id="${id}-error">${message?.replace(/[.?]/g, '\\$&')}</p>`), id);
      assert.match(bad.text, new RegExp(`href="#${id}"`), `${id} in the error summary`);
    }
    assert.match(bad.text, /name="questions\[2\]\[label\]" value="Rate us"/, 'typed values kept');
    assert.deepEqual(await findService(app.deps.db, staffId('alice'), 'session'), after);
  });

  test('validation: per-field messages, error summary, values kept, status 422, in both languages', async () => {
    const res = await alice.post(
      '/admin/services',
      serviceForm(await csrfOf(alice), {
        title: '',
        slug: 'Bad Slug!',
        duration: '3',
        horizon: 'abc',
        'hours[mon][0][to]': '08:00',
        'hours[wed][0][from]': '09:00',
        'overrides[0][date]': '2026-02-30',
      }),
    );
    assert.equal(res.status, 422);
    assert.match(res.text, /class="error-summary"/);
    assert.match(res.text, /href="#title"/);
    assert.match(res.text, /id="slug"[^>]*aria-invalid="true"/);
    assert.match(res.text, /Use 1 to 48 lower-case letters/);
    assert.match(res.text, /Enter a whole number/);
    assert.match(res.text, /Enter both the start and the end time/);
    assert.match(res.text, /id="hours-mon-0-to"[^>]*aria-invalid="true"/, "an end before the start marks the end");
    assert.match(res.text, /id="hours-wed-0-to"[^>]*aria-invalid="true"/);
    assert.match(res.text, /The end must be after the start/);
    assert.match(res.text, /value="Bad Slug!"/, 'typed values are kept');
    const fr = await alice.post('/admin/services', serviceForm(await csrfOf(alice), { duration: '3' }), { 'accept-language': 'fr' });
    assert.equal(fr.status, 422);
    assert.match(fr.text, /Saisissez une durée entre 5 et 1440 minutes/);
    const reserved = await alice.post('/admin/services', serviceForm(await csrfOf(alice), { slug: 'picture' }));
    assert.equal(reserved.status, 422);
  });

  test('slugs are unique per staff member, not across staff', async () => {
    assert.equal((await alice.post('/admin/services', serviceForm(await csrfOf(alice), { slug: 'consult' }))).status, 303);
    const dup = await alice.post('/admin/services', serviceForm(await csrfOf(alice), { slug: 'consult' }));
    assert.equal(dup.status, 422);
    assert.match(dup.text, /already have a service at this address/);
    assert.equal((await bob.post('/admin/services', serviceForm(await csrfOf(bob), { slug: 'consult' }))).status, 303);
  });

  test("another staff member's services answer 404 for every route", async () => {
    const s = await findService(app.deps.db, staffId('alice'), 'consult');
    assert.ok(s);
    assert.equal((await bob.get(`/admin/services/${s.id}`)).status, 404);
    assert.equal((await bob.get(`/admin/services/${s.id}/delete`)).status, 404);
    assert.equal((await bob.post(`/admin/services/${s.id}`, serviceForm(await csrfOf(bob), { title: 'Pwned' }))).status, 404);
    assert.equal((await bob.post(`/admin/services/${s.id}/delete`, { _csrf: await csrfOf(bob) })).status, 404);
    assert.equal((await findService(app.deps.db, staffId('alice'), 'consult'))?.title, 'Haircut');
    assert.equal((await bob.get('/admin/services/abc')).status, 404);
  });

  test('mass assignment: staff_id, id, position in the form are ignored', async () => {
    const res = await bob.post('/admin/services', serviceForm(await csrfOf(bob), { slug: 'mine', staff_id: String(staffId('alice')), id: '1', position: '-5', created_at: '0' }));
    assert.equal(res.status, 303);
    assert.ok(await findService(app.deps.db, staffId('bob'), 'mine'));
    assert.equal(await findService(app.deps.db, staffId('alice'), 'mine'), undefined);
  });

  test('XSS payloads in service text fields are escaped in the editor and the list', async () => {
    const xss = '<script>alert(1)</script>"><img src=x onerror=alert(1)>';
    const res = await alice.post('/admin/services', serviceForm(await csrfOf(alice), { slug: 'xss', title: xss, description: xss, location: xss }));
    assert.equal(res.status, 303);
    const s = await findService(app.deps.db, staffId('alice'), 'xss');
    for (const path of ['/admin/services', `/admin/services/${s?.id}`, `/admin/services/${s?.id}/delete`]) {
      const page = await alice.get(path);
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.text, /<script>alert|<img src=x/, path);
    }
    const bad = await alice.post('/admin/services', serviceForm(await csrfOf(alice), { slug: xss, title: xss }));
    assert.equal(bad.status, 422);
    assert.doesNotMatch(bad.text, /<script>alert|<img src=x/);
  });

  test('signed-out visitors are sent to sign in; POSTs without a session are refused', async () => {
    const anon = new Browser(app.url);
    const res = await anon.get('/admin/services/new');
    assert.equal(res.status, 303);
    assert.equal(res.location, '/login?next=%2Fadmin%2Fservices%2Fnew');
    assert.equal((await anon.post('/admin/services', serviceForm('x'))).status, 403);
  });
});


describe('CLI: user create, export, import', () => {
  const dir = tempFolder('cli-');
  const env = { CRENEAU_DATA_DIR: join(dir, 'data') };

  test('user create: password file, generated password printed once, errors to stderr, --help', async () => {
    writeFileSync(join(dir, 'pw'), `${PASSWORD}\n`);
    const ok = await cli(['user', 'create', '--username', 'alice', '--email', 'alice@example.com', '--owner', '--password-file', join(dir, 'pw'), '--time-zone', 'Europe/Paris'], env);
    assert.equal(ok.code, 0, ok.err);
    assert.doesNotMatch(ok.out, /password:/);
    const gen = await cli(['user', 'create', '--username', 'bob', '--email', 'bob@example.com'], env);
    assert.equal(gen.code, 0, gen.err);
    assert.match(gen.out, /password: \S{16,}/);
    const bad = await cli(['user', 'create', '--username', 'root', '--email', 'x@example.com'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /--username: This username is reserved/);
    const twice = await cli(['user', 'create', '--username', 'carol', '--email', 'c@example.com', '--owner'], env);
    assert.equal(twice.code, 1);
    assert.match(twice.err, /already has an owner/);
    const help = await cli(['user', 'create', '--help'], env);
    assert.equal(help.code, 0);
    assert.match(help.out, /--password-file/);
    const usage = await cli(['user', 'create', '--email', 'x@example.com'], env);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /--username is required/);
  });

  test('export → import round trip, services matched by slug, strict keys, username must match', async () => {
    const doc = {
      format: 'creneau/1',
      profile: { username: 'alice', displayName: 'Alice Martin', email: 'alice@example.com', timeZone: 'Europe/Paris', locale: 'fr', bio: 'Hi', place: 'Paris' },
      services: [
        {
          slug: 'haircut',
          title: 'Haircut',
          description: '',
          location: '',
          durationMinutes: 30,
          stepMinutes: 30,
          bufferBeforeMinutes: 0,
          bufferAfterMinutes: 0,
          minimumNoticeMinutes: 120,
          horizonDays: 60,
          dailyCap: null,
          hours: { mon: [['09:00', '12:00'], ['14:00', '18:00']], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] },
          overrides: [{ date: '2026-12-25', hours: [] }, { date: '2026-12-24', hours: [['09:00', '12:00']] }],
          fields: { note: 'optional', address: 'off', company: 'off', job_title: 'off', conference: 'off' },
          active: true,
        },
      ],
    };
    const file = join(dir, 'alice.json');
    writeFileSync(file, JSON.stringify(doc));
    const first = await cli(['import', '--user', 'alice', file], env);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /1 service\(s\) created, 0 updated/);
    const again = await cli(['import', '--user', 'alice', file], env);
    assert.match(again.out, /0 service\(s\) created, 1 updated/);
    const exported = await cli(['export', '--user', 'alice'], env);
    assert.equal(exported.code, 0, exported.err);
    const defaults = { questions: [], reminders: [], approval: false, confirmEmail: false, cancelCutoffMinutes: 0, usesSchedule: false };
    const oldService = doc.services[0] as (typeof doc.services)[number];
    // The account never set a weekly schedule: export writes the one it has (the default hours).
    const schedule = { hours: defaultRules().hours, overrides: [] };
    assert.deepEqual(JSON.parse(exported.out), { ...doc, services: [{ ...oldService, fields: { ...oldService.fields, phone: 'required' }, ...defaults }], schedule }, 'a document without the added fields gets their defaults');
    assert.ok(fromJson(exported.out).ok);

    // The added fields round-trip as written.
    const full = {
      ...doc,
      services: [
        {
          ...oldService,
          fields: { ...oldService.fields, phone: 'off' },
          questions: [
            { id: 'pets', label: 'Any pets?', type: 'choice', required: true, options: ['Cat', 'Dog', 'None'] },
            { id: 'allergies', label: 'Any allergies?', type: 'textarea', required: false, options: [] },
          ],
          reminders: [1440, 120],
          approval: true,
          confirmEmail: true,
          cancelCutoffMinutes: 720,
          usesSchedule: false,
        },
      ],
      schedule,
    };
    writeFileSync(file, JSON.stringify(full));
    assert.equal((await cli(['import', '--user', 'alice', file], env)).code, 0);
    assert.deepEqual(JSON.parse((await cli(['export', '--user', 'alice'], env)).out), full);
    const badQuestions: [unknown, RegExp][] = [
      [[{ id: 'Pets!', label: 'x', type: 'text', required: false, options: [] }], /services\[0\]\.questions\[0\]\.id/],
      [[{ id: 'a', label: 'x', type: 'text' }, { id: 'a', label: 'y', type: 'text' }], /"a" is used twice/],
      [[{ id: 'a', label: 'x', type: 'choice', options: ['only one'] }], /questions\[0\]\.options: a choice needs 2 to 20 options/],
      [[{ id: 'a', label: 'x', type: 'rating' }], /questions\[0\]\.type/],
      [[{ id: 'a', label: 'x'.repeat(201), type: 'text' }], /questions\[0\]\.label/],
      [[{ id: 'a', label: 'x', type: 'text', colour: 1 }], /unknown key "colour" at services\[0\]\.questions\[0\]/],
      [Array.from({ length: 11 }, (_, i) => ({ id: `q${i}`, label: 'x', type: 'text' })), /services\[0\]\.questions/],
    ];
    for (const [questions, message] of badQuestions) {
      writeFileSync(file, JSON.stringify({ ...full, services: [{ ...full.services[0], questions }] }));
      const res = await cli(['import', '--user', 'alice', file], env);
      assert.equal(res.code, 1, JSON.stringify(questions));
      assert.match(res.err, message);
    }
    for (const reminders of [[4], [20161], [60, 60], [10, 20, 30, 40]]) {
      writeFileSync(file, JSON.stringify({ ...full, services: [{ ...full.services[0], reminders }] }));
      const res = await cli(['import', '--user', 'alice', file], env);
      assert.equal(res.code, 1, JSON.stringify(reminders));
      assert.match(res.err, /services\[0\]\.reminders/);
    }
    writeFileSync(file, JSON.stringify({ ...full, services: [{ ...full.services[0], cancelCutoffMinutes: -1 }] }));
    assert.match((await cli(['import', '--user', 'alice', file], env)).err, /services\[0\]\.cancelCutoffMinutes/);
    writeFileSync(file, JSON.stringify({ ...full, services: [{ ...full.services[0], fields: { ...full.services[0]?.fields, phone: 'sometimes' } }] }));
    assert.match((await cli(['import', '--user', 'alice', file], env)).err, /services\[0\]\.fields\.phone/);
    assert.deepEqual(JSON.parse((await cli(['export', '--user', 'alice'], env)).out), full, 'refused imports changed nothing');

    writeFileSync(file, JSON.stringify({ ...doc, services: [{ ...doc.services[0], colour: 'red' }] }));
    const unknown = await cli(['import', '--user', 'alice', file], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /unknown key "colour" at services\[0\]/);
    writeFileSync(file, JSON.stringify({ ...doc, extra: 1 }));
    assert.match((await cli(['import', '--user', 'alice', file], env)).err, /unknown key "extra"/);
    writeFileSync(file, JSON.stringify(doc));
    const wrongUser = await cli(['import', '--user', 'bob', file], env);
    assert.equal(wrongUser.code, 1);
    assert.match(wrongUser.err, /profile.username is "alice" but --user is "bob"/);
    writeFileSync(file, JSON.stringify({ ...doc, services: [{ ...doc.services[0], hours: { ...doc.services[0]?.hours, tue: [['12:00', '09:00']] } }] }));
    const badRules = await cli(['import', '--user', 'alice', file], env);
    assert.equal(badRules.code, 1);
    assert.match(badRules.err, /services\[0\]\.hours\.tue\[0\]: The end must be after the start/);
    writeFileSync(file, JSON.stringify({ ...doc, calendar: { provider: 'caldav', url: 'https://dav.example.com/', username: 'alice', password: 'x', calendar: 'Bookings', conflictCalendars: [] } }));
    const cal = await cli(['import', '--user', 'alice', file], env);
    assert.equal(cal.code, 1);
    assert.match(cal.err, /calendar: could not connect to dav\.example\.com \(\w+\); nothing was imported/);
    writeFileSync(file, JSON.stringify({ ...doc, calendar: { provider: 'google', username: 'alice', calendar: 'primary', conflictCalendars: [] } }));
    assert.match((await cli(['import', '--user', 'alice', file], env)).err, /needs your consent in a browser/);
  });

  test('the browser export is the same document', async () => {
    const app = await startTestApp({ CRENEAU_DATA_DIR: env.CRENEAU_DATA_DIR });
    try {
      const { signIn } = await import('../accounts/test-helpers.js');
      const { browser } = await signIn(app, 'alice');
      const res = await browser.get('/admin/data/export');
      const cliOut = await cli(['export', '--user', 'alice'], env);
      assert.deepEqual(JSON.parse(res.text), JSON.parse(cliOut.out));
    } finally {
      await app.stop();
    }
  });
});
