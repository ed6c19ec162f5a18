// The branded pages in Chromium: the accent colour reaches the page through the same-origin style
// sheet under the real CSP, and axe finds no contrast (or other) problem in the light or the dark
// scheme with the lightest grey the settings accept, a logo in the header.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { type Browser as Chromium, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import type { Browser } from '../../scripts/test-support/app.js';
import { startTestApp, type TestApp } from '../../scripts/test-support/app.js';
import { openRules } from '../../scripts/test-support/world.js';
import { csrfOf, PASSWORD, setupOwner } from '../accounts/test-helpers.js';
import { insertService } from '../catalog/catalog.repo.js';
import { defaultFields } from '../catalog/catalog.js';
import { accentShades } from '../web/colour.js';
import { launchChromium } from '../../scripts/test-support/chromium.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** The lightest grey under white text at 4.5:1: the hardest accent the form accepts. */
const ACCENT = '#767676';

let app: TestApp;
let owner: Browser;
let chromium1: Chromium;

before(async () => {
  app = await startTestApp();
  owner = await setupOwner(app);
  const alice = app.deps.sqlite.prepare("select id from staff where username = 'alice'").pluck().get() as number;
  await insertService(app.deps.db, alice, { slug: 'haircut', title: 'Haircut', description: '', location: '', rules: openRules(), fields: defaultFields(), active: true }, Date.now());
  const saved = await owner.post('/admin/settings/brand', { _csrf: await csrfOf(owner), brand_name: 'Salon Martin', brand_accent: ACCENT });
  assert.equal(saved.status, 303);
  const logo = new PNG({ width: 300, height: 100 });
  for (let i = 0; i < logo.data.length; i += 4) logo.data.set([20, 90, 60, i % 7 === 0 ? 0 : 255], i);
  const form = new FormData();
  form.set('_csrf', await csrfOf(owner));
  form.set('logo', new Blob([PNG.sync.write(logo)], { type: 'image/png' }), 'logo.png');
  assert.equal((await owner.postMultipart('/admin/settings/logo', form)).status, 303);
  chromium1 = await launchChromium();
});
after(async () => {
  await chromium1?.close();
  await app?.stop();
});

async function violations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const found = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`)) as {
    id: string;
    help: string;
    nodes: { target: unknown[] }[];
  }[];
  return found.map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).slice(0, 3).join(', ')}`);
}

/** The computed value of a CSS custom property on the root. */
function customProperty(page: Page, name: string): Promise<string> {
  return page.evaluate(`getComputedStyle(document.documentElement).getPropertyValue(${JSON.stringify(name)}).trim()`);
}

for (const scheme of ['light', 'dark'] as const) {
  test(`the branded pages apply the accent and pass axe (${scheme})`, async () => {
    const context = await chromium1.newContext({ viewport: { width: 1024, height: 800 }, locale: 'en-US', colorScheme: scheme });
    const page = await context.newPage();
    const blocked: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) blocked.push(m.text());
    });
    const shades = accentShades(ACCENT)[scheme];
    const problems: string[] = [];
    for (const path of ['/@alice', '/@alice/haircut', '/login']) {
      await page.goto(`${app.url}${path}`);
      assert.equal(await page.title(), path === '/login' ? 'Sign in · Salon Martin' : path === '/@alice' ? 'Alice Martin · Salon Martin' : 'Haircut · Salon Martin');
      assert.equal(await customProperty(page, '--accent'), shades.accent, `${path}: the accent of the ${scheme} scheme`);
      assert.equal(await customProperty(page, '--accent-text'), shades.accentText);
      await page.waitForLoadState('load');
      assert.ok(await page.evaluate(`(() => { const img = document.querySelector('header.site .brand img'); return img !== null && img.complete && img.naturalWidth > 0; })()`), `${path}: the logo loads`);
      for (const v of await violations(page)) problems.push(`${path}: ${v}`);
    }
    await page.fill('[name=login]', 'alice');
    await page.fill('[name=password]', PASSWORD);
    await page.locator('form[action="/login"] button[type=submit]').click();
    await page.waitForURL(/\/admin/);
    await page.goto(`${app.url}/admin/settings`);
    const button = await page.evaluate(`getComputedStyle(document.querySelector('form[action="/admin/settings/brand"] button[type=submit]')).backgroundColor`);
    const [r, g, bl] = [1, 3, 5].map((i) => parseInt(shades.accent.slice(i, i + 2), 16));
    assert.equal(button, `rgb(${r}, ${g}, ${bl})`, 'the save button wears the accent');
    for (const v of await violations(page)) problems.push(`/admin/settings: ${v}`);
    // To look at it: CRENEAU_TEST_SCREENSHOTS=/some/dir
    const shots = process.env.CRENEAU_TEST_SCREENSHOTS;
    if (shots) {
      await page.screenshot({ path: `${shots}/brand-settings-${scheme}.png`, fullPage: true });
      await page.goto(`${app.url}/@alice`);
      await page.screenshot({ path: `${shots}/brand-staff-${scheme}.png` });
    }
    await context.close();
    assert.deepEqual(problems, []);
    assert.deepEqual(blocked, [], 'nothing was blocked by the CSP');
  });
}
