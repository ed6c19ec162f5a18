import type { TFunction } from 'i18next';

/**
 * Small helpers for server-rendered forms: reading whitelisted fields from a urlencoded body
 * (anything else the browser sends is ignored, so no mass assignment) and turning per-field
 * error keys into the messages and error summary a page shows.
 */

/** One problem with one field: the field's name (= input id) and an i18n key. */
export interface FieldError {
  readonly field: string;
  readonly key: string;
  readonly params?: Readonly<Record<string, string | number>>;
}

/** What a template needs: a message per field and the summary list, in page order. */
export interface FormErrors {
  readonly byField: Readonly<Record<string, string>>;
  readonly list: readonly { readonly field: string; readonly message: string }[];
}

export const NO_ERRORS: FormErrors = { byField: {}, list: [] };

/** Translates field errors (first message per field wins). */
export function formErrors(t: TFunction, errors: readonly FieldError[]): FormErrors {
  const byField: Record<string, string> = {};
  const list: { field: string; message: string }[] = [];
  for (const e of errors) {
    if (byField[e.field] !== undefined) continue;
    const message = t(e.key, e.params ?? {});
    byField[e.field] = message;
    list.push({ field: e.field, message });
  }
  return { byField, list };
}

/** The body as a plain record (express gives `unknown`). */
export function bodyOf(body: unknown): Readonly<Record<string, unknown>> {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
}

/** A string field, trimmed; a repeated or missing field reads as ''. */
export function text(body: Readonly<Record<string, unknown>>, name: string): string {
  const v = body[name];
  return typeof v === 'string' ? v.trim() : '';
}

/** A string field as typed (passwords are never trimmed). */
export function raw(body: Readonly<Record<string, unknown>>, name: string): string {
  const v = body[name];
  return typeof v === 'string' ? v : '';
}

/** A checkbox: present with any value. */
export function checked(body: Readonly<Record<string, unknown>>, name: string): boolean {
  return typeof body[name] === 'string';
}
