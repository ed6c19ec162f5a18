import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { sameString } from '../lib/same-string.js';
import { locals, type AppContext } from '../web/context.js';
import { clearCookie, readCookie, setCookie } from '../web/cookies.js';
import {
  deleteExpired,
  deleteRememberToken,
  deleteRememberTokensOf,
  deleteSession,
  findRememberToken,
  findSession,
  findStaffById,
  insertRememberToken,
  insertSession,
  touchSession,
} from './accounts.repo.js';

/**
 * Staff sessions (DESIGN.md §1.3). The session cookie holds 256 random bits; the table holds
 * only their SHA-256, so a copy of the database cannot be replayed. Idle timeout 12 h,
 * absolute 7 days, a fresh id at every sign-in (a cookie set beforehand by someone else is
 * never honoured). Remember-me is a selector + validator pair, the validator hashed and the
 * pair rotated on every use. CSRF: a synchronizer token per session, checked on every
 * state-changing staff POST; the sign-in and setup forms, which have no session yet, carry a
 * stateless HMAC of the current hour instead (plus the Origin check of app.ts).
 */

export const SESSION_IDLE_MS = 12 * 3600_000;
export const SESSION_MAX_MS = 7 * 24 * 3600_000;
export const REMEMBER_MS = 30 * 24 * 3600_000;
const TOUCH_EVERY_MS = 60_000;

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Loads the signed-in staff member (session cookie, else remember-me) into the request locals. */
export function loadSession(ctx: AppContext) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const now = ctx.clock.now();
      const id = readCookie(req, ctx.config, 'session');
      if (id) {
        const idHash = sha256(id);
        const s = await findSession(ctx.db, idHash);
        if (s && s.expiresAt > now && s.lastSeenAt + SESSION_IDLE_MS > now) {
          if (now - s.lastSeenAt > TOUCH_EVERY_MS) await touchSession(ctx.db, idHash, now);
          const l = locals(res);
          l.staff = { id: s.staffId, username: s.username, displayName: s.displayName, isOwner: s.isOwner, timeZone: s.timeZone };
          l.csrf = s.csrfToken;
          l.sessionHash = idHash;
          return next();
        }
        if (s) await deleteSession(ctx.db, idHash);
        clearCookie(res, ctx.config, 'session');
      }
      const remember = readCookie(req, ctx.config, 'remember');
      if (remember) {
        const staffId = await consumeRememberToken(ctx, remember);
        if (staffId === null) clearCookie(res, ctx.config, 'remember');
        else await startSession(ctx, req, res, staffId, true);
      }
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** Checks a remember-me cookie and burns it; returns the staff id when it was genuine. */
async function consumeRememberToken(ctx: AppContext, value: string): Promise<number | null> {
  const m = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return null;
  const [, selector, validator] = m as unknown as [string, string, string];
  const row = await findRememberToken(ctx.db, selector);
  if (!row) return null;
  await deleteRememberToken(ctx.db, selector);
  if (!sameString(row.validatorHash, sha256(validator))) {
    // A known selector with a wrong validator: the cookie was copied and used. Burn them all.
    await deleteRememberTokensOf(ctx.db, row.staffId);
    return null;
  }
  return row.expiresAt > ctx.clock.now() ? row.staffId : null;
}

/** Signs a staff member in: a brand-new session id (the old one, if any, is ended). */
export async function startSession(ctx: AppContext, req: Request, res: Response, staffId: number, remember: boolean): Promise<void> {
  const now = ctx.clock.now();
  const previous = readCookie(req, ctx.config, 'session');
  if (previous) await deleteSession(ctx.db, sha256(previous));
  await deleteExpired(ctx.db, now, SESSION_IDLE_MS);
  const id = randomBytes(32).toString('base64url');
  const idHash = sha256(id);
  const csrfToken = randomBytes(32).toString('base64url');
  await insertSession(ctx.db, { idHash, staffId, csrfToken, now, expiresAt: now + SESSION_MAX_MS });
  setCookie(res, ctx.config, 'session', id);
  // Signed in: a pending single sign-on or passkey round trip has no use any more (staff keep two cookies).
  if (readCookie(req, ctx.config, 'signin')) clearCookie(res, ctx.config, 'signin');
  if (remember) {
    const selector = randomBytes(16).toString('base64url');
    const validator = randomBytes(32).toString('base64url');
    await insertRememberToken(ctx.db, { selector, validatorHash: sha256(validator), staffId, expiresAt: now + REMEMBER_MS });
    setCookie(res, ctx.config, 'remember', `${selector}.${validator}`, REMEMBER_MS / 1000);
  }
  // The rest of this request belongs to the new session.
  const staff = await findStaffById(ctx.db, staffId);
  const l = locals(res);
  l.staff = staff ? { id: staff.id, username: staff.username, displayName: staff.displayName, isOwner: staff.isOwner, timeZone: staff.timeZone } : null;
  l.csrf = csrfToken;
  l.sessionHash = idHash;
}

/** Signs out: the session and this browser's remember-me token are deleted server-side. */
export async function endSession(ctx: AppContext, req: Request, res: Response): Promise<void> {
  const id = readCookie(req, ctx.config, 'session');
  if (id) await deleteSession(ctx.db, sha256(id));
  const remember = readCookie(req, ctx.config, 'remember');
  const selector = remember?.split('.')[0];
  if (selector) await deleteRememberToken(ctx.db, selector);
  clearCookie(res, ctx.config, 'session');
  clearCookie(res, ctx.config, 'remember');
  const l = locals(res);
  l.staff = null;
  l.csrf = '';
  l.sessionHash = null;
}

const FORM_WINDOW_MS = 3600_000;

function formMac(ctx: AppContext, purpose: string, window: number): string {
  return createHmac('sha256', ctx.keyring.macKey).update(`form-token|${purpose}|${window}`).digest('base64url');
}

/** A stateless anti-forgery token for forms without a session (sign-in, setup, invitation). */
export function formToken(ctx: AppContext, purpose: string): string {
  const window = Math.floor(ctx.clock.now() / FORM_WINDOW_MS);
  return `${window}.${formMac(ctx, purpose, window)}`;
}

/** Accepts a form token from this hour or the two before (a form left open for a while). */
export function formTokenValid(ctx: AppContext, purpose: string, token: unknown): boolean {
  if (typeof token !== 'string') return false;
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return false;
  const window = Number(m[1]);
  const now = Math.floor(ctx.clock.now() / FORM_WINDOW_MS);
  if (window > now || window < now - 2) return false;
  return sameString(m[2] as string, formMac(ctx, purpose, window));
}
