import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Browser, startTestApp, type TestApp } from '../../scripts/test-support/app.js';
import { csrfOf, inviteColleague, PASSWORD, setupOwner } from '../accounts/test-helpers.js';
import { schemaDrift } from './privacy.service.js';

// The owner names the data controller on /admin/settings; /privacy shows it (or the owner).

async function privacy(app: TestApp, lang = 'en'): Promise<string> {
  const res = await fetch(`${app.url}/privacy`, { headers: { 'accept-language': lang } });
  assert.equal(res.status, 200);
  return res.text();
}

/** The controller section of /privacy. */
function controllerOf(html: string): string {
  return /<section class="card" id="controller"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
}

function settingsRows(app: TestApp): Record<string, string> {
  const rows = app.deps.sqlite.prepare('select key, value from settings order by key').all() as { key: string; value: string }[];
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

describe('instance settings: the data controller on /privacy', () => {
  let app: TestApp;
  let owner: Browser;
  let bob: Browser;
  before(async () => {
    app = await startTestApp();
    owner = await setupOwner(app);
    bob = await inviteColleague(app, owner, { username: 'bob', email: 'bob@example.com', password: PASSWORD });
  });
  after(() => app.stop());

  const save = async (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    owner.post('/admin/settings', { _csrf: await csrfOf(owner, '/admin/settings'), ...fields }, headers);

  test('the owner finds the page from the staff home; by default /privacy names the owner', async () => {
    assert.match((await owner.get('/admin')).text, /href="\/admin\/settings"/);
    const page = await owner.get('/admin/settings');
    assert.equal(page.status, 200);
    assert.match(page.text, /name="controller_name" value=""/);
    assert.match(page.text, /name="controller_contact" value=""/);
    const c = controllerOf(await privacy(app));
    assert.match(c, /Alice Martin/);
    assert.match(c, /mailto:alice@example\.com/);
  });

  test('set with an e-mail: 303, saved, and /privacy shows it in English and French instead of the owner', async () => {
    const res = await save({ controller_name: 'Salon Martin SARL', controller_contact: 'dpo@salon-martin.test' });
    assert.equal(res.status, 303, res.text.slice(0, 300));
    assert.equal(res.location, '/admin/settings?done=saved');
    const page = await owner.get(res.location);
    assert.match(page.text, /The settings were saved\./);
    assert.match(page.text, /name="controller_name" value="Salon Martin SARL"/);
    assert.deepEqual(settingsRows(app), { privacy_contact: 'dpo@salon-martin.test', privacy_controller_name: 'Salon Martin SARL' });

    const en = controllerOf(await privacy(app, 'en'));
    assert.match(en, /<strong>Salon Martin SARL<\/strong>/);
    assert.match(en, /<a href="mailto:dpo@salon-martin\.test">dpo@salon-martin\.test<\/a>/);
    assert.match(en, /The controller of the data described here/);
    assert.doesNotMatch(en, /alice@example\.com|Alice Martin/);
    const fr = controllerOf(await privacy(app, 'fr'));
    assert.match(fr, /Le responsable du traitement/);
    assert.match(fr, /<strong>Salon Martin SARL<\/strong>/);
    assert.match(fr, /mailto:dpo@salon-martin\.test/);
    assert.deepEqual((await schemaDrift(app.deps.db)).unclassified, [], 'every column still classified');
  });

  test('set with a web address: /privacy links to it', async () => {
    assert.equal((await save({ controller_name: 'Salon Martin SARL', controller_contact: 'https://salon-martin.test/contact' })).status, 303);
    assert.match(controllerOf(await privacy(app)), /<a href="https:\/\/salon-martin\.test\/contact">https:\/\/salon-martin\.test\/contact<\/a>/);
  });

  test('bad input: 422 with the values and messages in the page language; nothing changes', async () => {
    const stored = settingsRows(app);
    const cases: [Record<string, string>, string, RegExp, RegExp][] = [
      [{ controller_name: 'Salon', controller_contact: 'javascript:alert(1)' }, 'controller_contact', /or a web address starting with https:\/\//, /ou une adresse web commençant par https:\/\//],
      [{ controller_name: 'Salon', controller_contact: 'ftp://salon.test/' }, 'controller_contact', /or a web address/, /ou une adresse web/],
      [{ controller_name: 'Salon', controller_contact: 'https://user:pw@salon.test/' }, 'controller_contact', /or a web address/, /ou une adresse web/],
      [{ controller_name: 'Salon\u0007Martin', controller_contact: 'a@b.test' }, 'controller_name', /characters that are not allowed/, /caractères/],
      [{ controller_name: 'Salon\nMartin', controller_contact: 'a@b.test' }, 'controller_name', /characters that are not allowed/, /caractères/],
      [{ controller_name: 'x'.repeat(121), controller_contact: 'a@b.test' }, 'controller_name', /at most 120 characters/, /120/],
      [{ controller_name: 'Salon', controller_contact: `https://salon.test/${'a'.repeat(260)}` }, 'controller_contact', /at most 254 characters/, /254/],
      [{ controller_name: 'Salon Martin SARL', controller_contact: '' }, 'controller_contact', /Enter both the name and the contact/, /Saisissez le nom et le contact/],
      [{ controller_name: '', controller_contact: 'a@b.test' }, 'controller_name', /Enter both the name and the contact/, /Saisissez le nom et le contact/],
    ];
    for (const [fields, field, en, fr] of cases) {
      const res = await save(fields);
      assert.equal(res.status, 422, JSON.stringify(fields));
      assert.match(res.text, new RegExp(`id="${field}"[^>]*aria-invalid="true"`), `${field} marked`);
      assert.match(res.text, en, JSON.stringify(fields));
      assert.match(res.text, /id="error-summary"/);
      const frRes = await save(fields, { 'accept-language': 'fr' });
      assert.equal(frRes.status, 422);
      assert.match(frRes.text, fr, `fr ${JSON.stringify(fields)}`);
    }
    const kept = await save({ controller_name: 'Kept &amp; shown', controller_contact: 'nope' });
    assert.match(kept.text, /value="Kept &amp;amp; shown"/, 'the typed values come back, escaped');
    assert.match(kept.text, /name="controller_contact" value="nope"/);
    assert.deepEqual(settingsRows(app), stored);
  });

  test('HTML in the settings is escaped on /privacy and on the settings page', async () => {
    const name = '<script>alert(1)</script> & "Co"';
    const contact = 'https://salon.test/?q="><script>alert(2)</script>';
    assert.equal((await save({ controller_name: name, controller_contact: contact })).status, 303);
    const html = await privacy(app);
    assert.doesNotMatch(html, /<script>alert/);
    const c = controllerOf(html);
    assert.match(c, /<strong>&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; &quot;Co&quot;<\/strong>/);
    assert.match(c, /href="https:\/\/salon\.test\/\?q=%22%3E%3Cscript%3Ealert\(2\)%3C\/script%3E"/);
    const page = await owner.get('/admin/settings');
    assert.doesNotMatch(page.text, /<script>alert/);
  });

  test('clearing both fields goes back to the owner’s details', async () => {
    const res = await save({ controller_name: '', controller_contact: '' });
    assert.equal(res.status, 303);
    assert.deepEqual(settingsRows(app), {});
    const c = controllerOf(await privacy(app));
    assert.match(c, /Alice Martin/);
    assert.match(c, /mailto:alice@example\.com/);
  });

  test('a colleague gets 404 (and no link); signed out goes to sign-in; without the CSRF token 403', async () => {
    assert.doesNotMatch((await bob.get('/admin')).text, /href="\/admin\/settings"/);
    assert.equal((await bob.get('/admin/settings')).status, 404);
    const bobCsrf = await csrfOf(bob);
    assert.equal((await bob.post('/admin/settings', { _csrf: bobCsrf, controller_name: 'Bob Ltd', controller_contact: 'bob@example.com' })).status, 404);

    const anon = new Browser(app.url);
    const out = await anon.get('/admin/settings');
    assert.equal(out.status, 303);
    assert.match(out.location ?? '', /^\/login\?next=%2Fadmin%2Fsettings/);
    assert.equal((await anon.post('/admin/settings', { controller_name: 'X', controller_contact: 'x@x.test' })).status, 403);

    assert.equal((await owner.post('/admin/settings', { controller_name: 'Evil Ltd', controller_contact: 'evil@evil.test' })).status, 403);
    assert.equal((await owner.post('/admin/settings', { _csrf: 'wrong', controller_name: 'Evil Ltd', controller_contact: 'evil@evil.test' })).status, 403);
    assert.deepEqual(settingsRows(app), {});
  });
});
