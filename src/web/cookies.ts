import type { Request, Response } from 'express';
import type { Config } from '../config.js';

/**
 * Cookie names and attributes in one place (DESIGN.md §1.3): at most four names, HttpOnly,
 * SameSite, Secure and the __Host- prefix over HTTPS. Clients get none unless they pick a
 * language.
 */
export const COOKIE_BASE_NAMES = ['session', 'remember', 'lang', 'signin'] as const;
export type CookieName = (typeof COOKIE_BASE_NAMES)[number];

/** The real cookie name: `__Host-creneau_x` over HTTPS, `creneau_x` otherwise. */
export function cookieName(config: Config, name: CookieName): string {
  return `${config.secureCookies ? '__Host-' : ''}creneau_${name}`;
}

/** Parses the Cookie header (no library needed for name=value pairs). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = part.slice(0, eq).trim();
    let v = part.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    try {
      if (!out.has(k)) out.set(k, decodeURIComponent(v));
    } catch {
      // a malformed value is ignored, as if absent
    }
  }
  return out;
}

/** Reads one of our cookies from the request. */
export function readCookie(req: Request, config: Config, name: CookieName): string | undefined {
  return parseCookies(req.headers.cookie).get(cookieName(config, name));
}

/** Sets one of our cookies with the strict attributes; maxAge in seconds, or a session cookie. */
export function setCookie(res: Response, config: Config, name: CookieName, value: string, maxAgeSeconds?: number): void {
  const attrs = [
    `${cookieName(config, name)}=${encodeURIComponent(value)}`,
    'Path=/',
    'SameSite=Lax', // Lax, not Strict: the Google sign-in callback is a top-level GET from Google
    'HttpOnly',
  ];
  if (config.secureCookies) attrs.push('Secure');
  if (maxAgeSeconds !== undefined) attrs.push(`Max-Age=${maxAgeSeconds}`);
  res.append('Set-Cookie', attrs.join('; '));
}

/** Deletes one of our cookies. */
export function clearCookie(res: Response, config: Config, name: CookieName): void {
  setCookie(res, config, name, '', 0);
}
