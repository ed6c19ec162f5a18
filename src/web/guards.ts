import type { NextFunction, Request, Response } from 'express';
import { sameString } from '../lib/same-string.js';
import { locals, type SignedInStaff } from './context.js';
import { AppError } from './errors.js';
import { bodyOf } from './forms.js';

/**
 * Who may use a route, as middleware for the route table: signed-in staff, the owner, and the
 * session's CSRF token on every state-changing staff POST. They read only res.locals, which
 * the session middleware (accounts/session.ts) fills.
 */

/** Pages for signed-in staff: others are sent to the sign-in page and brought back. */
export function requireStaff(req: Request, res: Response, next: NextFunction): void {
  if (locals(res).staff) return next();
  if (req.method === 'GET' || req.method === 'HEAD') {
    res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    return;
  }
  next(new AppError(403, 'admin:errors.signed_out'));
}

/** Pages for the owner only; others get the same 404 as a page that does not exist. */
export function requireOwner(req: Request, res: Response, next: NextFunction): void {
  requireStaff(req, res, (err?: unknown) => {
    if (err) return next(err);
    if (!locals(res).staff?.isOwner) return next(new AppError(404, 'errors:not_found'));
    next();
  });
}

/** Refuses a staff POST whose `_csrf` field is not this session's token. Needs a parsed body. */
export function requireCsrf(req: Request, res: Response, next: NextFunction): void {
  if (!csrfMatches(res, bodyOf(req.body)['_csrf'])) {
    next(new AppError(403, 'admin:errors.csrf'));
    return;
  }
  next();
}

/** Checks a CSRF token read elsewhere (multipart forms). */
export function csrfMatches(res: Response, given: unknown): boolean {
  const expected = locals(res).csrf;
  return locals(res).staff !== null && expected !== '' && typeof given === 'string' && sameString(given, expected);
}

/** The signed-in staff member of a route behind requireStaff (403 should it be reached without). */
export function signedIn(res: Response): SignedInStaff {
  const s = locals(res).staff;
  if (!s) throw new AppError(403, 'admin:errors.signed_out');
  return s;
}
