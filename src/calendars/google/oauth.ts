import { createHash, randomBytes } from 'node:crypto';
import * as z from 'zod';
import { err, ok, type Result } from '../../lib/result.js';
import { TtlCache } from '../../lib/ttl-cache.js';

/**
 * Google OAuth 2.0 helpers (authorization-code flow with PKCE) used by staff sign-in, the
 * calendar connect route and the Google calendar provider. Plain `fetch`, no SDK; outcomes are
 * values, and no error ever carries a token.
 */

export interface GoogleEndpoints {
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly revokeUrl: string;
  readonly userinfoUrl: string;
  /** Calendar API v3 base, without a trailing slash. */
  readonly apiUrl: string;
}

const GOOGLE_AUTHORIZE_URL = 'https://accounts.google.com/o/oauth2/v2/auth';
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const GOOGLE_REVOKE_URL = 'https://oauth2.googleapis.com/revoke';
const GOOGLE_USERINFO_URL = 'https://openidconnect.googleapis.com/v1/userinfo';
const GOOGLE_API_URL = 'https://www.googleapis.com/calendar/v3';

/**
 * Endpoint URLs from the two override variables. Google spreads OAuth over three hosts but the
 * design has one override (CRENEAU_GOOGLE_OAUTH_URL), so an override hosts all four OAuth paths.
 */
export function googleEndpoints(oauthUrl?: string, apiUrl?: string): GoogleEndpoints {
  const api = trimSlash(apiUrl && apiUrl !== '' ? apiUrl : GOOGLE_API_URL);
  if (!oauthUrl || oauthUrl === '') {
    return {
      authorizeUrl: GOOGLE_AUTHORIZE_URL,
      tokenUrl: GOOGLE_TOKEN_URL,
      revokeUrl: GOOGLE_REVOKE_URL,
      userinfoUrl: GOOGLE_USERINFO_URL,
      apiUrl: api,
    };
  }
  const base = trimSlash(oauthUrl);
  return {
    authorizeUrl: `${base}/o/oauth2/v2/auth`,
    tokenUrl: `${base}/token`,
    revokeUrl: `${base}/revoke`,
    userinfoUrl: `${base}/v1/userinfo`,
    apiUrl: api,
  };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Sign-in only needs who the user is: the OpenID subject, the e-mail and the display name. */
export const SIGN_IN_SCOPES: readonly string[] = ['openid', 'email', 'profile'];

/**
 * The narrowest Calendar scopes that cover what Creneau does (developers.google.com/calendar/api/auth):
 * - calendar.calendarlist.readonly: list the calendars so the staff can pick them (no ACLs, no events);
 * - calendar.freebusy: read busy times of the conflict calendars without reading their events;
 * - calendar.events: create/read/move/delete events in the booking calendar. There is no
 *   narrower write scope for calendars the user did not create (calendar.events.owned covers
 *   only owned calendars and calendar.app.created only app-made ones), so this is the least.
 * We deliberately avoid `calendar` and `calendar.readonly`, which also expose sharing and every event.
 */
export const CALENDAR_SCOPES: readonly string[] = [
  'https://www.googleapis.com/auth/calendar.calendarlist.readonly',
  'https://www.googleapis.com/auth/calendar.freebusy',
  'https://www.googleapis.com/auth/calendar.events',
];

/** Why an OAuth call failed. `invalid_grant` = the code/verifier/refresh token is no good (for good). */
export type OAuthFailure =
  | 'invalid_grant'
  | 'invalid_client' // our client id/secret are wrong: an instance configuration problem
  | 'rejected' // any other OAuth error answer (invalid_request, unsupported_grant_type, ...)
  | 'rate_limited'
  | 'unreachable'
  | 'timeout'
  | 'malformed';

export type OAuthResult<T> = Result<T, OAuthFailure>;

export interface AuthRequest {
  /** Where to send the browser. */
  readonly url: string;
  /** Keep in the (signed) session and compare on callback: CSRF protection. */
  readonly state: string;
  /** Keep server-side until the callback; never sent to the browser. */
  readonly codeVerifier: string;
}

/**
 * Where auth requests wait for their callback, keyed by `state`, each taken once: 10 minutes,
 * at most 1,000 (the oldest goes first). One per flow (sign-in, calendar connection), in memory.
 */
export function pendingAuthRequests<V>(): TtlCache<V> {
  return new TtlCache<V>(10 * 60_000, 1000);
}

/** Builds the Google consent URL with a fresh state and a PKCE (S256) verifier/challenge pair. */
export function createAuthRequest(opts: {
  authorizeUrl: string;
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  /** Whether lasting access is wanted (a calendar connection), or only who signs in. */
  offline: boolean;
  loginHint?: string;
}): AuthRequest {
  const state = base64url(randomBytes(32));
  const codeVerifier = base64url(randomBytes(32));
  const url = new URL(opts.authorizeUrl);
  const p = url.searchParams;
  p.set('client_id', opts.clientId);
  p.set('redirect_uri', opts.redirectUri);
  p.set('response_type', 'code');
  p.set('scope', opts.scopes.join(' '));
  p.set('state', state);
  p.set('code_challenge', pkceChallenge(codeVerifier));
  p.set('code_challenge_method', 'S256');
  if (opts.offline) {
    // offline + consent: Google only returns a refresh token on a consented offline request.
    p.set('access_type', 'offline');
    p.set('prompt', 'consent');
  } else {
    // A sign-in: no refresh token is issued, and the person may pick among their accounts.
    p.set('prompt', 'select_account');
  }
  p.set('include_granted_scopes', 'true');
  if (opts.loginHint) p.set('login_hint', opts.loginHint);
  return { url: url.toString(), state, codeVerifier };
}

/** The S256 PKCE challenge for a verifier (RFC 7636 §4.2). */
export function pkceChallenge(codeVerifier: string): string {
  return base64url(createHash('sha256').update(codeVerifier, 'ascii').digest());
}

function base64url(buf: Buffer): string {
  return buf.toString('base64url');
}

/** Who signed in, from the ID token's claims. */
export interface IdClaims {
  readonly sub: string;
  readonly email?: string;
  readonly emailVerified: boolean;
  readonly name?: string;
}

export interface TokenSet {
  readonly accessToken: string;
  readonly expiresInSeconds: number;
  /** Present on the first consented offline exchange; absent on refresh. */
  readonly refreshToken?: string;
  /** Scopes actually granted: the user may untick some on Google's consent screen. */
  readonly scopes: readonly string[];
  readonly idClaims?: IdClaims;
}

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().int().positive(),
  refresh_token: z.string().min(1).optional(),
  scope: z.string().optional(),
  token_type: z.string().optional(),
  id_token: z.string().optional(),
});

const oauthErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

const idClaimsSchema = z.object({
  sub: z.string().min(1),
  aud: z.union([z.string(), z.array(z.string())]),
  email: z.string().optional(),
  email_verified: z.union([z.boolean(), z.enum(['true', 'false'])]).optional(),
  name: z.string().optional(),
});

interface HttpOpts {
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** OAuth answers are tiny; anything bigger is not Google. */
const OAUTH_BODY_CAP = 64 * 1024;

/** Exchanges an authorization code (with its PKCE verifier) for tokens and the ID token's claims. */
export async function exchangeCode(
  opts: {
    tokenUrl: string;
    code: string;
    codeVerifier: string;
    redirectUri: string;
    clientId: string;
    clientSecret: string;
  } & HttpOpts,
): Promise<OAuthResult<TokenSet>> {
  const res = await postToken(opts, {
    grant_type: 'authorization_code',
    code: opts.code,
    code_verifier: opts.codeVerifier,
    redirect_uri: opts.redirectUri,
    client_id: opts.clientId,
    client_secret: opts.clientSecret,
  });
  if (!res.ok) return res;
  let idClaims: IdClaims | undefined;
  if (res.value.id_token !== undefined) {
    const claims = decodeIdToken(res.value.id_token, opts.clientId);
    if (!claims) return err('malformed');
    idClaims = claims;
  }
  return ok(toTokenSet(res.value, idClaims));
}

/** Gets a fresh access token from a refresh token; `invalid_grant` means the staff must reconnect. */
export async function refreshAccessToken(
  opts: { tokenUrl: string; refreshToken: string; clientId: string; clientSecret: string } & HttpOpts,
): Promise<OAuthResult<TokenSet>> {
  const res = await postToken(opts, {
    grant_type: 'refresh_token',
    refresh_token: opts.refreshToken,
    client_id: opts.clientId,
    client_secret: opts.clientSecret,
  });
  if (!res.ok) return res;
  return ok(toTokenSet(res.value, undefined));
}

/**
 * Revokes a token (refresh or access; Google revokes the whole grant either way). A token that
 * is already invalid counts as revoked: the goal, no access left, is reached.
 */
export async function revokeToken(opts: { revokeUrl: string; token: string } & HttpOpts): Promise<OAuthResult<null>> {
  const res = await send(opts, opts.revokeUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: opts.token }).toString(),
  });
  if (!res.ok) return res;
  const { status, json } = res.value;
  if (status === 200) return ok(null);
  const problem = oauthErrorSchema.safeParse(json);
  if (status === 400 && problem.success && problem.data.error === 'invalid_token') return ok(null);
  return err(statusFailure(status));
}

/** The OpenID Connect profile of the signed-in user. */
export interface Userinfo {
  readonly sub: string;
  readonly email?: string;
  readonly emailVerified: boolean;
  readonly name?: string;
  readonly picture?: string;
  readonly locale?: string;
}

const userinfoSchema = z.object({
  sub: z.string().min(1),
  email: z.string().optional(),
  email_verified: z.union([z.boolean(), z.enum(['true', 'false'])]).optional(),
  name: z.string().optional(),
  picture: z.string().optional(),
  locale: z.string().optional(),
});

