import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser } from 'playwright-core';
import { startWorld, type World } from '../../scripts/test-support/world.js';
import { launchChromium, screenshotsDir } from '../../scripts/test-support/chromium.js';

const SCREENSHOTS = screenshotsDir();


let w: World;
let browser: Browser;
before(async () => {
  w = await startWorld();
  browser = await launchChromium();
});
after(async () => {
  await browser.close();
  await w.stop();
});

for (const viewport of [
  { name: 'phone', width: 375, height: 812 },
  { name: 'desktop', width: 1280, height: 900 },
]) {
  test(`a client books through the real pages with the keyboard and mouse (${viewport.name})`, async () => {
    const context = await browser.newContext({ viewport, timezoneId: 'America/New_York', locale: viewport.name === 'phone' ? 'fr-FR' : 'en-US' });
    const page = await context.newPage();
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(w.url)) foreign.push(r.url());
    });
    await page.goto(`${w.url}/@alice`);
    await page.screenshot({ path: join(SCREENSHOTS, `${viewport.name}-1-staff.png`), fullPage: true });
    await page.getByRole('link', { name: /Haircut/ }).click();
    // The tiny same-origin script switches the picker to the visitor's own zone.
    await page.waitForURL(/tz=America%2FNew_York/, { waitUntil: 'domcontentloaded' });
    assert.match(await page.textContent('body') ?? '', /America\/New York/);
    // The page carries two zones; the script fills in the browser's whole list.
    assert.ok((await page.locator('#tz option').count()) > 300, 'every zone to choose from');
    assert.equal(await page.inputValue('#tz'), 'America/New_York');
    assert.equal(await page.locator('[data-tz-more]').isVisible(), false, 'no link to the server list once filled');
    // The long list can be searched by city; the search picks the first match.
    await page.fill('#tz-search', 'tokyo');
    assert.equal(await page.inputValue('#tz'), 'Asia/Tokyo');
    assert.match((await page.locator('#tz option[value="Asia/Tokyo"]').textContent()) ?? '', /^Tokyo — \S+/);
    await page.fill('#tz-search', '');
    await page.selectOption('#tz', 'America/New_York');
    // A free day of the month calendar, reached with the keyboard.
    const day = page.locator('.month a.free').last();
    const dayHref = (await day.getAttribute('href')) ?? '';
    await page.evaluate('window.__samePage = true');
    await day.focus();
    await page.keyboard.press('Enter');
    // With the script, the day's times arrive in place: same page, new address, focus on the times.
    await page.waitForURL((u) => u.href.endsWith(dayHref.replaceAll('&amp;', '&')));
    // Polled from outside the page: the page's CSP forbids the eval that waitForFunction would use.
    for (let i = 0; i < 100 && (await page.evaluate('document.activeElement && document.activeElement.id')) !== 'slots-title'; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await page.evaluate('document.activeElement && document.activeElement.id'), 'slots-title', 'focus on the new times');
    assert.equal(await page.evaluate('window.__samePage'), true, 'no page load');
    await page.screenshot({ path: join(SCREENSHOTS, `${viewport.name}-2-slots.png`), fullPage: true });
    const slot = page.locator('.slots a').first();
    const slotLabel = (await slot.textContent())?.trim() ?? '';
    assert.ok(slotLabel.length > 0, 'a slot is offered');
    await slot.click();
    await page.waitForSelector('form [name=first_name]');
    await page.fill('[name=first_name]', 'Zoé');
    await page.fill('[name=last_name]', 'Lefèvre');
    await page.fill('[name=email]', `zoe.${viewport.name}@example.com`);
    await page.fill('[name=phone]', '+33 6 00 00 00 00');
    await page.screenshot({ path: join(SCREENSHOTS, `${viewport.name}-3-form.png`), fullPage: true });
    await page.locator('form[action$="/book"] button[type=submit]').click();
    await page.waitForURL(/\/b\/[0-9a-v]{26}\./).catch(async (err: unknown) => {
      throw new Error(`no confirmation page: ${page.url()} ${(await page.textContent('main'))?.slice(0, 300)}`, { cause: err });
    });
    const body = (await page.textContent('main')) ?? '';
    assert.match(body, viewport.name === 'phone' ? /Votre réservation est confirmée/ : /Your booking is confirmed/);
    assert.ok(body.includes(slotLabel), 'the confirmation shows the chosen time in the visitor zone');
    await page.screenshot({ path: join(SCREENSHOTS, `${viewport.name}-4-confirmed.png`), fullPage: true });
    const width = await page.evaluate("document.documentElement.scrollWidth");
    assert.ok(typeof width === "number" && width <= viewport.width, `no horizontal scrolling (${width}px)`);
    assert.deepEqual(await context.cookies(), [], 'a client gets no cookie');
    assert.deepEqual(foreign, [], 'no request to another origin');
    await context.close();
  });
}
