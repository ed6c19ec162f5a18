import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startGoogleStandin, type GoogleStandin } from '../../../scripts/test-support/google-standin.js';
import {
  CALENDAR_SCOPES,
  SIGN_IN_SCOPES,
  createAuthRequest,
  decodeIdToken,
  exchangeCode,
  fetchUserinfo,
  googleEndpoints,
  missingScopes,
  refreshAccessToken,
  revokeToken,
  type GoogleEndpoints,
} from './oauth.js';

const REDIRECT = 'http://localhost:3000/auth/google/callback';

let g: GoogleStandin;
let ep: GoogleEndpoints;

before(async () => {
  g = await startGoogleStandin();
  ep = googleEndpoints(g.oauthUrl, g.apiUrl);
});
after(async () => {
  await g.stop();
});
beforeEach(() => {
  g.state.faults.length = 0;
  g.state.grantedScopes = undefined;
  g.state.denyConsent = false;
  g.state.forceInvalidGrant = false;
});

/** Plays the browser: follows the consent URL to the stand-in and reads where it sends us back. */
async function consent(url: string): Promise<URL> {
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 302);
  const location = res.headers.get('location');
  assert.ok(location);
  return new URL(location);
}

async function signIn(scopes: readonly string[] = [...SIGN_IN_SCOPES, ...CALENDAR_SCOPES]) {
  const req = createAuthRequest({ authorizeUrl: ep.authorizeUrl, clientId: g.state.clientId, redirectUri: REDIRECT, scopes, offline: true });
  const back = await consent(req.url);
  const code = back.searchParams.get('code');
  assert.ok(code);
  return { req, back, code };
}

describe('googleEndpoints', () => {
  it("defaults to Google's real endpoints", () => {
    assert.deepEqual(googleEndpoints(), {
      authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      revokeUrl: 'https://oauth2.googleapis.com/revoke',
      userinfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
      apiUrl: 'https://www.googleapis.com/calendar/v3',
    });
  });

  it('puts all four OAuth endpoints under an overridden base', () => {
    assert.deepEqual(googleEndpoints('http://127.0.0.1:9/', 'http://127.0.0.1:9/calendar/v3/'), {
      authorizeUrl: 'http://127.0.0.1:9/o/oauth2/v2/auth',
      tokenUrl: 'http://127.0.0.1:9/token',
      revokeUrl: 'http://127.0.0.1:9/revoke',
      userinfoUrl: 'http://127.0.0.1:9/v1/userinfo',
      apiUrl: 'http://127.0.0.1:9/calendar/v3',
    });
  });
});

describe('createAuthRequest', () => {
  it('asks for offline access (or, to sign in, none) with a fresh state and an S256 PKCE challenge', () => {
    const a = createAuthRequest({
      authorizeUrl: ep.authorizeUrl,
      clientId: 'cid',
      redirectUri: REDIRECT,
      scopes: SIGN_IN_SCOPES,
      offline: true,
      loginHint: 'alice@example.com',
    });
    const b = createAuthRequest({ authorizeUrl: ep.authorizeUrl, clientId: 'cid', redirectUri: REDIRECT, scopes: SIGN_IN_SCOPES, offline: false });
    const q = new URL(a.url).searchParams;
    assert.ok(a.url.startsWith(`${ep.authorizeUrl}?`));
    assert.equal(q.get('client_id'), 'cid');
    assert.equal(q.get('redirect_uri'), REDIRECT);
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('scope'), 'openid email profile');
    assert.equal(q.get('state'), a.state);
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.equal(q.get('code_challenge'), createHash('sha256').update(a.codeVerifier).digest('base64url'));
    assert.equal(q.get('access_type'), 'offline');
    assert.equal(q.get('prompt'), 'consent');
    assert.equal(q.get('include_granted_scopes'), 'true');
    assert.equal(q.get('login_hint'), 'alice@example.com');
    assert.equal(new URL(b.url).searchParams.get('login_hint'), null);
    // A sign-in only: no offline access, the account chooser instead of the consent screen.
    assert.equal(new URL(b.url).searchParams.get('access_type'), null);
    assert.equal(new URL(b.url).searchParams.get('prompt'), 'select_account');
    // The verifier never travels in the URL; state and verifier are unguessable and fresh.
    assert.ok(!a.url.includes(a.codeVerifier));
    assert.ok(a.state.length >= 43 && a.codeVerifier.length >= 43);
    assert.notEqual(a.state, b.state);
    assert.notEqual(a.codeVerifier, b.codeVerifier);
  });
});

