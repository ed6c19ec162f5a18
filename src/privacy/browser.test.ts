import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startWorldWithBrowser } from '../../scripts/test-support/chromium.js';
import type { World } from '../../scripts/test-support/world.js';
import { tempFolder } from '../../scripts/test-support/temp.js';

// The privacy promise as a browser sees it (DESIGN.md §1.3, §1.4): a real Chromium visits every
// public page and every staff page of a whole Creneau (Radicale, SMTP sink) and records every
// request, cookie and CSP violation.

const SCREENSHOTS = process.env.CRENEAU_SCREENSHOTS ?? tempFolder('privacy-shots-');
const PASSWORD = 'a long staff passphrase';

// Injected by the DevTools protocol (not subject to the page's CSP): reports violations to the console.
const CSP_PROBE = `document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));`;

interface Recorder {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly foreign: string[];
  readonly csp: string[];
  readonly visited: string[];
  visit(path: string): Promise<number>;
}

let w: World;
let browser: Browser;
let stop = async (): Promise<void> => undefined;

async function record(locale = 'en-US', viewport = { width: 1280, height: 900 }): Promise<Recorder> {
  const context = await browser.newContext({ locale, viewport });
  await context.addInitScript({ content: CSP_PROBE });
  const page = await context.newPage();
  const origin = new URL(w.url).origin;
  const r: Recorder = {
    context,
    page,
    foreign: [],
    csp: [],
    visited: [],
    visit: async (path) => {
      const res = await page.goto(`${w.url}${path}`);
      r.visited.push(`${path} ${res?.status() ?? 0}`);
      return res?.status() ?? 0;
    },
  };
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith('data:') && new URL(u).origin !== origin) r.foreign.push(u);
  });
  page.on('console', (m) => {
    if (/Content Security Policy|CSP violation/i.test(m.text())) r.csp.push(m.text());
  });
  return r;
}

async function cookieNames(r: Recorder): Promise<string[]> {
  return (await r.context.cookies()).map((c) => c.name).sort();
}

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  ({ world: w, browser, stop } = await startWorldWithBrowser(PASSWORD));
});
after(() => stop());

