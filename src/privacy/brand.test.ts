import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PNG } from 'pngjs';
import PostalMime from 'postal-mime';
import { Browser, startTestApp, type TestApp } from '../../scripts/test-support/app.js';
import { client, openForm, openRules, postForm, soon, startSmtpSink, startWorld, type SmtpSink } from '../../scripts/test-support/world.js';
import { csrfOf, inviteColleague, PASSWORD, setupOwner } from '../accounts/test-helpers.js';
import { insertService } from '../catalog/catalog.repo.js';
import { defaultFields } from '../catalog/catalog.js';
import { fixedClock } from '../lib/clock.js';
import { accentShades, contrastRatio, readableUnderWhiteText } from '../web/colour.js';
import { saveBrand } from './privacy.service.js';

// The business's own page (DESIGN.md "Branding"): the owner's name, accent colour and logo on
// the public pages, in the <title> and in the e-mails; contrast checked in both colour schemes.

describe('accent colour contrast (WCAG 2)', () => {
  test('known pairs, as published by WCAG contrast checkers (WebAIM)', () => {
    const pairs: [string, string, number][] = [
      ['#000000', '#ffffff', 21],
      ['#767676', '#ffffff', 4.54],
      ['#777777', '#ffffff', 4.48],
      ['#0000ff', '#ffffff', 8.59],
      ['#ff0000', '#ffffff', 3.99],
      ['#ffffff', '#ffffff', 1],
    ];
    for (const [a, b, expected] of pairs) {
      // The checkers print two decimals (WebAIM cuts rather than rounds: #ff0000 is 3.998).
      assert.ok(Math.abs(contrastRatio(a, b) - expected) < 0.01, `${a} on ${b}: ${contrastRatio(a, b)}`);
      assert.equal(contrastRatio(a, b), contrastRatio(b, a), 'order does not matter');
    }
    assert.equal(readableUnderWhiteText('#767676'), true);
    assert.equal(readableUnderWhiteText('#777777'), false);
  });

  test('every accepted colour gets shades readable in the light and the dark scheme (app.css backgrounds)', () => {
    let accepted = 0;
    // A grid over the whole cube, and the hardest case: the lightest grey still accepted.
    const colours = ['#767676', '#1f5fbf', '#000000'];
    for (let r = 0; r < 256; r += 17) for (let g = 0; g < 256; g += 17) for (let b = 0; b < 256; b += 17) colours.push(`#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`);
    for (const c of colours) {
      if (!readableUnderWhiteText(c)) continue;
      accepted++;
      const { light, dark } = accentShades(c);
      assert.equal(light.accent, c, 'the light scheme uses the colour as chosen');
      assert.ok(contrastRatio(light.accentFg, light.accent) >= 4.5, `${c}: button text, light`);
      for (const bg of ['#ffffff', '#f6f5f2', light.accentSoft]) assert.ok(contrastRatio(light.accentText, bg) >= 4.5, `${c}: links on ${bg}, light`);
      assert.ok(contrastRatio(dark.accentFg, dark.accent) >= 4.5, `${c}: button text, dark`);
      for (const bg of ['#17181b', '#22242a', dark.accentSoft]) assert.ok(contrastRatio(dark.accentText, bg) >= 4.5, `${c}: links on ${bg}, dark`);
      assert.ok(contrastRatio('#ececf0', dark.accentSoft) >= 4.5, `${c}: text on the dark tint`);
      assert.ok(contrastRatio('#1d1d1f', light.accentSoft) >= 4.5, `${c}: text on the light tint`);
    }
    assert.ok(accepted > 500, `the grid reached ${accepted} accepted colours`);
  });
});

/** A PNG of the given size, one colour (opaque unless alpha < 255). */
function png(width: number, height: number, rgba: [number, number, number, number]): Buffer {
  const img = new PNG({ width, height });
  for (let i = 0; i < img.data.length; i += 4) img.data.set(rgba, i);
  return PNG.sync.write(img);
}

function titleOf(html: string): string {
  return /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? '';
}

function headerOf(html: string): string {
  return /<header class="site">[\s\S]*?<\/header>/.exec(html)?.[0] ?? '';
}

function brandRows(app: TestApp): Record<string, string> {
  const rows = app.deps.sqlite.prepare("select key, value from settings where key like 'brand%' order by key").all() as { key: string; value: string }[];
  return Object.fromEntries(rows.map((r) => [r.key, r.key === 'brand_logo' ? `${r.value.length} chars` : r.value]));
}

