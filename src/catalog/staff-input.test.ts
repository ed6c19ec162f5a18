import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type Browser, type TestApp } from '../../scripts/test-support/app.js';
import { runCli as cli } from '../../scripts/test-support/cli.js';
import { csrfOf, PASSWORD, setupOwner } from '../accounts/test-helpers.js';
import { findService, listActiveServices } from './catalog.repo.js';
import { tempFolder } from '../../scripts/test-support/temp.js';

/**
 * Control characters and line breaks in what staff type (titles, names, places) would end up in
 * e-mail headers and iCalendar properties: they are refused where they are entered, with a
 * message on the field, and nothing is saved.
 */

const ONE_LINE_EN = /Remove the line breaks and invisible control characters: this field is a single line of plain text\./;
const ONE_LINE_FR = /Retirez les retours à la ligne et les caractères de contrôle invisibles : ce champ tient sur une seule ligne de texte\./;
const TEXT_EN = /Remove the invisible control characters from this field \(ordinary line breaks are fine\)\./;

function serviceForm(csrf: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    _csrf: csrf,
    title: 'Haircut',
    slug: 'haircut',
    description: 'A cut\nwith a wash',
    location: '12 rue de la Paix',
    duration: '30',
    step: '',
    buffer_before: '0',
    buffer_after: '0',
    notice: '120',
    horizon: '60',
    daily_cap: '',
    'hours[mon][0][from]': '09:00',
    'hours[mon][0][to]': '12:00',
    'fields[note]': 'optional',
    active: '1',
    ...extra,
  };
}

describe('staff-side input in the editors', () => {
  let app: TestApp;
  let alice: Browser;
  before(async () => {
    app = await startTestApp();
    alice = await setupOwner(app);
  });
  after(() => app.stop());

  const staffId = () => (app.deps.sqlite.prepare("select id from staff where username = 'alice'").get() as { id: number }).id;

  const oneLine: [string, string][] = [
    ['title', 'Haircut\r\nBcc: everyone@example.org'],
    ['title', 'Haircut\u0085'],
    ['title', 'Hair\u0000cut'],
    ['location', '12 rue de la Paix\u2028Paris'],
    ['location', '12 rue\tde la Paix'],
  ];
  for (const [field, value] of oneLine) {
    test(`service ${field} ${JSON.stringify(value)}: 422 with the message on the field, nothing saved`, async () => {
      const res = await alice.post('/admin/services', serviceForm(await csrfOf(alice), { [field]: value }));
      assert.equal(res.status, 422);
      assert.match(res.text, ONE_LINE_EN);
      assert.match(res.text, new RegExp(`href="#${field}"`));
      assert.match(res.text, new RegExp(`id="${field}"[^>]*aria-invalid="true"`));
      assert.equal(await findService(app.deps.db, staffId(), 'haircut'), undefined);
    });
  }

  test('a description may have line breaks but no other control character; French message too', async () => {
    const bad = await alice.post('/admin/services', serviceForm(await csrfOf(alice), { description: 'A cut\u001b[31m' }));
    assert.equal(bad.status, 422);
    assert.match(bad.text, TEXT_EN);
    const fr = await alice.post('/admin/services', serviceForm(await csrfOf(alice), { title: 'Coupe\u2029homme' }), { 'accept-language': 'fr' });
    assert.equal(fr.status, 422);
    assert.match(fr.text, ONE_LINE_FR);
    assert.equal(await findService(app.deps.db, staffId(), 'haircut'), undefined);
    const good = await alice.post('/admin/services', serviceForm(await csrfOf(alice)));
    assert.equal(good.status, 303);
    assert.equal((await findService(app.deps.db, staffId(), 'haircut'))?.description, 'A cut\nwith a wash');
  });

  test('profile: display name, place and e-mail must be one clean line; nothing saved', async () => {
    const profile = {
      username: 'alice',
      display_name: 'Alice Martin',
      email: 'alice@example.com',
      time_zone: 'Europe/Paris',
      locale: 'en',
      bio: 'Line one\nLine two',
      place: 'Paris',
    };
    const row = () => app.deps.sqlite.prepare("select display_name, place, email, bio from staff where username = 'alice'").get();
    const before = row();
    for (const [field, value] of [
      ['display_name', 'Alice\nMartin'],
      ['display_name', 'Alice\u009bMartin'],
      ['place', 'Paris\u2028Lyon'],
    ] as const) {
      const res = await alice.post('/admin/profile', { ...profile, _csrf: await csrfOf(alice), [field]: value });
      assert.equal(res.status, 422, `${field} ${JSON.stringify(value)}`);
      assert.match(res.text, ONE_LINE_EN);
      assert.match(res.text, new RegExp(`id="${field}"[^>]*aria-invalid="true"`));
    }
    const email = await alice.post('/admin/profile', { ...profile, _csrf: await csrfOf(alice), email: 'alice\u0001@example.com' });
    assert.equal(email.status, 422);
    const bio = await alice.post('/admin/profile', { ...profile, _csrf: await csrfOf(alice), bio: 'Hi\u0007' }, { 'accept-language': 'fr' });
    assert.equal(bio.status, 422);
    assert.match(bio.text, /Retirez les caractères de contrôle invisibles de ce champ/);
    assert.deepEqual(row(), before);
    const fine = await alice.post('/admin/profile', { ...profile, _csrf: await csrfOf(alice) });
    assert.equal(fine.status, 303);
  });
});

