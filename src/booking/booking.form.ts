import type { FieldName, Question, ServiceFields } from '../catalog/catalog.js';
import { FIELD_NAMES } from '../catalog/catalog.js';
import { parseAnswers, type Answer } from './questions.js';
import { err, ok, type Result } from '../lib/result.js';
import { isEmailAddress } from '../lib/email.js';

/**
 * The booking form (DESIGN.md §5): parse and validate. Length caps everywhere; no control
 * character survives (CR/LF can never reach an e-mail header or an iCalendar property); only
 * the free-text fields keep line breaks, normalised to LF.
 */

export interface ClientDetails {
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  /** '' when the service does not ask for it (or the client left an optional one empty). */
  readonly phone: string;
  readonly extra: Readonly<Partial<Record<FieldName, string>>>;
  /** The service's own questions, answered (for the event recap only; never stored). */
  readonly answers?: readonly Answer[];
}

/** i18n keys by posted field name; answers to the service's questions are `q_<id>`. */
export type FormErrors = Partial<Record<'first_name' | 'last_name' | 'email' | 'phone' | FieldName | `q_${string}`, string>>;

const LIMITS: Readonly<Record<'first_name' | 'last_name' | 'email' | 'phone' | FieldName, number>> = {
  first_name: 80,
  last_name: 80,
  email: 254,
  phone: 32,
  note: 2000,
  address: 300,
  company: 120,
  job_title: 120,
  conference: 300,
};

const MULTILINE = new Set<string>(['note', 'address']);
// C0/C1 controls, DEL, Unicode line/paragraph separators, bidi overrides.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const PHONE = /^\+?[0-9 ().\-/]{6,32}$/;

function text(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  return typeof v === 'string' ? v : '';
}

/**
 * Validates the client's details against the service's field settings and questions; errors
 * are i18n keys per field. `values` is what was typed (trimmed, bounded), to show the form
 * again. `yes` is how a ticked checkbox question reads in the recap.
 */
export function parseClientDetails(
  body: Record<string, unknown>,
  fields: ServiceFields,
  questions: readonly Question[] = [],
  yes = 'yes',
): { readonly details: Result<ClientDetails, FormErrors>; readonly values: Record<string, string> } {
  const errors: FormErrors = {};
  const values: Record<string, string> = {};
  const read = (name: keyof typeof LIMITS, required: boolean): string => {
    let v = text(body, name).replace(/\r\n?/g, '\n');
    v = v.trim();
    values[name] = v.slice(0, LIMITS[name] * 2);
    if (v === '') {
      if (required) errors[name] = 'booking:err_required';
      return v;
    }
    if (v.length > LIMITS[name]) errors[name] = 'booking:err_too_long';
    else if (CONTROL.test(v) || (!MULTILINE.has(name) && v.includes('\n'))) errors[name] = 'booking:err_control';
    return v;
  };
  const firstName = read('first_name', true);
  const lastName = read('last_name', true);
  const email = read('email', true);
  const phone = fields.phone === 'off' ? '' : read('phone', fields.phone === 'required');
  if (email && !errors.email && !isEmailAddress(email)) errors.email = 'booking:err_email';
  if (phone && !errors.phone && (!PHONE.test(phone) || (phone.match(/\d/g) ?? []).length < 6)) errors.phone = 'booking:err_phone';
  const extra: Partial<Record<FieldName, string>> = {};
  for (const f of FIELD_NAMES) {
    if (fields[f] === 'off') continue;
    const v = read(f, fields[f] === 'required');
    if (v) extra[f] = v;
  }
  const asked = parseAnswers(body, questions, yes);
  Object.assign(values, asked.values);
  Object.assign(errors, asked.errors);
  if (Object.keys(errors).length > 0) return { details: err(errors), values };
  return { details: ok({ firstName, lastName, email, phone, extra, answers: asked.answers }), values };
}