describe('the owner brands the instance', () => {
  let app: TestApp;
  let smtp: SmtpSink;
  let owner: Browser;
  let bob: Browser;
  const visitor = (path: string, lang = 'en') => fetch(`${app.url}${path}`, { headers: { 'accept-language': lang } });

  before(async () => {
    smtp = await startSmtpSink();
    // A clock that stands still: a cached public page never ages out by itself, so only the write can make it fresh.
    app = await startTestApp({ CRENEAU_SMTP_URL: smtp.url, CRENEAU_MAIL_FROM: 'booking@salon.test' }, { clock: fixedClock(Date.now()) });
    owner = await setupOwner(app);
    bob = await inviteColleague(app, owner, { username: 'bob', email: 'bob@example.com', password: PASSWORD });
    const alice = app.deps.sqlite.prepare("select id from staff where username = 'alice'").pluck().get() as number;
    await insertService(app.deps.db, alice, { slug: 'haircut', title: 'Haircut', description: '', location: '', rules: openRules(), fields: defaultFields(), active: true }, Date.now());
  });
  after(async () => {
    await app.stop();
    await smtp.stop();
  });

  const saveBrand = async (fields: Record<string, string>, who = owner) => who.post('/admin/settings/brand', { _csrf: await csrfOf(who, '/admin/profile'), ...fields });

  test('by default the pages say "Creneau", link no brand style and show no logo; the brand files are 404', async () => {
    const page = await (await visitor('/@alice')).text();
    assert.equal(titleOf(page), 'Alice Martin · Creneau');
    assert.match(headerOf(page), /<a class="brand" href="\/">Creneau<\/a>/);
    assert.doesNotMatch(page, /\/brand\//);
    assert.equal((await visitor('/brand/style.css')).status, 404);
    assert.equal((await visitor('/brand/logo')).status, 404);
  });

  test('the name and colour: saved by the owner, shown at once on the (micro-cached) staff page and picker, in both languages', async () => {
    // Fill the micro-cache: the second anonymous visit is replayed.
    const before1 = await (await visitor('/@alice')).text();
    const hits = app.pageCache.hits;
    assert.equal(await (await visitor('/@alice')).text(), before1);
    assert.equal(app.pageCache.hits, hits + 1, 'the staff page was replayed from the micro-cache');

    const res = await saveBrand({ brand_name: '  Salon Martin  ', brand_accent: '#0B6E4F' });
    assert.equal(res.status, 303, res.text.slice(0, 400));
    assert.equal(res.location, '/admin/settings?done=brand');
    assert.deepEqual(brandRows(app), { brand_accent: '#0b6e4f', brand_name: 'Salon Martin' });
    const settings = await owner.get('/admin/settings?done=brand');
    assert.match(settings.text, /The name and colour were saved\./);
    assert.match(settings.text, /name="brand_name" value="Salon Martin"/);
    assert.match(settings.text, /name="brand_accent" value="#0b6e4f"/);

    // The write aged the cached page: the very next visit shows the name.
    const staff = await (await visitor('/@alice')).text();
    assert.equal(titleOf(staff), 'Alice Martin · Salon Martin');
    assert.match(headerOf(staff), /<a class="brand" href="\/">Salon Martin<\/a>/);
    const picker = await visitor('/@alice/haircut', 'fr');
    const pickerHtml = await picker.text();
    assert.equal(titleOf(pickerHtml), 'Haircut · Salon Martin');
    assert.match(headerOf(pickerHtml), />Salon Martin<\/a>/);

    // The colour: a versioned same-origin style sheet after app.css (the CSP allows no inline style).
    const link = /<link rel="stylesheet" href="(\/brand\/style\.css\?v=[\w-]+)">/.exec(pickerHtml)?.[1];
    assert.ok(link, 'the picker links the brand style sheet');
    assert.ok(pickerHtml.indexOf('css/app.css') < pickerHtml.indexOf(link), 'after app.css, so it overrides the built-in accent');
    assert.match(picker.headers.get('content-security-policy') ?? '', /style-src 'self'/);
    const css = await visitor(link);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    assert.match(css.headers.get('cache-control') ?? '', /max-age=31536000, immutable/);
    assert.equal(css.headers.get('set-cookie'), null);
    const sheet = await css.text();
    const light = /^:root \{([^}]*)\}/.exec(sheet)?.[1] ?? '';
    const dark = /prefers-color-scheme: dark\)\s*\{\s*:root \{([^}]*)\}/.exec(sheet)?.[1] ?? '';
    assert.match(light, /--accent: #0b6e4f;/);
    assert.match(light, /--accent-fg: #ffffff;/);
    const darkAccent = /--accent: (#[0-9a-f]{6});/.exec(dark)?.[1] ?? '';
    assert.notEqual(darkAccent, '#0b6e4f', 'a lighter shade in dark mode');
    assert.ok(contrastRatio(darkAccent, '#17181b') >= 4.5 && contrastRatio(darkAccent, '#22242a') >= 4.5, `${darkAccent} reads on the dark page and cards`);
    // An old version in a URL is not cached for long.
    assert.equal((await visitor('/brand/style.css?v=old')).headers.get('cache-control'), 'no-cache');
  });

  test('a colour too light for white button text is refused with the ratio, in English and French; nothing is saved', async () => {
    const stored = brandRows(app);
    const en = await saveBrand({ brand_name: 'Other name', brand_accent: '#777777' });
    assert.equal(en.status, 422);
    assert.match(en.text, /This colour is too light: white text on it has a contrast of only 4\.47:1, and at least 4\.5:1 is needed/);
    assert.match(en.text, /name="brand_accent" value="#777777"[^>]*aria-invalid="true"/);
    assert.match(en.text, /name="brand_name" value="Other name"/, 'what was typed is kept');
    assert.deepEqual(brandRows(app), stored);
    const fr = await owner.post('/admin/settings/brand', { _csrf: await csrfOf(owner, '/admin/profile'), brand_name: 'x', brand_accent: '#ffcc00' }, { 'accept-language': 'fr' });
    assert.equal(fr.status, 422);
    assert.match(fr.text, /Cette couleur est trop claire : un texte blanc dessus n’a qu’un contraste de 1\.\d\d:1, et il faut au moins 4\.5:1/);
    const bad = await saveBrand({ brand_name: 'x', brand_accent: 'green' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /Enter a colour as # followed by six hexadecimal digits/);
    const long = await saveBrand({ brand_name: 'x'.repeat(81), brand_accent: '' });
    assert.equal(long.status, 422);
    assert.match(long.text, /80/);
    const control = await saveBrand({ brand_name: 'Salon\u202eMartin', brand_accent: '' });
    assert.equal(control.status, 422);
    assert.deepEqual(brandRows(app), stored, 'nothing was saved');
    assert.equal(titleOf(await (await visitor('/@alice')).text()), 'Alice Martin · Salon Martin');
  });

  test('a colleague cannot change the brand (404 like any owner page); a forged post without the token is refused', async () => {
    const stored = brandRows(app);
    assert.equal((await bob.get('/admin/settings')).status, 404);
    assert.equal((await saveBrand({ brand_name: 'Bob’s', brand_accent: '#000000' }, bob)).status, 404);
    const form = new FormData();
    form.set('_csrf', await csrfOf(bob));
    form.set('logo', new Blob([png(10, 10, [0, 0, 0, 255])], { type: 'image/png' }), 'x.png');
    assert.equal((await bob.postMultipart('/admin/settings/logo', form)).status, 404);
    assert.equal((await bob.post('/admin/settings/logo/delete', { _csrf: await csrfOf(bob) })).status, 404);
    assert.equal((await owner.post('/admin/settings/brand', { brand_name: 'No token', brand_accent: '' })).status, 403);
    assert.equal((await new Browser(app.url).post('/admin/settings/brand', { brand_name: 'Anonymous', brand_accent: '' })).status, 403);
    assert.deepEqual(brandRows(app), stored);
  });

  test('the logo: re-encoded and shrunk like a profile picture, served same-origin with a version and a long cache, then removed', async () => {
    const upload = async (body: Buffer, type = 'image/png') => {
      const form = new FormData();
      form.set('_csrf', await csrfOf(owner, '/admin/settings'));
      form.set('logo', new Blob([body], { type }), 'logo.png');
      return owner.postMultipart('/admin/settings/logo', form);
    };
    const webp = Buffer.concat([Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1'), Buffer.alloc(32)]);
    const refused = await upload(webp, 'image/webp');
    assert.equal(refused.status, 422);
    assert.match(refused.text, /WebP pictures cannot be used yet/);
    assert.equal(brandRows(app).brand_logo, undefined);

    const res = await upload(png(1200, 300, [200, 30, 30, 128]));
    assert.equal(res.status, 303, res.text.slice(0, 400));
    assert.equal(res.location, '/admin/settings?done=logo');
    const staff = await (await visitor('/@alice')).text();
    const src = /<a class="brand" href="\/"><img src="(\/brand\/logo\?v=[\w-]+)" alt="">Salon Martin<\/a>/.exec(headerOf(staff))?.[1];
    assert.ok(src, headerOf(staff));
    const logo = await visitor(src);
    assert.equal(logo.status, 200);
    assert.equal(logo.headers.get('content-type'), 'image/png');
    assert.match(logo.headers.get('cache-control') ?? '', /max-age=31536000, immutable/);
    assert.equal(logo.headers.get('cross-origin-resource-policy'), 'same-origin');
    assert.equal(logo.headers.get('set-cookie'), null);
    const served = PNG.sync.read(Buffer.from(await logo.arrayBuffer()));
    assert.deepEqual([served.width, served.height], [512, 128], 'shrunk to 512 px a side');
    assert.ok(Number(logo.headers.get('content-length')) <= 100 * 1024);

    // An opaque logo comes back as a JPEG: the type served follows the bytes.
    await upload(png(64, 64, [10, 10, 10, 255]));
    const src2 = /<img src="(\/brand\/logo\?v=[\w-]+)"/.exec(await (await visitor('/@alice')).text())?.[1];
    assert.ok(src2 && src2 !== src, 'a new logo has a new URL');
    const jpeg = await visitor(src2);
    assert.equal(jpeg.headers.get('content-type'), 'image/jpeg');
    assert.deepEqual([...Buffer.from(await jpeg.arrayBuffer()).subarray(0, 3)], [0xff, 0xd8, 0xff]);
    assert.equal((await visitor(src)).headers.get('cache-control'), 'no-cache', 'the old version is not cached for long');

    const removed = await owner.post('/admin/settings/logo/delete', { _csrf: await csrfOf(owner, '/admin/settings') });
    assert.equal(removed.status, 303);
    assert.equal(removed.location, '/admin/settings?done=logo_removed');
    assert.deepEqual(Object.keys(brandRows(app)), ['brand_accent', 'brand_name']);
    assert.doesNotMatch(await (await visitor('/@alice')).text(), /<img src="\/brand\/logo/);
    assert.equal((await visitor('/brand/logo')).status, 404);
  });

  test('e-mails sent through the mailer carry the business name (From display name, HTML heading, first line of the plain text)', async () => {
    const sent = smtp.mails.length;
    const res = await owner.post('/admin/invitations', { _csrf: await csrfOf(owner), email: 'carol@example.com' });
    assert.equal(res.status, 201, res.text.slice(0, 300));
    const mail = (await smtp.waitFor(sent + 1))[sent];
    assert.ok(mail, 'the invitation arrived');
    const parsed = await PostalMime.parse(mail.raw);
    assert.deepEqual(parsed.from, { name: 'Salon Martin', address: 'booking@salon.test' });
    assert.match(parsed.html ?? '', /<p style="font-size:1\.25em;font-weight:bold">Salon Martin<\/p>/);
    assert.match(parsed.text ?? '', /^Salon Martin\r?\n\r?\n\S/, 'the plain text opens with the name');

    // Back to the default name: the From is CRENEAU_MAIL_FROM's again, and the pages say Creneau.
    assert.equal((await saveBrand({ brand_name: '', brand_accent: '' })).status, 303);
    assert.deepEqual(brandRows(app), {});
    assert.equal(titleOf(await (await visitor('/@alice')).text()), 'Alice Martin · Creneau');
    await owner.post('/admin/invitations', { _csrf: await csrfOf(owner), email: 'dan@example.com' });
    const plain = await PostalMime.parse(((await smtp.waitFor(sent + 2))[sent + 1] ?? { raw: '' }).raw);
    assert.equal(plain.from?.address, 'booking@salon.test');
    assert.equal(plain.from?.name ?? '', '');
    assert.doesNotMatch(plain.html ?? '', /Salon Martin/);
    assert.doesNotMatch(plain.text ?? '', /Salon Martin/);
  });
});

test('a booking e-mail (iMIP through the real mailer) carries the business name; the booking code passes nothing', async () => {
  const w = await startWorld();
  try {
    const saved = await saveBrand(w.deps.db, { name: 'Salon «Martin» & Co', accent: '' });
    assert.ok(saved.ok);
    const res = await postForm(`${w.url}/@alice/haircut/book`, { ...(await openForm(w, 'haircut', soon('10:00'))), ...client('brand') });
    assert.equal(res.status, 303);
    const mail = (await w.smtp.waitFor(1)).find((m) => m.to === 'clientbrand@example.com');
    assert.ok(mail, 'the invitation reached the client');
    const parsed = await PostalMime.parse(mail.raw);
    // CRENEAU_MAIL_FROM is `Creneau <booking@creneau.test>` in the world: the name replaces its display name.
    assert.deepEqual(parsed.from, { name: 'Salon «Martin» & Co', address: 'booking@creneau.test' });
    assert.match(parsed.html ?? '', />Salon «Martin» &amp; Co<\/p>/);
    assert.ok(mail.ics, 'still an iMIP invitation');
  } finally {
    await w.stop();
  }
});
