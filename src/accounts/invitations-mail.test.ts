import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Browser, hiddenValue, startTestApp, type TestApp } from '../../scripts/test-support/app.js';
import { startSmtpSink, type SmtpSink } from '../../scripts/test-support/world.js';
import { createLogger } from '../lib/log.js';
import { csrfOf, PASSWORD, setupOwner } from './test-helpers.js';

// Invitation e-mails through a real SMTP server (the sink parses what arrives), and through
// an SMTP URL nobody answers: the invitation must survive and the owner must be told.

const FROM = 'Creneau <booking@creneau.test>';

function header(raw: string, name: string): string {
  return new RegExp(`^${name}: (.*)$`, 'mi').exec(raw)?.[1]?.trim() ?? '';
}

function linkIn(html: string): string {
  const link = /id="invite-link" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(link, 'the link is shown to the owner');
  return link;
}

/** Opens an invitation link in a fresh browser and creates the account. */
async function accept(app: TestApp, link: string, username: string): Promise<void> {
  const b = new Browser(app.url);
  const path = new URL(link).pathname;
  const page = await b.get(path);
  assert.equal(page.status, 200);
  const done = await b.post(path, {
    _form: hiddenValue(page.text, '_form'),
    username,
    display_name: username,
    password: PASSWORD,
    password_confirm: PASSWORD,
    time_zone: 'Europe/Paris',
    locale: 'en',
  });
  assert.equal(done.status, 303, done.text.slice(0, 300));
  assert.equal((await b.get('/admin')).status, 200);
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('invitation e-mails with SMTP configured', () => {
  let sink: SmtpSink;
  let app: TestApp;
  let owner: Browser;
  before(async () => {
    sink = await startSmtpSink();
    app = await startTestApp({ CRENEAU_SMTP_URL: sink.url, CRENEAU_MAIL_FROM: FROM });
    owner = await setupOwner(app);
  });
  after(async () => {
    await app.stop();
    await sink.stop();
  });

  test('the colleague receives the link by e-mail (plain text, from CRENEAU_MAIL_FROM), and it works', async () => {
    const res = await owner.post('/admin/invitations', { _csrf: await csrfOf(owner), email: 'Bob@Example.com' });
    assert.equal(res.status, 201, res.text.slice(0, 300));
    const shown = linkIn(res.text);
    assert.match(res.text, /id="invite-mail-sent">An e-mail with the link was sent to bob@example\.com\./);
    assert.doesNotMatch(res.text, /invite-mail-failed/);

    const [mail] = await sink.waitFor(1);
    assert.ok(mail, 'a mail arrived');
    assert.equal(mail.to, 'bob@example.com');
    assert.equal(mail.subject, `Alice Martin invites you to join ${new URL(app.url).host}`);
    assert.ok(mail.text.includes(shown), 'the e-mail carries the same link');
    assert.match(mail.text, /expires in 7 days/);
    assert.match(header(mail.raw, 'From'), /booking@creneau\.test/);
    assert.match(header(mail.raw, 'Reply-To'), /alice@example\.com/);
    // Text and the same words as HTML: no remote image or style, no link but the one to our own site.
    assert.match(mail.raw, /Content-Type: text\/html/);
    assert.doesNotMatch(mail.raw, /<img|<link|src=/i);
    const hrefs = [...mail.raw.replace(/=\r?\n/g, '').matchAll(/href=3D"([^"]+)"|href="([^"]+)"/g)].map((m) => m[1] ?? m[2]);
    assert.deepEqual(hrefs, [shown]);
    const urls = mail.text.match(/https?:\/\/\S+/g) ?? [];
    assert.deepEqual(urls, [shown]);

    await accept(app, shown, 'bob');
    assert.equal((await new Browser(app.url).get(new URL(shown).pathname)).status, 404, 'used once');
  });

  test('the e-mail is in the owner’s current language', async () => {
    const before = sink.mails.length;
    const res = await owner.post('/admin/invitations', { _csrf: await csrfOf(owner), email: 'chloe@example.com' }, { 'accept-language': 'fr' });
    assert.equal(res.status, 201);
    assert.match(res.text, /Un e-mail avec le lien a été envoyé à chloe@example\.com\./);
    const mail = (await sink.waitFor(before + 1))[before];
    assert.ok(mail);
    assert.equal(mail.subject, `Alice Martin vous invite à rejoindre ${new URL(app.url).host}`);
    assert.match(mail.text, /Ouvrez ce lien/);
    assert.ok(mail.text.includes(linkIn(res.text)));
  });

  test('a refused invitation (bad address) sends nothing', async () => {
    const before = sink.mails.length;
    const res = await owner.post('/admin/invitations', { _csrf: await csrfOf(owner), email: 'not-an-address' });
    assert.equal(res.status, 422);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sink.mails.length, before);
  });
});

describe('invitation e-mails when the SMTP server cannot be reached', () => {
  let app: TestApp;
  let owner: Browser;
  const lines: string[] = [];
  before(async () => {
    app = await startTestApp(
      { CRENEAU_SMTP_URL: `smtp://127.0.0.1:${await closedPort()}/?ignoreTLS=true`, CRENEAU_MAIL_FROM: FROM },
      { deps: (d) => ({ ...d, log: createLogger('debug', (l) => lines.push(l)) }) },
    );
    owner = await setupOwner(app);
  });
  after(() => app.stop());

  test('the invitation is kept, the page says the e-mail failed, the link still works, nothing personal is logged', async () => {
    const res = await owner.post('/admin/invitations', { _csrf: await csrfOf(owner), email: 'dan@example.com' });
    assert.equal(res.status, 201, res.text.slice(0, 300));
    assert.match(res.text, /id="invite-mail-failed"/);
    assert.match(res.text, /could not be sent\. The invitation is valid: copy the link and send it yourself\./);
    assert.doesNotMatch(res.text, /invite-mail-sent/);
    const link = linkIn(res.text);
    const rows = app.deps.sqlite.prepare('select email from invitations').all() as { email: string }[];
    assert.deepEqual(rows, [{ email: 'dan@example.com' }], 'written once');
    assert.match((await owner.get('/admin/invitations')).text, /dan@example\.com/, 'listed as pending');

    assert.ok(lines.some((l) => l.includes('invitations.mail')), 'the failure is logged');
    const log = lines.join('\n');
    assert.doesNotMatch(log, /dan@example|alice@example|Alice Martin|\/invite\//);

    await accept(app, link, 'dan');
    assert.equal((app.deps.sqlite.prepare('select count(*) as n from invitations').get() as { n: number }).n, 0);
  });
});

describe('invitations without SMTP', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.stop());

  test('only the link is shown, with no word about an e-mail', async () => {
    const owner = await setupOwner(app);
    const res = await owner.post('/admin/invitations', { _csrf: await csrfOf(owner), email: 'erin@example.com' });
    assert.equal(res.status, 201);
    linkIn(res.text);
    assert.match(res.text, /Copy this link and send it to your colleague/);
    assert.doesNotMatch(res.text, /invite-mail-(sent|failed)/);
  });
});
