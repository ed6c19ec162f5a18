import { bodyOf, raw, text, type FieldError } from '../web/forms.js';
import { newPasswordErrors, normalizeEmail, normalizeUsername, profileErrors, type ProfileInput } from './accounts.js';

/** Reading and checking the account forms. Only the listed fields are read: extra ones are ignored. */

/** The profile fields, normalised as they will be stored. */
export function readProfile(body: unknown): ProfileInput {
  const b = bodyOf(body);
  return {
    username: normalizeUsername(text(b, 'username')),
    displayName: text(b, 'display_name').normalize('NFC'),
    email: normalizeEmail(text(b, 'email')),
    timeZone: text(b, 'time_zone'),
    locale: text(b, 'locale'),
    bio: raw(b, 'bio').replace(/\r\n/g, '\n').trim().normalize('NFC'),
    place: text(b, 'place').normalize('NFC'),
  };
}

/** A new account's form (setup wizard, invitation): profile + password twice. */
export interface NewAccountForm {
  readonly profile: ProfileInput;
  readonly password: string;
  readonly passwordConfirm: string;
}

export function readNewAccount(body: unknown): NewAccountForm {
  const b = bodyOf(body);
  return { profile: readProfile(body), password: raw(b, 'password'), passwordConfirm: raw(b, 'password_confirm') };
}

export function newAccountErrors(f: NewAccountForm): FieldError[] {
  return [...profileErrors(f.profile), ...newPasswordErrors(f.password, f.passwordConfirm)];
}

/** The password change form. */
export interface PasswordForm {
  readonly current: string;
  readonly password: string;
  readonly passwordConfirm: string;
}

export function readPasswordForm(body: unknown): PasswordForm {
  const b = bodyOf(body);
  return { current: raw(b, 'current_password'), password: raw(b, 'password'), passwordConfirm: raw(b, 'password_confirm') };
}

/** The sign-in form. */
export interface LoginForm {
  readonly login: string;
  readonly password: string;
  readonly remember: boolean;
  readonly next: string;
}

export function readLogin(body: unknown): LoginForm {
  const b = bodyOf(body);
  return { login: text(b, 'login'), password: raw(b, 'password'), remember: typeof b['remember'] === 'string', next: text(b, 'next') };
}
