import { LOCALES, type Locale } from '../config.js';
import { hasLineControl, hasTextControl } from '../lib/text.js';
import { isZone } from '../lib/time.js';
import { isEmailAddress } from '../lib/email.js';
import type { FieldError } from '../web/forms.js';
import { PASSWORD_MAX, PASSWORD_MIN } from './password.js';

/**
 * Staff accounts: pure rules for usernames, e-mails, time zones and the fields of a profile.
 * Usernames end up in public URLs (/@alice), so they are NFKC-normalised and lower-cased
 * first (fullwidth "ａｌｉｃｅ" is "alice"), then restricted to [a-z0-9-]: look-alike letters
 * from other scripts (Cyrillic "а") are refused, not mapped.
 */

/** Profile length limits, checked here and given to the templates' `maxlength`. */
export const LIMITS = { username: 32, displayName: 80, bio: 1000, place: 200, email: 254 } as const;

export const USERNAME_RE = new RegExp(`^[a-z0-9-]{3,${LIMITS.username}}$`);

/** Names that are, or could pass for, parts of the product. */
export const RESERVED_USERNAMES: ReadonlySet<string> = new Set([
  'admin', 'administrator', 'api', 'static', 'setup', 'login', 'logout', 'signin', 'signup', 'register',
  'privacy', 'healthz', 'health', 'auth', 'oauth', 'b', 'lang', 'favicon', 'robots', 'well-known',
  'www', 'root', 'creneau', 'invite', 'invitations', 'staff', 'owner', 'support', 'help', 'about',
  'security', 'system', 'null', 'undefined', 'mail', 'postmaster', 'webmaster', 'hostmaster', 'abuse',
  'noreply', 'no-reply', 'booking', 'bookings', 'book', 'calendar', 'account', 'accounts', 'profile',
  'settings', 'services', 'service', 'public', 'assets', 'img', 'css', 'js', 'test', 'sitemap',
]);

/** The form of a username that is stored and compared. */
export function normalizeUsername(input: string): string {
  return input.normalize('NFKC').trim().toLowerCase();
}

/** The form of an e-mail that is stored and compared. */
export function normalizeEmail(input: string): string {
  return input.normalize('NFKC').trim().toLowerCase();
}

export function isLocale(l: string): l is Locale {
  return (LOCALES as readonly string[]).includes(l);
}

/** Problems with a username (already normalised). */
export function usernameErrors(username: string, field = 'username'): FieldError[] {
  if (username === '') return [{ field, key: 'admin:errors.required' }];
  if (!USERNAME_RE.test(username)) return [{ field, key: 'admin:errors.username_format' }];
  if (RESERVED_USERNAMES.has(username)) return [{ field, key: 'admin:errors.username_reserved' }];
  return [];
}

/** Problems with an e-mail (already normalised). */
export function emailErrors(email: string, field = 'email'): FieldError[] {
  if (email === '') return [{ field, key: 'admin:errors.required' }];
  if (email.length > LIMITS.email || !isEmailAddress(email) || hasLineControl(email)) return [{ field, key: 'admin:errors.email_format' }];
  return [];
}

/** Problems with a new password and its confirmation. */
export function newPasswordErrors(password: string, confirm: string, field = 'password', confirmField = 'password_confirm'): FieldError[] {
  if (password === '') return [{ field, key: 'admin:errors.required' }];
  if ([...password].length < PASSWORD_MIN) return [{ field, key: 'admin:errors.password_short', params: { min: PASSWORD_MIN } }];
  if (password.length > PASSWORD_MAX) return [{ field, key: 'admin:errors.too_long', params: { max: PASSWORD_MAX } }];
  if (password !== confirm) return [{ field: confirmField, key: 'admin:errors.password_mismatch' }];
  return [];
}

/** Problems with a bounded free-text field: one line unless `multiline` (a bio). */
export function lengthErrors(value: string, field: string, max: number, required = false, multiline = false): FieldError[] {
  if (required && value === '') return [{ field, key: 'admin:errors.required' }];
  if ([...value].length > max) return [{ field, key: 'admin:errors.too_long', params: { max } }];
  // A name or a place ends up in e-mail headers and iCalendar properties: one clean line.
  if (multiline ? hasTextControl(value) : hasLineControl(value)) {
    return [{ field, key: multiline ? 'admin:errors.control_characters_text' : 'admin:errors.control_characters' }];
  }
  return [];
}

/** The profile fields everyone edits (setup, invitation, profile page). */
export interface ProfileInput {
  readonly username: string;
  readonly displayName: string;
  readonly email: string;
  readonly timeZone: string;
  readonly locale: string;
  readonly bio: string;
  readonly place: string;
}

/** Every problem with a profile input. */
export function profileErrors(p: ProfileInput): FieldError[] {
  return [
    ...usernameErrors(p.username),
    ...lengthErrors(p.displayName, 'display_name', LIMITS.displayName, true),
    ...emailErrors(p.email),
    ...(isZone(p.timeZone) ? [] : [{ field: 'time_zone', key: 'admin:errors.time_zone' }]),
    ...(isLocale(p.locale) ? [] : [{ field: 'locale', key: 'admin:errors.locale' }]),
    ...lengthErrors(p.bio, 'bio', LIMITS.bio, false, true),
    ...lengthErrors(p.place, 'place', LIMITS.place),
  ];
}
