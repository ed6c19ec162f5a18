import { urlencoded, type Request, type RequestHandler, type Response } from 'express';
import { locals, type AppContext } from '../web/context.js';
import { notFound } from '../web/errors.js';
import { bodyOf, raw, text } from '../web/forms.js';
import { render } from '../web/render.js';
import { safeNext } from './accounts.routes.js';
import {
  authenticationOptions,
  nameCheckedRename,
  registerPasskey,
  registrationOptions,
  removePasskey,
  signInWithPasskey,
  turnOffPassword,
} from './passkeys.service.js';
import { startSession } from './session.js';
import { takeSignIn, writeSignIn } from './sign-in-cookie.js';
import { signInThrottle } from './throttle.js';

/**
 * Passkey handlers. The browser part is static/js/passkeys.js: it asks for options with a
 * same-origin POST (JSON back), lets the browser's passkey dialog run, and posts the result as an
 * ordinary form, so every outcome is a redirect or a page, as with the password form.
 */

/** The form parser of these handlers (a WebAuthn response is a few kilobytes of JSON). */
export const passkeyForm = urlencoded({ extended: false, limit: '64kb', parameterLimit: 20 });

function credentialOf(req: Request): unknown {
  try {
    return JSON.parse(raw(bodyOf(req.body), 'credential')) as unknown;
  } catch {
    return null;
  }
}

function idParam(req: Request): number {
  const id = String(req.params.id);
  if (!/^\d{1,10}$/.test(id)) throw notFound();
  return Number(id);
}

function refuse(ctx: AppContext, req: Request, res: Response, key: 'invalid' | 'throttled', status: number): void {
  const t = ctx.i18n.getFixedT(locals(res).lang);
  render(ctx, req, res, 'accounts/sign-in-failed', { heading: t('admin:passkeys.failed_title'), message: t(`admin:passkeys.failed.${key}`) }, status);
}

/** POST /auth/passkey/options: a fresh challenge for signing in, kept in this browser's sign-in cookie. */
export function passkeySignInOptions(ctx: AppContext): RequestHandler {
  return async function passkeySignInOptions(req, res) {
    const options = await authenticationOptions(ctx);
    writeSignIn(ctx, req, res, { passkey: { challenge: options.challenge, purpose: 'sign-in', staffId: null } });
    res.json(options);
  };
}

/** POST /auth/passkey: checks the signed challenge and signs in (a fresh session id). */
export function submitPasskeySignIn(ctx: AppContext): RequestHandler {
  return async function submitPasskeySignIn(req, res) {
    const b = bodyOf(req.body);
    const pending = takeSignIn(ctx, req, res, 'passkey');
    const challenge = pending?.purpose === 'sign-in' ? pending.challenge : '';
    const result = await signInWithPasskey(ctx, signInThrottle(ctx), { challenge, response: credentialOf(req), address: req.ip ?? '' });
    if (!result.ok) return refuse(ctx, req, res, result.error, result.error === 'throttled' ? 429 : 401);
    await startSession(ctx, req, res, result.value, text(b, 'remember') === '1');
    res.redirect(303, safeNext(text(b, 'next')));
  };
}

/** POST /admin/profile/passkeys/options: a challenge for adding a passkey to the signed-in account. */
export function passkeyRegistrationOptions(ctx: AppContext): RequestHandler {
  return async function passkeyRegistrationOptions(req, res) {
    const staffId = locals(res).staff?.id ?? 0;
    const options = await registrationOptions(ctx, staffId);
    writeSignIn(ctx, req, res, { passkey: { challenge: options.challenge, purpose: 'register', staffId } });
    res.json(options);
  };
}

/** POST /admin/profile/passkeys: stores the new passkey under the name given. */
export function addPasskey(ctx: AppContext): RequestHandler {
  return async function addPasskey(req, res) {
    const staffId = locals(res).staff?.id ?? 0;
    const pending = takeSignIn(ctx, req, res, 'passkey');
    const challenge = pending?.purpose === 'register' && pending.staffId === staffId ? pending.challenge : '';
    const name = text(bodyOf(req.body), 'name');
    const result = await registerPasskey(ctx, staffId, { challenge, response: credentialOf(req), name, keepSessionHash: locals(res).sessionHash ?? '' });
    res.redirect(303, `/admin/profile?done=${result.ok ? 'passkey_added' : `passkey_${result.error}`}#passkeys-title`);
  };
}

/** POST /admin/profile/passkeys/:id/name */
export function renameMyPasskey(ctx: AppContext): RequestHandler {
  return async function renameMyPasskey(req, res) {
    const result = await nameCheckedRename(ctx, locals(res).staff?.id ?? 0, idParam(req), text(bodyOf(req.body), 'name'));
    if (!result.ok && result.error === 'not_found') throw notFound();
    res.redirect(303, `/admin/profile?done=${result.ok ? 'passkey_renamed' : 'passkey_name'}#passkeys-title`);
  };
}

/** POST /admin/profile/passkeys/:id/delete: the passkey stops working at once; other sessions end. */
export function removeMyPasskey(ctx: AppContext): RequestHandler {
  return async function removeMyPasskey(req, res) {
    const result = await removePasskey(ctx, locals(res).staff?.id ?? 0, idParam(req), locals(res).sessionHash ?? '');
    if (!result.ok && result.error === 'not_found') throw notFound();
    res.redirect(303, `/admin/profile?done=${result.ok ? 'passkey_removed' : 'passkey_last'}#passkeys-title`);
  };
}

/** POST /admin/profile/password/off: passkeys only from now on (the current password confirms). */
export function turnOffMyPassword(ctx: AppContext): RequestHandler {
  return async function turnOffMyPassword(req, res) {
    const result = await turnOffPassword(ctx, locals(res).staff?.id ?? 0, raw(bodyOf(req.body), 'current_password'), locals(res).sessionHash ?? '');
    res.redirect(303, `/admin/profile?done=${result.ok ? 'password_off' : `password_off_${result.error}`}#passkeys-title`);
  };
}

/** The passkey handlers for the route table in app.ts. */
export function passkeyHandlers(ctx: AppContext) {
  return {
    passkeySignInOptions: passkeySignInOptions(ctx),
    submitPasskeySignIn: submitPasskeySignIn(ctx),
    passkeyRegistrationOptions: passkeyRegistrationOptions(ctx),
    addPasskey: addPasskey(ctx),
    renameMyPasskey: renameMyPasskey(ctx),
    removeMyPasskey: removeMyPasskey(ctx),
    turnOffMyPassword: turnOffMyPassword(ctx),
  };
}