describe('in a real browser', () => {
  test('a client: every public page, a real booking, cancel and reschedule — no cookie, no other origin, no CSP violation', async () => {
    const r = await record();
    const { page } = r;
    assert.equal(await r.visit('/'), 200);
    assert.equal(await r.visit('/@alice'), 200);
    assert.equal(await r.visit('/@alice/haircut'), 200);
    await Promise.all([page.waitForNavigation(), page.locator('.slots a').first().click()]);
    await page.waitForSelector('form [name=first_name]');
    r.visited.push(`${new URL(page.url()).pathname} (form)`);
    // A bad form first: the 422 page with its messages.
    await page.fill('[name=first_name]', 'Zoé');
    await page.fill('[name=last_name]', 'Lefèvre');
    await page.fill('[name=email]', 'not-an-email');
    await page.fill('[name=phone]', '+33 6 00 00 00 00');
    await page.evaluate('for (const f of document.querySelectorAll("form")) f.noValidate = true');
    await Promise.all([page.waitForNavigation(), page.locator('form[action$="/book"] button[type=submit]').click()]);
    assert.ok(await page.locator('[name=email][aria-invalid=true]').count(), 'the 422 page marks the bad e-mail');
    r.visited.push(`${new URL(page.url()).pathname} (422)`);
    await page.fill('[name=email]', 'zoe.browser@example.com');
    await page.locator('form[action$="/book"] button[type=submit]').click();
    await page.waitForURL(/\/b\/[0-9a-v]{26}\./);
    const manage = new URL(page.url()).pathname;
    r.visited.push(`${manage} (confirmation)`);
    assert.match((await page.textContent('main')) ?? '', /Your booking is confirmed/);
    assert.equal(await r.visit(`${manage}/reschedule`), 200);
    assert.equal(await r.visit(`${manage}?action=cancel`), 200);
    await page.locator('form[action$="/cancel"] button[type=submit]').click();
    await page.waitForURL(/cancelled=1/);
    r.visited.push(`${manage}?cancelled=1`);
    assert.equal(await r.visit('/privacy'), 200);
    assert.equal(await r.visit('/b/0000000000000000000000000a.AAAAAAAAAAAAAAAAAAAAAA'), 404);
    assert.equal(await r.visit('/@nobody-here'), 404);
    assert.ok(r.visited.length >= 10, r.visited.join('\n'));
    assert.deepEqual(r.foreign, [], 'requests to another origin');
    assert.deepEqual(r.csp, [], 'CSP violations');
    assert.deepEqual(await r.context.cookies(), [], 'a client gets no cookie');
    await r.context.close();
  });

  test('a client who switches language gets exactly one cookie, lang, and the page in that language', async () => {
    const r = await record('en-US');
    await r.visit('/privacy');
    assert.deepEqual(await r.context.cookies(), []);
    await r.page.selectOption('#lang-select', 'fr');
    await Promise.all([r.page.waitForNavigation(), r.page.locator('.lang-switch button[type=submit]').click()]);
    assert.equal(new URL(r.page.url()).pathname, '/privacy', 'back on the same page');
    assert.match((await r.page.textContent('h1')) ?? '', /Confidentialité/);
    assert.deepEqual(await cookieNames(r), ['creneau_lang']);
    const [lang] = await r.context.cookies();
    assert.equal(lang?.httpOnly, true);
    assert.equal(lang?.sameSite, 'Lax');
    await r.visit('/@alice/haircut');
    assert.deepEqual(await cookieNames(r), ['creneau_lang'], 'browsing on adds nothing');
    assert.deepEqual(r.foreign, []);
    assert.deepEqual(r.csp, []);
    await r.context.close();
  });

  test('staff: every staff page with at most two cookie names (+ lang only after choosing), no other origin, no CSP violation', async () => {
    const r = await record();
    const { page } = r;
    await r.visit('/login');
    await page.fill('#login', 'alice');
    await page.fill('#password', PASSWORD);
    await page.check('#remember');
    await Promise.all([page.waitForURL(/\/admin/), page.locator('form[action="/login"] button[type=submit]').click()]);
    const services = await w.deps.db.selectFrom('services').select('id').where('staff_id', '=', w.staffId).execute();
    const paths = ['/admin', '/admin/profile', '/admin/services', `/admin/services/${services[0]?.id ?? 0}`, '/admin/services/new', '/admin/invitations', '/admin/data', '/admin/calendar', '/privacy'];
    for (const p of paths) assert.equal(await r.visit(p), 200, p);
    const names = await cookieNames(r);
    assert.ok(names.length <= 2, names.join(', '));
    assert.deepEqual(names, ['creneau_remember', 'creneau_session']);
    for (const c of await r.context.cookies()) {
      assert.equal(c.httpOnly, true, c.name);
      assert.equal(c.sameSite, 'Lax', c.name);
    }
    await page.selectOption('#lang-select', 'fr');
    await Promise.all([page.waitForNavigation(), page.locator('.lang-switch button[type=submit]').click()]);
    assert.match((await page.textContent('h1')) ?? '', /Confidentialité/);
    assert.deepEqual(await cookieNames(r), ['creneau_lang', 'creneau_remember', 'creneau_session']);
    assert.deepEqual(r.foreign, [], 'requests to another origin');
    assert.deepEqual(r.csp, [], 'CSP violations');
    await r.context.close();
  });

  test('/privacy screenshots in en and fr at phone and desktop width, without horizontal scrolling', async () => {
    for (const lang of ['en-US', 'fr-FR']) {
      for (const vp of [{ name: 'phone', width: 375, height: 812 }, { name: 'desktop', width: 1280, height: 900 }]) {
        const r = await record(lang, { width: vp.width, height: vp.height });
        await r.visit('/privacy');
        const file = join(SCREENSHOTS, `privacy-${lang.slice(0, 2)}-${vp.name}.png`);
        await r.page.screenshot({ path: file, fullPage: true });
        const width = (await r.page.evaluate('document.documentElement.scrollWidth')) as number;
        assert.ok(width <= vp.width, `${file}: ${width}px wide`);
        assert.deepEqual(r.csp, []);
        await r.context.close();
      }
    }
    console.log(`# screenshots in ${SCREENSHOTS}`);
  });
});
