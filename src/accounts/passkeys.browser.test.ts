import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../../scripts/test-support/app.js';
import { PASSWORD, setupOwner } from './test-helpers.js';
import { launchChromium } from '../../scripts/test-support/chromium.js';

// Passkeys in a real Chromium with its virtual authenticator (DevTools protocol, a platform
// authenticator with user verification): add one on the profile, sign out, sign in with it;
// once removed it no longer signs anyone in. The site is http://localhost:<port>, because a
// WebAuthn relying party must be a domain name (an IP address is refused by the browser).


let app: TestApp;
let browser: Browser;
/** The site as the browser sees it (app.url is its 127.0.0.1 address). */
let site: string;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  return port;
}

before(async () => {
  const port = await freePort();
  site = `http://localhost:${port}`;
  app = await startTestApp({ CRENEAU_BASE_URL: site }, { port });
  await setupOwner({ ...app, url: site });
  browser = await launchChromium(['--host-resolver-rules=MAP localhost 127.0.0.1']);
});
after(async () => {
  await browser?.close();
  await app?.stop();
});

function passkeyCount(): number {
  return (app.deps.sqlite.prepare('select count(*) as n from passkeys').get() as { n: number }).n;
}

async function signOut(page: Page): Promise<void> {
  await Promise.all([page.waitForURL(`${site}/`), page.locator('form[action="/logout"] button').click()]);
}

test('add a passkey, sign out, sign in with it; a removed passkey no longer works', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });

  // Password first.
  await page.goto(`${site}/login`);
  await page.fill('#login', 'alice');
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(`${site}/admin`), page.locator('form[action="/login"] button[type="submit"]').click()]);

  // Add a passkey on the profile.
  await page.goto(`${site}/admin/profile`);
  await page.fill('#passkey-new-name', 'Test laptop');
  await Promise.all([page.waitForURL(/done=passkey_added/), page.click('#passkey-add-button')]);
  assert.match(await page.content(), /Your passkey was added/);
  assert.match(await page.content(), /value="Test laptop"/);
  assert.equal(passkeyCount(), 1);
  // The account export carries its public parts.
  const exported = (await (await page.request.get(`${site}/admin/data/export`)).json()) as { passkeys?: { name: string; credentialId: string; publicKey: string }[] };
  const stored = app.deps.sqlite.prepare('select credential_id from passkeys').get() as { credential_id: string };
  assert.equal(exported.passkeys?.[0]?.name, 'Test laptop');
  assert.equal(exported.passkeys?.[0]?.credentialId, stored.credential_id);
  assert.ok((exported.passkeys?.[0]?.publicKey.length ?? 0) > 40);

  // Sign out; on /login the username field's autofill (conditional UI) offers the passkey, and
  // the virtual authenticator picks it: signed in without typing anything.
  await signOut(page);
  await Promise.all([page.waitForURL(`${site}/admin`), page.goto(`${site}/login`)]);
  assert.ok((await context.cookies()).some((c) => c.name === 'creneau_session'), 'signed in');
  assert.ok(!(await context.cookies()).some((c) => c.name === 'creneau_signin'), 'the challenge cookie is spent');
  const used = app.deps.sqlite.prepare('select last_used_at from passkeys').get() as { last_used_at: number | null };
  assert.ok(used.last_used_at !== null, 'the sign-in went through the passkey');

  // A browser without conditional UI: the button.
  await context.addInitScript({ content: 'delete PublicKeyCredential.isConditionalMediationAvailable;' });
  await signOut(page);
  await page.goto(`${site}/login`);
  assert.equal(page.url(), `${site}/login`, 'nothing happens by itself');
  await Promise.all([page.waitForURL(`${site}/admin`), page.click('#passkey-sign-in')]);
  assert.ok((await context.cookies()).some((c) => c.name === 'creneau_session'), 'signed in with the button');

  // Remove it: the authenticator still offers it, the server no longer knows it.
  await page.goto(`${site}/admin/profile`);
  await Promise.all([page.waitForURL(/done=passkey_removed/), page.click('button:has-text("Remove Test laptop")')]);
  assert.equal(passkeyCount(), 0);
  await signOut(page);
  await page.goto(`${site}/login`);
  const [response] = await Promise.all([page.waitForResponse((r) => r.url() === `${site}/auth/passkey`), page.click('#passkey-sign-in')]);
  assert.equal(response.status(), 401);
  // The script shows the message in place; wait for it rather than reading a page that may still settle.
  await page.getByText(/This passkey is not known here, was removed, or could not be verified/).first().waitFor({ timeout: 10_000 });
  assert.ok(!(await context.cookies()).some((c) => c.name === 'creneau_session'), 'not signed in');
  assert.deepEqual(errors.filter((e) => /Content Security Policy/i.test(e)), [], 'no CSP violation');
  await context.close();
});
