import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import type { Config } from '../config.js';
import { AppError } from './errors.js';

/**
 * Security headers (DESIGN.md §1.4): a strict CSP with no inline script, no referrer, and
 * framing only for public booking pages and only by CRENEAU_EMBED_ORIGINS.
 */
export function securityHeaders(config: Config) {
  const framers = config.embedOrigins.length > 0 ? config.embedOrigins.join(' ') : "'none'";
  const csp = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        frameSrc: ["'none'"],
        frameAncestors: [(_req, res) => ((res as Response).locals.embeddable ? framers : "'none'")],
        upgradeInsecureRequests: config.secureCookies ? [] : null,
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: false, // frame-ancestors decides; X-Frame-Options cannot list origins
    strictTransportSecurity: config.secureCookies ? { maxAge: 15552000, includeSubDomains: false } : false,
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  return (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=(), interest-cohort=()');
    csp(req, res, next);
  };
}

/**
 * Whether a path is a client page that CRENEAU_EMBED_ORIGINS may frame: the public booking
 * pages and the booking management pages; never /admin, sign-in or anything else. Decided from
 * the path before any route runs, because the CSP header is set first.
 */
export function isEmbeddablePath(path: string): boolean {
  return path.startsWith('/@') || path.startsWith('/b/');
}

/** Refuses TRACE and other methods we never serve. */
export function refuseOddMethods(req: Request, _res: Response, next: NextFunction): void {
  if (!['GET', 'HEAD', 'POST'].includes(req.method)) {
    next(new AppError(405, 'errors:method_not_allowed'));
    return;
  }
  next();
}

/**
 * Cross-origin POSTs are refused: when the browser says where a form came from (Origin, or
 * Referer without Origin), it must be our own origin.
 */
export function sameOriginPosts(config: Config) {
  const ours = config.baseUrl.origin;
  return (req: Request, _res: Response, next: NextFunction) => {
    if (req.method !== 'POST') return next();
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null' && origin !== ours) return next(new AppError(403, 'errors:forbidden_origin'));
    // Under Referrer-Policy: no-referrer, browsers send `Origin: null` even for our own forms;
    // Sec-Fetch-Site (a header pages cannot set) then tells whether the form was ours.
    if (origin === 'null' && req.headers['sec-fetch-site'] !== 'same-origin') return next(new AppError(403, 'errors:forbidden_origin'));
    next();
  };
}
