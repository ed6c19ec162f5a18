import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startWorldWithBrowser } from '../../scripts/test-support/chromium.js';
import type { World } from '../../scripts/test-support/world.js';

// The calendar page in a real Chromium: asking a calendar server can take a while, and the
// staff member is told so at once (static/js/busy-form.js), in their language, and cannot
// submit twice. Alice's calendar is a real Radicale; the browser's request for the check is held
// back, as a slow server would hold it.

const PASSWORD = 'a long staff passphrase';
let w: World;
let browser: Browser;
let stop = async (): Promise<void> => undefined;

before(async () => {
  ({ world: w, browser, stop } = await startWorldWithBrowser(PASSWORD));
});
after(() => stop());

for (const [locale, busy, done] of [
  ['en-US', /Checking your calendar… With a slow server this can take up to a minute\./, /Connection check/],
  ['fr-FR', /Vérification de votre agenda… Avec un serveur lent, cela peut prendre jusqu’à une minute\./, /Vérification de la connexion/],
] as const) {
  test(`${locale}: the connection check says it is running, and is sent once however often the button is pressed`, { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ locale });
    try {
      const page = await context.newPage();
      await page.goto(`${w.url}/login`);
      await page.fill('#login', 'alice');
      await page.fill('#password', PASSWORD);
      await Promise.all([page.waitForURL(/\/admin/), page.locator('form[action="/login"] button[type=submit]').click()]);
      await page.goto(`${w.url}/admin/calendar`);

      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      let posts = 0;
      await page.route('**/admin/calendar/test', async (route) => {
        posts++;
        await held;
        await route.continue();
      });
      const form = page.locator('form[action="/admin/calendar/test"]');
      assert.equal(await form.locator('[data-busy-status]').textContent(), '', 'no message before');
      // All in one script of the page: Playwright's click and its later calls wait for the held
      // navigation to finish. Pressed, then the state read, then pressed again and the form
      // submitted as Enter would.
      const seen = (await page.evaluate(`(() => {
        const f = document.querySelector('form[action="/admin/calendar/test"]');
        const b = f.querySelector('button[type=submit]');
        b.click();
        return new Promise((resolve) => setTimeout(() => {
          const state = [f.getAttribute('aria-busy'), f.querySelector('[role=status]').textContent, b.disabled];
          b.click();
          f.requestSubmit();
          resolve(JSON.stringify(state));
        }, 50));
      })()`)) as string;
      const [ariaBusy, message, disabled] = JSON.parse(seen) as [string | null, string, boolean];
      assert.equal(ariaBusy, 'true');
      assert.match(message, busy);
      assert.equal(disabled, true, 'the button is disabled');
      release();
      await page.waitForSelector('ul.checks li');
      assert.equal(posts, 1, 'one request for the check');
      assert.match((await page.textContent('main')) ?? '', done);
      assert.equal(await page.locator('form[action="/admin/calendar/test"] [data-busy-status]').textContent(), '', 'the new page starts without the message');
    } finally {
      await context.close();
    }
  });
}
