import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Browser, startTestApp, type TestApp } from '../../scripts/test-support/app.js';
import { googleEnv, startGoogleStandin, type GoogleStandin } from '../../scripts/test-support/google-standin.js';
import { csrfOf, setupOwner } from './test-helpers.js';

/** Follows the consent screen of the stand-in (it answers at once) back to our callback. */
async function throughGoogle(b: Browser, authorizeUrl: string): Promise<{ status: number; location: string | null }> {
  const consent = await fetch(authorizeUrl, { redirect: 'manual' });
  const back = consent.headers.get('location');
  assert.ok(back, `stand-in answered ${consent.status}`);
  const url = new URL(back);
  const res = await b.get(url.pathname + url.search);
  return { status: res.status, location: res.location };
}

describe('Google sign-in (stand-in)', () => {
  let google: GoogleStandin;
  let app: TestApp;
  let owner: Browser;
  before(async () => {
    google = await startGoogleStandin();
    app = await startTestApp(googleEnv(google));
    owner = await setupOwner(app, { email: 'someone.else@example.com' });
  });
  after(async () => {
    await app.stop();
    await google.stop();
  });

  test('an unlinked Google account cannot sign in, even though nothing else matches it', async () => {
    const b = new Browser(app.url);
    const login = await b.get('/login');
    assert.match(login.text, /Sign in with Google/);
    const start = await b.get('/auth/google');
    assert.equal(start.status, 303);
    assert.match(start.location ?? '', /code_challenge_method=S256/);
    const done = await throughGoogle(b, start.location as string);
    assert.equal(done.location, '/login?google=unlinked');
    assert.equal(b.cookies.size, 0);
  });

  test('linking happens from the profile, then Google signs in to that account', async () => {
    const start = await owner.post('/admin/profile/google', { _csrf: await csrfOf(owner) });
    assert.equal(start.status, 303);
    const done = await throughGoogle(owner, start.location as string);
    assert.equal(done.location, '/admin/profile?done=google_linked');
    const row = app.deps.sqlite.prepare("select google_sub from staff where username = 'alice'").get() as { google_sub: string };
    assert.equal(row.google_sub, google.state.user.sub);

    const b = new Browser(app.url);
    const signIn = await b.get('/auth/google?next=%2Fadmin%2Fservices');
    const back = await throughGoogle(b, signIn.location as string);
    assert.equal(back.location, '/admin/services');
    assert.equal((await b.get('/admin/profile')).status, 200);
    assert.doesNotMatch(signIn.location ?? '', /access_type=offline/);
    assert.equal(google.state.refreshTokens.size, 0, 'a sign-in never gets lasting Google access');
  });

  test('a callback with an unknown or replayed state is refused; linking needs the CSRF token', async () => {
    const b = new Browser(app.url);
    const forged = await b.get('/auth/google/callback?state=forged&code=abc');
    assert.equal(forged.status, 400);
    const start = await b.get('/auth/google');
    const consent = await fetch(start.location as string, { redirect: 'manual' });
    const url = new URL(consent.headers.get('location') as string);
    await b.get(url.pathname + url.search);
    const replay = await new Browser(app.url).get(url.pathname + url.search);
    assert.equal(replay.status, 400);
    assert.equal((await owner.post('/admin/profile/google', {})).status, 403);
  });

  test('without Google configured the routes do not exist', async () => {
    const plain = await startTestApp();
    try {
      assert.equal((await new Browser(plain.url).get('/auth/google')).status, 404);
    } finally {
      await plain.stop();
    }
  });
});