/** Reads the OpenID userinfo (profile name, picture, locale) with an access token. */
export async function fetchUserinfo(
  opts: { userinfoUrl: string; accessToken: string } & HttpOpts,
): Promise<OAuthResult<Userinfo>> {
  const res = await send(opts, opts.userinfoUrl, {
    method: 'GET',
    headers: { Authorization: `Bearer ${opts.accessToken}`, Accept: 'application/json' },
  });
  if (!res.ok) return res;
  if (res.value.status !== 200) return err(statusFailure(res.value.status));
  const parsed = userinfoSchema.safeParse(res.value.json);
  if (!parsed.success) return err('malformed');
  const u = parsed.data;
  return ok({
    sub: u.sub,
    email: u.email,
    emailVerified: u.email_verified === true || u.email_verified === 'true',
    name: u.name,
    picture: u.picture,
    locale: u.locale,
  });
}

/** The requested scopes that Google did not grant (the consent screen lets users untick some). */
export function missingScopes(granted: readonly string[], wanted: readonly string[]): string[] {
  const have = new Set(granted);
  return wanted.filter((s) => !have.has(s));
}

/**
 * Reads the claims of an ID token WITHOUT verifying its signature. This is sound only because the
 * token comes straight from Google's token endpoint over TLS in answer to our own authenticated
 * request (OpenID Connect Core §3.1.3.7, point 6); never call this on a token from a browser.
 */
export function decodeIdToken(idToken: string, clientId: string): IdClaims | null {
  const parts = idToken.split('.');
  const payload = parts[1];
  if (parts.length !== 3 || payload === undefined) return null;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const parsed = idClaimsSchema.safeParse(json);
  if (!parsed.success) return null;
  const c = parsed.data;
  // A token minted for another client must never sign anyone in here.
  const audOk = Array.isArray(c.aud) ? c.aud.includes(clientId) : c.aud === clientId;
  if (!audOk) return null;
  return {
    sub: c.sub,
    email: c.email,
    emailVerified: c.email_verified === true || c.email_verified === 'true',
    name: c.name,
  };
}

function toTokenSet(t: z.infer<typeof tokenResponseSchema>, idClaims: IdClaims | undefined): TokenSet {
  return {
    accessToken: t.access_token,
    expiresInSeconds: t.expires_in,
    refreshToken: t.refresh_token,
    scopes: (t.scope ?? '').split(' ').filter((s) => s !== ''),
    idClaims,
  };
}

async function postToken(
  opts: HttpOpts & { tokenUrl: string },
  form: Record<string, string>,
): Promise<OAuthResult<z.infer<typeof tokenResponseSchema>>> {
  const res = await send(opts, opts.tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
  });
  if (!res.ok) return res;
  const { status, json } = res.value;
  if (status === 200) {
    const parsed = tokenResponseSchema.safeParse(json);
    return parsed.success ? ok(parsed.data) : err('malformed');
  }
  const problem = oauthErrorSchema.safeParse(json);
  if (problem.success) {
    if (problem.data.error === 'invalid_grant') return err('invalid_grant');
    if (problem.data.error === 'invalid_client' || problem.data.error === 'unauthorized_client') {
      return err('invalid_client');
    }
    if (status < 500 && status !== 429) return err('rejected');
  }
  return err(statusFailure(status));
}

function statusFailure(status: number): OAuthFailure {
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'unreachable';
  return 'rejected';
}

type Sent = Result<{ status: number; json: unknown }, OAuthFailure>;

async function send(opts: HttpOpts, url: string, init: RequestInit): Promise<Sent> {
  const doFetch = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, {
      ...init,
      // Never follow a redirect: it could lead a credential-bearing request to another host.
      redirect: 'error',
      signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (e) {
    return err(isTimeout(e) ? 'timeout' : 'unreachable');
  }
  const body = await readCapped(res, OAUTH_BODY_CAP);
  if (!body.ok) return body;
  return ok({ status: res.status, json: parseJson(body.value) });
}

/** True for the errors AbortSignal.timeout produces. */
export function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

/** JSON.parse that answers `undefined` instead of throwing. */
export function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Reads a response body as text, refusing (as `malformed`) anything larger than `cap` bytes. */
export async function readCapped(
  res: Response,
  cap: number,
): Promise<Result<string, 'malformed' | 'timeout' | 'unreachable'>> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > cap) {
    await res.body?.cancel().catch(() => undefined);
    return err('malformed');
  }
  if (!res.body) return ok('');
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > cap) {
        await reader.cancel().catch(() => undefined);
        return err('malformed');
      }
      chunks.push(value);
    }
  } catch (e) {
    return err(isTimeout(e) ? 'timeout' : 'unreachable');
  }
  return ok(Buffer.concat(chunks).toString('utf8'));
}
