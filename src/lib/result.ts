/**
 * The one shape for expected outcomes (STYLE.md §5): a value, or a code from a closed union.
 * Exceptions are for bugs and the unexpected only.
 */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

/** A successful outcome. */
export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/** A failed outcome carrying its code (or a small record of details). */
export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}
