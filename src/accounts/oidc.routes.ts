import type { Request, RequestHandler, Response } from 'express';
import { locals, type AppContext } from '../web/context.js';
import { notFound } from '../web/errors.js';
import { render } from '../web/render.js';
import { safeNext } from './accounts.routes.js';
import { addressThrottleKey, THROTTLE } from './accounts.service.js';
import { OidcClient, type OidcFailure } from './oidc.js';
import { joinWithOidc, signInWithOidc, type OidcJoinError, type OidcSignInError } from './oidc.service.js';
import { startSession } from './session.js';
import { takeSignIn, writeSignIn } from './sign-in-cookie.js';
import { signInThrottle } from './throttle.js';

/**
 * Single sign-on handlers: GET /auth/oidc sends the browser to the provider, GET
 * /auth/oidc/callback brings it back. Every failure is a page that says what happened and what
 * to do, in the visitor's language; none is a 500.
 */

type Refusal = OidcFailure | OidcSignInError | OidcJoinError | 'throttled';

const STATUS: Readonly<Record<Refusal, number>> = {
  unreachable: 502,
  client: 502,
  clock: 502,
  denied: 403,
  state: 400,
  token: 400,
  unverified: 403,
  unknown: 403,
  linked_elsewhere: 409,
  invite_invalid: 404,
  invite_email: 403,
  already_member: 409,
  throttled: 429,
};

const clients = new WeakMap<AppContext, OidcClient>();

/** The app's OpenID Connect client (discovery is shared by every request), or null when not configured. */
export function oidcClientOf(ctx: AppContext): OidcClient | null {
  const settings = ctx.config.oidc;
  if (!settings) return null;
  let c = clients.get(ctx);
  if (!c) {
    c = new OidcClient(settings, new URL('auth/oidc/callback', ctx.config.baseUrl).toString(), ctx.clock);
    clients.set(ctx, c);
  }
  return c;
}

function refuse(ctx: AppContext, req: Request, res: Response, why: Refusal): void {
  const t = ctx.i18n.getFixedT(locals(res).lang);
  render(ctx, req, res, 'accounts/sign-in-failed', { heading: t('admin:oidc.failed_title'), message: t(`admin:oidc.failed.${why}`), label: ctx.config.oidc?.label ?? '' }, STATUS[why]);
}

/** GET /auth/oidc?next=…&invite=…: starts a round trip with the provider, bound to this browser. */
export function startOidcSignIn(ctx: AppContext): RequestHandler {
  return async function startOidcSignIn(req, res) {
    const client = oidcClientOf(ctx);
    if (!client) throw notFound();
    const started = await client.start();
    if (!started.ok) return refuse(ctx, req, res, started.error);
    const invite = typeof req.query.invite === 'string' && /^[A-Za-z0-9_-]{43}$/.test(req.query.invite) ? req.query.invite : null;
    writeSignIn(ctx, req, res, { oidc: { ...started.value.pending, next: safeNext(req.query.next), invite } });
    res.redirect(303, started.value.url);
  };
}

/** GET /auth/oidc/callback: verifies the answer and signs in (or creates the invited colleague's account). */
export function finishOidcSignIn(ctx: AppContext): RequestHandler {
  return async function finishOidcSignIn(req, res) {
    const client = oidcClientOf(ctx);
    if (!client) throw notFound();
    const throttle = signInThrottle(ctx);
    const addressKey = addressThrottleKey(ctx, req.ip ?? '');
    if (throttle.blocked(addressKey, THROTTLE.perAddress)) return refuse(ctx, req, res, 'throttled');
    const fail = (why: Refusal) => {
      // Only what a guesser or a forger could cause counts; a provider outage does not.
      if (why === 'state' || why === 'token' || why === 'unknown' || why === 'invite_email') throttle.fail(addressKey);
      refuse(ctx, req, res, why);
    };
    // Single use: whatever happens next, this browser's round trip is spent.
    const pending = takeSignIn(ctx, req, res, 'oidc');
    if (!pending || req.query.state !== pending.state) return fail('state');
    const callback = new URL(client.redirectUri);
    callback.search = new URL(req.originalUrl, ctx.config.baseUrl).search;
    const identity = await client.finish(callback, pending);
    if (!identity.ok) return fail(identity.error);
    const account = pending.invite
      ? await joinWithOidc(ctx, pending.invite, identity.value, locals(res).lang)
      : await signInWithOidc(ctx, identity.value);
    if (!account.ok) return fail(account.error);
    await startSession(ctx, req, res, account.value, false);
    res.redirect(303, pending.invite ? '/admin/profile' : pending.next);
  };
}

/** The single sign-on handlers for the route table in app.ts. */
export function oidcHandlers(ctx: AppContext) {
  return { startOidcSignIn: startOidcSignIn(ctx), finishOidcSignIn: finishOidcSignIn(ctx) };
}
