// The whole client journey in Chromium (issue #15): staff page → month → day → time → form with
// the service's questions → confirmation → the link from the invitation e-mail (zone kept) →
// reschedule → cancel with a message. Four runs: each width with and without JavaScript, each
// in both languages and colour schemes across the runs (a phone in French, dark, with
// JavaScript; a desktop in English, light, without; and the two others). Every step is
// photographed (CRENEAU_SCREENSHOTS=docs/screenshots to refresh the repository's set).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser } from 'playwright-core';
import { openRules, startWorld, type World } from '../../scripts/test-support/world.js';
import { launchChromium, screenshotsDir } from '../../scripts/test-support/chromium.js';

const SCREENSHOTS = screenshotsDir();

let w: World;
let browser: Browser;
before(async () => {
  w = await startWorld();
  await w.addService('visit', openRules({ durationMinutes: 60, stepMinutes: 60 }), {
    title: 'Home visit',
    questions: [
      { id: 'pets', label: 'Any pets at home?', type: 'choice', required: true, options: ['Cat', 'Dog', 'None'] },
      { id: 'access', label: 'How to get in', type: 'textarea', required: false, options: [] },
    ],
  });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await w?.stop();
});

const RUNS = [
  { name: 'phone-fr-dark-js', viewport: { width: 375, height: 812 }, locale: 'fr-FR', scheme: 'dark', js: true, zone: 'America/New_York' },
  { name: 'desktop-en-light-nojs', viewport: { width: 1280, height: 900 }, locale: 'en-US', scheme: 'light', js: false, zone: 'Europe/Paris' },
  { name: 'phone-en-light-nojs', viewport: { width: 375, height: 812 }, locale: 'en-US', scheme: 'light', js: false, zone: 'Europe/Paris' },
  { name: 'desktop-fr-dark-js', viewport: { width: 1280, height: 900 }, locale: 'fr-FR', scheme: 'dark', js: true, zone: 'America/New_York' },
] as const;

for (const run of RUNS) {
  test(`the whole journey, ${run.name}`, async () => {
    const context = await browser.newContext({ viewport: run.viewport, locale: run.locale, colorScheme: run.scheme, javaScriptEnabled: run.js, timezoneId: run.zone });
    const page = await context.newPage();
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(w.url)) foreign.push(r.url());
    });
    let step = 0;
    const shot = async (what: string) => page.screenshot({ path: join(SCREENSHOTS, `walk-${run.name}-${++step}-${what}.png`), fullPage: true });
    const fr = run.locale.startsWith('fr');
    const noHorizontalScroll = async () => {
      const width = await page.evaluate('document.documentElement.scrollWidth');
      assert.ok(typeof width === 'number' && width <= run.viewport.width, `no horizontal scrolling (${String(width)}px)`);
    };

    await page.goto(`${w.url}/@alice`);
    await shot('staff');
    await page.getByRole('link', { name: /Home visit/ }).click();
    if (run.js) await page.waitForURL(/tz=America%2FNew_York/); // the script picks the visitor's zone
    else await page.waitForLoadState('load');
    await shot('month');
    await noHorizontalScroll();

    // The next month, then back: days with free time are links, the others are not.
    const next = page.locator('.month-nav a').last();
    await next.click();
    await page.waitForURL(/[?&]month=/); // with JavaScript: once the swapped page is in the history
    await page.goBack();
    await page.waitForSelector('.month a.free');
    const day = page.locator('.month a.free').nth(1);
    await day.click();
    await page.waitForURL(/[?&]date=/);
    await page.waitForSelector('.times .slots a');
    await shot('day');
    const slot = page.locator('.times .slots a').first();
    const slotLabel = ((await slot.textContent()) ?? '').trim();
    await slot.click();
    await page.waitForSelector('form [name=first_name]');
    await page.fill('[name=first_name]', 'Zoé');
    await page.fill('[name=last_name]', run.name);
    await page.fill('[name=email]', `zoe.${run.name}@example.com`);
    await page.fill('[name=phone]', '+33 6 00 00 00 00');
    await page.check('input[name=q_pets][value=Cat]');
    await page.fill('[name=q_access]', 'Code 1234, second floor');
    await shot('form');
    await noHorizontalScroll();
    await page.locator('form[action$="/book"] button[type=submit]').click();
    await page.waitForURL(/\/b\/[0-9a-v]{26}\./).catch(async (err: unknown) => {
      throw new Error(`no confirmation page: ${page.url()} ${(await page.textContent('main'))?.slice(0, 400)}`, { cause: err });
    });
    await shot('confirmed');
    const confirmed = (await page.textContent('main')) ?? '';
    assert.match(confirmed, fr ? /Votre réservation est confirmée/ : /Your booking is confirmed/);
    assert.ok(confirmed.includes(slotLabel), `the chosen time (${slotLabel}) in the visitor's zone`);

    // The link in the invitation e-mail opens the booking in the client's zone.
    const mails = await w.smtp.waitFor(1);
    const invitation = mails.find((m) => m.to === `zoe.${run.name}@example.com`);
    assert.ok(invitation, 'the invitation arrived');
    const link = /https?:\/\/\S+\/b\/[0-9a-v.]+\?tz=[^\s)]+/.exec(invitation.text)?.[0];
    assert.ok(link, `a manage link with the zone: ${invitation.text}`);
    const shownZone = run.js ? 'America/New_York' : 'Europe/Paris';
    assert.ok(link.includes(`tz=${encodeURIComponent(shownZone)}`), link);
    await page.goto(link);
    await shot('from-email');
    assert.ok(((await page.textContent('main')) ?? '').includes(slotLabel), 'the same time as chosen, in the same zone');

    // Reschedule to another time of that day.
    await page.getByRole("link", { name: fr ? /Changer l’horaire/ : /Change the time/ }).click();
    await page.waitForSelector('.times .slots button');
    await shot('reschedule');
    const other = page.locator('.times .slots button').nth(1);
    const otherLabel = ((await other.textContent()) ?? '').trim();
    await other.click();
    await page.waitForURL(/moved=1/);
    await shot('moved');
    const moved = (await page.textContent('main')) ?? '';
    assert.ok(moved.includes(otherLabel), 'the new time');
    assert.equal(await page.locator('dd del').count(), 1, 'the former time, struck through');

    // Cancel, leaving a message for the staff member.
    await page.getByRole("link", { name: fr ? /Annuler la réservation/ : /Cancel the booking/ }).click();
    await page.fill('textarea[name=message]', 'Désolée, empêchement.');
    await shot('cancel');
    await page.locator('form[action$="/cancel"] button[type=submit]').click();
    await page.waitForURL(/cancelled=1/);
    await shot('cancelled');
    assert.match((await page.textContent('main')) ?? '', fr ? /Votre réservation est annulée/ : /Your booking is cancelled/);
    const staffMail = (await w.smtp.waitFor(mails.length + 3)).find((m) => m.to === 'alice@salon.test' && m.text.includes('Désolée, empêchement.'));
    assert.ok(staffMail, 'the staff member received the message');

    assert.deepEqual(await context.cookies(), [], 'a client gets no cookie');
    assert.deepEqual(foreign, [], 'no request to another origin');
    await context.close();
  });
}