describe('authorization code flow against the stand-in', () => {
  it('comes back with our state, and the code only works with the right verifier, once', async () => {
    const first = await signIn();
    assert.equal(first.back.origin + first.back.pathname, REDIRECT);
    assert.equal(first.back.searchParams.get('state'), first.req.state);

    const wrong = await exchangeCode({
      tokenUrl: ep.tokenUrl,
      code: first.code,
      codeVerifier: 'x'.repeat(43),
      redirectUri: REDIRECT,
      clientId: g.state.clientId,
      clientSecret: g.state.clientSecret,
    });
    assert.deepEqual(wrong, { ok: false, error: 'invalid_grant' });
    // The code was spent by the failed attempt.
    const replay = await exchangeCode({
      tokenUrl: ep.tokenUrl,
      code: first.code,
      codeVerifier: first.req.codeVerifier,
      redirectUri: REDIRECT,
      clientId: g.state.clientId,
      clientSecret: g.state.clientSecret,
    });
    assert.deepEqual(replay, { ok: false, error: 'invalid_grant' });

    const second = await signIn();
    const ok = await exchangeCode({
      tokenUrl: ep.tokenUrl,
      code: second.code,
      codeVerifier: second.req.codeVerifier,
      redirectUri: REDIRECT,
      clientId: g.state.clientId,
      clientSecret: g.state.clientSecret,
    });
    assert.ok(ok.ok);
    assert.ok(ok.value.refreshToken);
    assert.ok(ok.value.accessToken);
    assert.equal(ok.value.expiresInSeconds, 3599);
    assert.deepEqual(missingScopes(ok.value.scopes, CALENDAR_SCOPES), []);
    assert.deepEqual(ok.value.idClaims, {
      sub: g.state.user.sub,
      email: g.state.user.email,
      emailVerified: true,
      name: g.state.user.name,
    });
    assert.ok(g.state.refreshTokens.has(ok.value.refreshToken));
  });

  it('refuses a wrong client secret as invalid_client', async () => {
    const { req, code } = await signIn(SIGN_IN_SCOPES);
    const res = await exchangeCode({
      tokenUrl: ep.tokenUrl,
      code,
      codeVerifier: req.codeVerifier,
      redirectUri: REDIRECT,
      clientId: g.state.clientId,
      clientSecret: 'not-the-secret',
    });
    assert.deepEqual(res, { ok: false, error: 'invalid_client' });
  });

  it('reports the calendar scopes a user unticked on the consent screen', async () => {
    g.state.grantedScopes = [...SIGN_IN_SCOPES, CALENDAR_SCOPES[0] ?? ''];
    const { req, code } = await signIn();
    const res = await exchangeCode({
      tokenUrl: ep.tokenUrl,
      code,
      codeVerifier: req.codeVerifier,
      redirectUri: REDIRECT,
      clientId: g.state.clientId,
      clientSecret: g.state.clientSecret,
    });
    assert.ok(res.ok);
    assert.deepEqual(missingScopes(res.value.scopes, CALENDAR_SCOPES), CALENDAR_SCOPES.slice(1));
  });

  it('passes a refusal back to the redirect URI', async () => {
    g.state.denyConsent = true;
    const req = createAuthRequest({ authorizeUrl: ep.authorizeUrl, clientId: g.state.clientId, redirectUri: REDIRECT, scopes: SIGN_IN_SCOPES, offline: false });
    const back = await consent(req.url);
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), req.state);
    assert.equal(back.searchParams.get('code'), null);
  });
});

