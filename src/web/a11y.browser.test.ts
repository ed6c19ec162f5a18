// axe-core over every public and every admin page, in Chromium, light and dark, en and fr,
// phone and desktop widths: an accessibility rule broken anywhere fails here with its page.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { type Browser, type Page } from 'playwright-core';
import { hashPassword } from '../accounts/password.js';
import { setPasswordHash } from '../accounts/accounts.repo.js';
import { client, iso, openForm, openRules, postForm, soon, startWorld, type World } from '../../scripts/test-support/world.js';
import { launchChromium } from '../../scripts/test-support/chromium.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PASSWORD = 'a11y password for alice';

interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { readonly target: readonly unknown[] }[];
}

let w: World;
let browser: Browser;
let manage = '';
/** Pages reached from e-mails: the staff member's approve/decline questions, the client's opt-in confirmation, and the answers of the posts. */
let fromMail: string[] = [];
before(async () => {
  w = await startWorld();
  await setPasswordHash(w.deps.db, w.staffId, await hashPassword(PASSWORD), Date.now());
  const start = soon('10:00');
  const res = await postForm(`${w.url}/@alice/haircut/book`, { ...(await openForm(w, 'haircut', start)), ...client('a11y') });
  assert.equal(res.status, 303, 'a booking to manage');
  manage = new URL(res.headers.get('location') ?? '', w.url).pathname;
  // A service asking approval and one asking e-mail confirmation, booked once each.
  await w.addService('request', openRules(), { title: 'Request', approval: true });
  await w.addService('checked', openRules(), { title: 'Checked', confirmEmail: true });
  const asked = await postForm(`${w.url}/@alice/request/book`, { ...(await openForm(w, 'request', soon('13:00'))), ...client('a11y-ask') });
  assert.equal(asked.status, 303, 'a request');
  const checked = await postForm(`${w.url}/@alice/checked/book`, { ...(await openForm(w, 'checked', soon('14:00'))), ...client('a11y-opt') });
  assert.equal(checked.status, 202, 'an e-mail confirmation');
  const mails = await w.smtp.waitFor(3, 10_000);
  const path = (re: RegExp) => {
    const url = mails.map((m) => re.exec(m.text)?.[0]).find((u) => u !== undefined);
    assert.ok(url, `a link ${String(re)} in: ${mails.map((m) => m.subject).join(' | ')}`);
    const u = new URL(url);
    return u.pathname + u.search;
  };
  fromMail = [path(/https?:\/\/\S+\/approve\/\S+/), path(/https?:\/\/\S+\/decline\/\S+/), path(/https?:\/\/\S+\/confirm\/\S+/), `/@alice/checked?start=${encodeURIComponent(iso(soon('15:00')))}`];
  for (const p of fromMail) assert.equal((await fetch(`${w.url}${p}`)).status, 200, `${p} opens`);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await w?.stop();
});

/** Runs axe on the page as it is and returns the violations, one line each. */
async function violations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, so the page's strict CSP does not apply to axe itself.
  await page.evaluate(AXE);
  const found = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`)) as AxeViolation[];
  return found.map((v) => `${v.id} (${v.impact ?? '?'}): ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).slice(0, 3).join(', ')}`);
}

const PUBLIC_PAGES = (): string[] => {
  const start = soon('11:00');
  return [
    '/',
    '/@alice',
    '/@alice/haircut',
    `/@alice/haircut?date=${iso(start).slice(0, 10)}`,
    `/@alice/haircut?start=${encodeURIComponent(iso(start))}`,
    manage,
    `${manage}?action=cancel`,
    `${manage}/reschedule`,
    `/@alice/haircut?month=${iso(start).slice(0, 7)}&hc=24`,
    '/privacy',
    '/login',
    ...fromMail,
    '/no-such-page',
    '/@nobody',
  ];
};

const ADMIN_PAGES = ['/admin', '/admin/profile', '/admin/services', '/admin/services/new', '/admin/schedule', '/admin/calendar', '/admin/calendar/disconnect', '/admin/settings', '/admin/invitations', '/admin/data'];

for (const scheme of ['light', 'dark'] as const) {
  for (const [locale, viewport] of [
    ['en-US', { width: 1280, height: 900 }],
    ['fr-FR', { width: 375, height: 812 }],
  ] as const) {
    test(`every public and admin page passes axe (${scheme}, ${locale}, ${viewport.width}px)`, async () => {
      const context = await browser.newContext({ viewport, locale, colorScheme: scheme });
      const page = await context.newPage();
      const problems: string[] = [];
      for (const path of PUBLIC_PAGES()) {
        await page.goto(`${w.url}${path}`);
        for (const v of await violations(page)) problems.push(`${path}: ${v}`);
      }
      await page.goto(`${w.url}/login`);
      await page.fill('[name=login]', 'alice');
      await page.fill('[name=password]', PASSWORD);
      await page.locator('form[action="/login"] button[type=submit]').click();
      await page.waitForURL(/\/admin/);
      const services = await page.goto(`${w.url}/admin/services`);
      assert.equal(services?.status(), 200);
      const editLink = await page.locator('a[href^="/admin/services/"]:not([href$="/new"])').first().getAttribute('href');
      for (const path of [...ADMIN_PAGES, ...(editLink ? [editLink, `${editLink}/delete`] : [])]) {
        const res = await page.goto(`${w.url}${path}`);
        assert.equal(res?.status(), 200, `${path} opens for the signed-in owner`);
        for (const v of await violations(page)) problems.push(`${path}: ${v}`);
      }
      await context.close();
      assert.deepEqual(problems, []);
    });
  }
}