describe('staff-side input in the CLI import', () => {
  const dir = tempFolder('input-');
  const env = { CRENEAU_DATA_DIR: join(dir, 'data') };
  const service = {
    slug: 'haircut',
    title: 'Haircut',
    description: 'A cut\nwith a wash',
    location: '',
    durationMinutes: 30,
    stepMinutes: 30,
    bufferBeforeMinutes: 0,
    bufferAfterMinutes: 0,
    minimumNoticeMinutes: 120,
    horizonDays: 60,
    dailyCap: null,
    hours: { mon: [['09:00', '12:00']], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] },
    overrides: [],
    fields: { note: 'optional', address: 'off', company: 'off', job_title: 'off', conference: 'off' },
    active: true,
  };
  const doc = (over: { profile?: Record<string, string>; service?: Record<string, unknown> } = {}) => ({
    format: 'creneau/1',
    profile: { username: 'alice', displayName: 'Alice Martin', email: 'alice@example.com', timeZone: 'Europe/Paris', locale: 'en', bio: '', place: 'Paris', ...over.profile },
    services: [{ ...service, ...over.service }],
  });

  test('a control character is refused with the field named, and nothing is written', async () => {
    writeFileSync(join(dir, 'pw'), `${PASSWORD}\n`);
    const created = await cli(['user', 'create', '--username', 'alice', '--email', 'alice@example.com', '--owner', '--password-file', join(dir, 'pw')], env);
    assert.equal(created.code, 0, created.err);
    const file = join(dir, 'alice.json');
    const cases: [ReturnType<typeof doc>, RegExp][] = [
      [doc({ service: { title: 'Haircut\r\nX-Injected: 1' } }), /services\[0\]\.title: contains a line break or an invisible control character/],
      [doc({ service: { location: 'Rue\u2028Paris' } }), /services\[0\]\.location: contains a line break/],
      [doc({ service: { description: 'A cut\u0000' } }), /services\[0\]\.description: contains an invisible control character/],
      [doc({ profile: { displayName: 'Alice\u0085Martin' } }), /profile\.displayName: contains a line break/],
      [doc({ profile: { place: 'Paris\nLyon' } }), /profile\.place: contains a line break/],
    ];
    for (const [content, message] of cases) {
      writeFileSync(file, JSON.stringify(content));
      const res = await cli(['import', '--user', 'alice', file], env);
      assert.equal(res.code, 1);
      assert.match(res.err, message);
    }
    // Nothing was written: no service, and the profile is still the one `user create` made.
    const app = await startTestApp({ CRENEAU_DATA_DIR: env.CRENEAU_DATA_DIR });
    try {
      const id = (app.deps.sqlite.prepare("select id from staff where username = 'alice'").get() as { id: number }).id;
      assert.deepEqual(await listActiveServices(app.deps.db, id), []);
      assert.deepEqual(app.deps.sqlite.prepare("select place from staff where username = 'alice'").get(), { place: '' });
    } finally {
      await app.stop();
    }
    // The same document without the bad characters imports.
    writeFileSync(file, JSON.stringify(doc()));
    const fine = await cli(['import', '--user', 'alice', file], env);
    assert.equal(fine.code, 0, fine.err);
  });
});