describe('refresh, userinfo and revoke', () => {
  async function connected() {
    const { req, code } = await signIn();
    const res = await exchangeCode({
      tokenUrl: ep.tokenUrl,
      code,
      codeVerifier: req.codeVerifier,
      redirectUri: REDIRECT,
      clientId: g.state.clientId,
      clientSecret: g.state.clientSecret,
    });
    assert.ok(res.ok && res.value.refreshToken);
    return { access: res.value.accessToken, refresh: res.value.refreshToken };
  }

  it('refreshes an access token that then reads the userinfo', async () => {
    const { refresh } = await connected();
    const fresh = await refreshAccessToken({
      tokenUrl: ep.tokenUrl,
      refreshToken: refresh,
      clientId: g.state.clientId,
      clientSecret: g.state.clientSecret,
    });
    assert.ok(fresh.ok);
    assert.equal(fresh.value.refreshToken, undefined);
    const me = await fetchUserinfo({ userinfoUrl: ep.userinfoUrl, accessToken: fresh.value.accessToken });
    assert.ok(me.ok);
    assert.equal(me.value.sub, g.state.user.sub);
    assert.equal(me.value.email, g.state.user.email);
    assert.equal(me.value.emailVerified, true);
    assert.equal(me.value.name, 'Alice Martin');
    assert.equal(me.value.locale, 'fr');
  });

  it('answers invalid_grant when Google says the grant is gone', async () => {
    const { refresh } = await connected();
    g.state.forceInvalidGrant = true;
    const res = await refreshAccessToken({
      tokenUrl: ep.tokenUrl,
      refreshToken: refresh,
      clientId: g.state.clientId,
      clientSecret: g.state.clientSecret,
    });
    assert.deepEqual(res, { ok: false, error: 'invalid_grant' });
  });

  it('revokes the whole grant, and revoking twice is still success', async () => {
    const { access, refresh } = await connected();
    assert.deepEqual(await revokeToken({ revokeUrl: ep.revokeUrl, token: refresh }), { ok: true, value: null });
    assert.deepEqual(await revokeToken({ revokeUrl: ep.revokeUrl, token: refresh }), { ok: true, value: null });
    const again = await refreshAccessToken({
      tokenUrl: ep.tokenUrl,
      refreshToken: refresh,
      clientId: g.state.clientId,
      clientSecret: g.state.clientSecret,
    });
    assert.deepEqual(again, { ok: false, error: 'invalid_grant' });
    const me = await fetchUserinfo({ userinfoUrl: ep.userinfoUrl, accessToken: access });
    assert.deepEqual(me, { ok: false, error: 'rejected' });
  });

  it('reports a garbled, unreachable or slow token endpoint as values', async () => {
    g.state.inject({ kind: 'garbage', route: 'token' });
    const garbled = await refreshAccessToken({
      tokenUrl: ep.tokenUrl,
      refreshToken: 'r',
      clientId: g.state.clientId,
      clientSecret: g.state.clientSecret,
    });
    assert.deepEqual(garbled, { ok: false, error: 'malformed' });
    const down = await refreshAccessToken({
      tokenUrl: 'http://127.0.0.1:1/token',
      refreshToken: 'r',
      clientId: g.state.clientId,
      clientSecret: g.state.clientSecret,
    });
    assert.deepEqual(down, { ok: false, error: 'unreachable' });
    g.state.inject({ kind: 'slow', route: 'token', delayMs: 400 });
    const slow = await refreshAccessToken({
      tokenUrl: ep.tokenUrl,
      refreshToken: 'r',
      clientId: g.state.clientId,
      clientSecret: g.state.clientSecret,
      timeoutMs: 100,
    });
    assert.deepEqual(slow, { ok: false, error: 'timeout' });
  });
});

describe('decodeIdToken', () => {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  it('refuses a token minted for another client, and garbage', () => {
    const token = `${enc({ alg: 'RS256' })}.${enc({ sub: '1', aud: 'other-client', email: 'a@b.c' })}.sig`;
    assert.equal(decodeIdToken(token, 'my-client'), null);
    assert.equal(decodeIdToken('not-a-jwt', 'my-client'), null);
    const mine = `${enc({ alg: 'RS256' })}.${enc({ sub: '1', aud: 'my-client', email_verified: 'true' })}.sig`;
    assert.deepEqual(decodeIdToken(mine, 'my-client'), { sub: '1', email: undefined, emailVerified: true, name: undefined });
  });
});
