/**
 * The one error type routes and services throw for expected failures: an HTTP status and a
 * message key (never a raw message) rendered in the visitor's language.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly messageKey: string,
    readonly params: Readonly<Record<string, string | number>> = {},
  ) {
    super(messageKey);
    this.name = 'AppError';
  }
}

/** 404 with the generic "page not found" message: also used for anything we must not reveal. */
export function notFound(): AppError {
  return new AppError(404, 'errors:not_found');
}
