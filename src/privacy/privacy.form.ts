import { isEmailAddress } from '../lib/email.js';
import { hasLineControl } from '../lib/text.js';
import { contrastRatio, HEX_COLOUR, MIN_CONTRAST, readableUnderWhiteText } from '../web/colour.js';
import { bodyOf, text, type FieldError } from '../web/forms.js';

/**
 * The controller fields of the instance settings page: the business's name and one contact,
 * an e-mail address or a web address, both shown on /privacy. Both empty means "the owner".
 */

export const CONTROLLER_LIMITS = { name: 120, contact: 254 } as const;

export interface ControllerInput {
  readonly name: string;
  readonly contact: string;
}

/** Reads the two whitelisted fields (trimmed). */
export function readControllerForm(body: unknown): ControllerInput {
  const b = bodyOf(body);
  return { name: text(b, 'controller_name'), contact: text(b, 'controller_contact') };
}

// One-line fields: no C0/C1 control characters at all (newlines and U+2028/9 included), no bidi overrides
// that could make the privacy page read differently from what was typed.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** The link for a contact: mailto: for an e-mail, the URL for an http(s) address, else null. */
export function contactHref(contact: string): string | null {
  if (CONTROL.test(contact) || /\s/.test(contact)) return null;
  if (isEmailAddress(contact)) return `mailto:${contact}`;
  if (!/^https?:\/\//i.test(contact)) return null;
  try {
    const u = new URL(contact);
    if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.hostname === '' || u.username !== '' || u.password !== '') return null;
    return u.href;
  } catch {
    return null;
  }
}

/** Every problem with the controller fields (both filled, or both empty). */
export function controllerErrors(f: ControllerInput): FieldError[] {
  const errors: FieldError[] = [];
  if ([...f.name].length > CONTROLLER_LIMITS.name) errors.push({ field: 'controller_name', key: 'admin:errors.too_long', params: { max: CONTROLLER_LIMITS.name } });
  else if (CONTROL.test(f.name)) errors.push({ field: 'controller_name', key: 'admin:errors.bad_characters' });
  if ([...f.contact].length > CONTROLLER_LIMITS.contact) errors.push({ field: 'controller_contact', key: 'admin:errors.too_long', params: { max: CONTROLLER_LIMITS.contact } });
  else if (CONTROL.test(f.contact)) errors.push({ field: 'controller_contact', key: 'admin:errors.bad_characters' });
  else if (f.contact !== '' && contactHref(f.contact) === null) errors.push({ field: 'controller_contact', key: 'admin:settings.errors.contact_format' });
  if (f.name === '' && f.contact !== '') errors.push({ field: 'controller_name', key: 'admin:settings.errors.both_required' });
  if (f.contact === '' && f.name !== '') errors.push({ field: 'controller_contact', key: 'admin:settings.errors.both_required' });
  return errors;
}

// ---- The brand: the business's name and accent colour (the logo is an upload of its own) ----

export const BRAND_LIMITS = { name: 80 } as const;

export interface BrandInput {
  /** '' for the default name ("Creneau"). */
  readonly name: string;
  /** `#rrggbb` as typed (lower-cased), '' for the built-in colours. */
  readonly accent: string;
}

/** Reads the two whitelisted brand fields (trimmed; a colour is lower-cased, its `#` added when left out). */
export function readBrandForm(body: unknown): BrandInput {
  const b = bodyOf(body);
  const accent = text(b, 'brand_accent').toLowerCase();
  return { name: text(b, 'brand_name'), accent: /^[0-9a-f]{6}$/.test(accent) ? `#${accent}` : accent };
}

/** Bidi embeddings, overrides and isolates: a name in the header must read as it was typed. */
const BIDI = /[\u202a-\u202e\u2066-\u2069]/;

/** Every problem with the brand fields. */
export function brandErrors(f: BrandInput): FieldError[] {
  const errors: FieldError[] = [];
  if ([...f.name].length > BRAND_LIMITS.name) errors.push({ field: 'brand_name', key: 'admin:errors.too_long', params: { max: BRAND_LIMITS.name } });
  else if (hasLineControl(f.name) || BIDI.test(f.name)) errors.push({ field: 'brand_name', key: 'admin:errors.bad_characters' });
  if (f.accent !== '' && !HEX_COLOUR.test(f.accent)) errors.push({ field: 'brand_accent', key: 'admin:settings.errors.accent_format' });
  else if (f.accent !== '' && !readableUnderWhiteText(f.accent)) {
    // Rounded down, so a colour at 4.48:1 never reads "4.5:1" in a refusal.
    const ratio = Math.floor(contrastRatio(f.accent, '#ffffff') * 100) / 100;
    errors.push({ field: 'brand_accent', key: 'admin:settings.errors.accent_contrast', params: { ratio: ratio.toFixed(2), min: MIN_CONTRAST } });
  }
  return errors;
}
