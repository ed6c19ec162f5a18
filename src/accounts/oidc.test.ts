import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Browser, startTestApp, type TestApp } from '../../scripts/test-support/app.js';
import { signInAtProvider, startOidcProvider, type TestProvider } from '../../scripts/test-support/oidc-provider.js';
import { csrfOf, PASSWORD, setupOwner } from './test-helpers.js';

// Single sign-on against a real OpenID provider (oidc-provider, in this process): the whole
// round trip over HTTP — discovery, authorization code with PKCE, state and nonce, the token
// exchange and the ID token's verification — and every way it can go wrong.

/** A free port on 127.0.0.1: the app's base URL must be known before the provider registers its callback. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  return port;
}

function staffRow(app: TestApp, email: string): { id: number; oidc_sub: string | null; password_hash: string | null; username: string } | undefined {
  return app.deps.sqlite.prepare('select id, oidc_sub, password_hash, username from staff where email = ?').get(email) as
    | { id: number; oidc_sub: string | null; password_hash: string | null; username: string }
    | undefined;
}

function signedIn(b: Browser): boolean {
  return [...b.cookies.keys()].some((k) => k.endsWith('creneau_session'));
}

describe('single sign-on with a real OpenID provider', () => {
  let provider: TestProvider;
  let app: TestApp;
  let owner: Browser;

  before(async () => {
    const port = await freePort();
    const appUrl = `http://127.0.0.1:${port}`;
    provider = await startOidcProvider(appUrl);
    app = await startTestApp(provider.env({ CRENEAU_OIDC_LABEL: 'Company SSO' }), { port });
    owner = await setupOwner(app);
    provider.setAccount('sub-alice', { email: 'Alice@Example.com', email_verified: true, name: 'Alice at the IdP' });
    provider.setAccount('sub-nobody', { email: 'nobody@example.com', email_verified: true });
    provider.setAccount('sub-unverified', { email: 'alice@example.com', email_verified: false });
    provider.setAccount('sub-bob', { email: 'bob@example.com', email_verified: true, name: 'Bob Builder', preferred_username: 'bob' });
    provider.setAccount('sub-mallory', { email: 'mallory@example.com', email_verified: true });
  });
  after(async () => {
    await app?.stop();
    await provider?.stop();
  });

  test('the sign-in page offers the button with its label; a verified e-mail signs in its account and links the subject', async () => {
    const b = new Browser(app.url);
    const login = await b.get('/login');
    assert.match(login.text, /href="\/auth\/oidc\?next=[^"]*">Company SSO</);
    assert.match(login.text, /name="password"/, 'the password form stays while CRENEAU_PASSWORD_LOGIN is on');
    const { page, authorizeUrl } = await signInAtProvider(b, '/auth/oidc?next=%2Fadmin%2Fservices', 'sub-alice');
    const params = new URL(authorizeUrl).searchParams;
    assert.equal(params.get('code_challenge_method'), 'S256');
    assert.ok((params.get('state') ?? '').length >= 32 && (params.get('nonce') ?? '').length >= 32, 'state and nonce are sent');
    assert.match(params.get('scope') ?? '', /openid email profile/);
    assert.equal(page.status, 303, page.text.slice(0, 400));
    assert.equal(page.location, '/admin/services');
    assert.ok(signedIn(b));
    assert.ok(![...b.cookies.keys()].some((k) => k.endsWith('creneau_signin')), 'the round trip cookie is spent');
    assert.equal((await b.get('/admin/profile')).status, 200);
    assert.equal(staffRow(app, 'alice@example.com')?.oidc_sub, 'sub-alice', 'the subject is linked');
  });

  test('a new session id at every sign-in (fixation)', async () => {
    const b = new Browser(app.url);
    b.cookies.set('creneau_session', 'planted-by-someone-else-0123456789abcdefghijk');
    const { page } = await signInAtProvider(b, '/auth/oidc', 'sub-alice');
    assert.equal(page.status, 303);
    const id = [...b.cookies].find(([k]) => k.endsWith('creneau_session'))?.[1];
    assert.ok(id && id !== 'planted-by-someone-else-0123456789abcdefghijk');
  });

  test('an unknown e-mail is refused with a clear page, and nothing is created', async () => {
    const b = new Browser(app.url);
    const before = app.deps.sqlite.prepare('select count(*) as n from staff').get() as { n: number };
    const { page } = await signInAtProvider(b, '/auth/oidc', 'sub-nobody');
    assert.equal(page.status, 403);
    assert.match(page.text, /No staff account on this site uses this e-mail address\. Ask the owner for an invitation\./);
    assert.ok(!signedIn(b));
    assert.deepEqual(app.deps.sqlite.prepare('select count(*) as n from staff').get(), before);
  });

  test('email_verified=false is refused, even for the e-mail of an existing account', async () => {
    const b = new Browser(app.url);
    const { page } = await signInAtProvider(b, '/auth/oidc', 'sub-unverified');
    assert.equal(page.status, 403);
    assert.match(page.text, /has not confirmed your e-mail address/);
    assert.ok(!signedIn(b));
  });

  test('a wrong state is refused (before any code is exchanged), and so is a callback in another browser', async () => {
    const b = new Browser(app.url);
    const { page } = await signInAtProvider(b, '/auth/oidc', 'sub-alice', { tamperCallback: (u) => u.searchParams.set('state', 'forged-state-value') });
    assert.equal(page.status, 400);
    assert.match(page.text, /expired or was not started in this browser/);
    assert.ok(!signedIn(b));

    // The callback carried to another browser (a login CSRF): that browser has no round trip.
    const victim = new Browser(app.url);
    let stolen = '';
    const attacker = new Browser(app.url);
    await signInAtProvider(attacker, '/auth/oidc', 'sub-alice', {
      tamperCallback: (u) => {
        stolen = u.pathname + u.search;
        u.searchParams.set('state', 'x');
      },
    });
    const res = await victim.get(stolen);
    assert.equal(res.status, 400);
    assert.ok(!signedIn(victim));
  });

  test('a wrong nonce is refused: the ID token must answer this browser\'s request', async () => {
    const b = new Browser(app.url);
    const { page } = await signInAtProvider(b, '/auth/oidc', 'sub-alice', { tamperAuthorize: (u) => u.searchParams.set('nonce', 'nonce-of-another-request-0123456789') });
    assert.equal(page.status, 400);
    assert.match(page.text, /could not be verified/);
    assert.ok(!signedIn(b));
  });

  test('the round trip is single use: replaying the callback fails', async () => {
    const b = new Browser(app.url);
    let callback = '';
    const { page } = await signInAtProvider(b, '/auth/oidc', 'sub-alice', { tamperCallback: (u) => void (callback = u.pathname + u.search) });
    assert.equal(page.status, 303);
    const again = await b.get(callback);
    assert.equal(again.status, 400);
  });

  test('cancelling at the provider gives a clear page, not a 500', async () => {
    const b = new Browser(app.url);
    const { page } = await signInAtProvider(b, '/auth/oidc', 'sub-alice', { cancel: true });
    assert.equal(page.status, 403);
    assert.match(page.text, /cancelled or consent was refused/);
  });

  test('an invitation is accepted through single sign-on: the account is created with the invited e-mail and linked', async () => {
    const res = await owner.post('/admin/invitations', { _csrf: await csrfOf(owner), email: 'bob@example.com' });
    assert.equal(res.status, 201);
    const link = new URL(/id="invite-link" value="([^"]+)"/.exec(res.text)?.[1] ?? '');
    const b = new Browser(app.url);
    const invite = await b.get(link.pathname);
    const start = /href="(\/auth\/oidc\?invite=[^"]+)"/.exec(invite.text)?.[1];
    assert.ok(start, 'the invitation page offers single sign-on');
    assert.match(invite.text, /Join with Company SSO/);
    const { page } = await signInAtProvider(b, start.replace(/&amp;/g, '&'), 'sub-bob');
    assert.equal(page.status, 303, page.text.slice(0, 400));
    assert.equal(page.location, '/admin/profile');
    const bob = staffRow(app, 'bob@example.com');
    assert.equal(bob?.oidc_sub, 'sub-bob');
    assert.equal(bob?.password_hash, null, 'no password was set');
    assert.equal(bob?.username, 'bob');
    const profile = await b.get('/admin/profile');
    assert.match(profile.text, /value="Bob Builder"/);
    assert.equal((await b.get(link.pathname)).status, 404, 'the invitation is used up');
    // Signing in again later goes by the linked subject.
    const again = await signInAtProvider(new Browser(app.url), '/auth/oidc', 'sub-bob');
    assert.equal(again.page.status, 303);
  });

  test('an invitation cannot be taken by someone whose verified e-mail is another', async () => {
    const res = await owner.post('/admin/invitations', { _csrf: await csrfOf(owner), email: 'carol@example.com' });
    const link = new URL(/id="invite-link" value="([^"]+)"/.exec(res.text)?.[1] ?? '');
    const b = new Browser(app.url);
    const { page } = await signInAtProvider(b, `/auth/oidc?invite=${link.pathname.split('/').pop() ?? ''}`, 'sub-mallory');
    assert.equal(page.status, 403);
    assert.match(page.text, /invitation was sent to another e-mail address/);
    assert.equal(staffRow(app, 'mallory@example.com'), undefined);
    assert.equal((await b.get(link.pathname)).status, 200, 'the invitation is still there for Carol');
  });

  test('/privacy and the outbound hosts name the identity provider', async () => {
    const page = await new Browser(app.url).get('/privacy');
    assert.match(page.text, /The identity provider 127\.0\.0\.1, for staff who sign in with single sign-on/);
  });
});

describe('single sign-on only (CRENEAU_PASSWORD_LOGIN=off), e-mail from userinfo', () => {
  let provider: TestProvider;
  let app: TestApp;

  before(async () => {
    const port = await freePort();
    provider = await startOidcProvider(`http://127.0.0.1:${port}`, { idTokenClaims: false });
    app = await startTestApp(provider.env({ CRENEAU_PASSWORD_LOGIN: 'off' }), { port });
    await setupOwner(app);
    provider.setAccount('sub-alice', { email: 'alice@example.com', email_verified: true });
  });
  after(async () => {
    await app?.stop();
    await provider?.stop();
  });

  test('the password form is gone and a correct password is refused; single sign-on works', async () => {
    const b = new Browser(app.url);
    const login = await b.get('/login');
    assert.doesNotMatch(login.text, /name="password"/);
    assert.match(login.text, /href="\/auth\/oidc[^"]*">Single sign-on</);
    const tried = await b.post('/login', { _form: 'x', login: 'alice', password: PASSWORD, next: '' });
    assert.equal(tried.status, 403);
    assert.match(tried.text, /Password sign-in is turned off/);
    assert.ok(!signedIn(b));
    const { page } = await signInAtProvider(b, '/auth/oidc', 'sub-alice');
    assert.equal(page.status, 303, page.text.slice(0, 300));
    assert.ok(signedIn(b));
  });
});

describe('provider failures each give a clear page, never a 500', () => {
  test('wrong client secret', async () => {
    const port = await freePort();
    const provider = await startOidcProvider(`http://127.0.0.1:${port}`);
    const app = await startTestApp(provider.env({ CRENEAU_OIDC_CLIENT_SECRET: 'not-the-secret' }), { port });
    try {
      await setupOwner(app);
      provider.setAccount('sub-alice', { email: 'alice@example.com', email_verified: true });
      const { page } = await signInAtProvider(new Browser(app.url), '/auth/oidc', 'sub-alice');
      assert.equal(page.status, 502);
      assert.match(page.text, /The identity provider refused this site/);
    } finally {
      await app.stop();
      await provider.stop();
    }
  });

  test('clock skew: this server two hours ahead of the provider', async () => {
    const port = await freePort();
    const provider = await startOidcProvider(`http://127.0.0.1:${port}`);
    const app = await startTestApp(provider.env(), { port, clock: { now: () => Date.now() + 2 * 3600_000 } });
    try {
      await setupOwner(app);
      provider.setAccount('sub-alice', { email: 'alice@example.com', email_verified: true });
      const { page } = await signInAtProvider(new Browser(app.url), '/auth/oidc', 'sub-alice');
      assert.equal(page.status, 502);
      assert.match(page.text, /clocks of this server and of the identity provider disagree/);
    } finally {
      await app.stop();
      await provider.stop();
    }
  });

  test('issuer unreachable', async () => {
    const dead = await freePort();
    const app = await startTestApp({ CRENEAU_OIDC_ISSUER: `http://127.0.0.1:${dead}`, CRENEAU_OIDC_CLIENT_ID: 'x', CRENEAU_OIDC_CLIENT_SECRET: 'y' });
    try {
      const b = new Browser(app.url);
      const page = await b.get('/auth/oidc', { 'accept-language': 'fr' });
      assert.equal(page.status, 502);
      assert.match(page.text, /Le fournisseur d’identité est injoignable/);
      assert.ok(![...b.cookies.keys()].some((k) => k.endsWith('creneau_signin')), 'no cookie when nothing started');
    } finally {
      await app.stop();
    }
  });
});

