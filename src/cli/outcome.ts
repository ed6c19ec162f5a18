import { err, ok, type Result } from '../lib/result.js';

/**
 * Every expected way a command can fail. `main` turns the code into the exit status and prints
 * the lines; anything thrown instead is a bug (exit 70, see EXIT_CODES).
 */
export type CliFailureCode =
  /** Bad arguments: the command's help follows the message. */
  | 'usage'
  /** The environment: a CRENEAU_* variable is wrong. */
  | 'config'
  /** CRENEAU_DATA_DIR cannot be created or is not a directory. */
  | 'data-dir'
  /** The database refuses to open (damaged, foreign, from a newer version). */
  | 'database'
  /** The master key is missing, wrong or malformed. */
  | 'key'
  /** A file named on the command line cannot be read. */
  | 'unreadable-file'
  /** The input was read but is refused (invalid import file, invalid account fields). */
  | 'invalid'
  /** What should be created already exists (a username, an e-mail, the owner). */
  | 'exists'
  /** What the command names does not exist (a user, the database). */
  | 'not-found'
  /** An outside party did not answer as needed (a calendar server, the local /healthz). */
  | 'unreachable'
  /** `audit` found a failing check; the report says which. */
  | 'check-failed';

export interface CliFailure {
  readonly code: CliFailureCode;
  /** One line each on stderr; empty when the command already said everything. */
  readonly lines: readonly string[];
}

/** What a command ends with: done, or an expected failure. */
export type CliOutcome = Result<void, CliFailure>;

/** Exit statuses (also in USAGE): 0 done, 1 refused, 2 usage, 70 a bug (sysexits EX_SOFTWARE). */
export const EXIT_USAGE = 2;
export const EXIT_UNEXPECTED = 70;
export const EXIT_CODES: Readonly<Record<CliFailureCode, number>> = {
  usage: EXIT_USAGE,
  config: 1,
  'data-dir': 1,
  database: 1,
  key: 1,
  'unreadable-file': 1,
  invalid: 1,
  exists: 1,
  'not-found': 1,
  unreachable: 1,
  'check-failed': 1,
};

/** The codes about the installation rather than the command's input: printed without the command's name. */
export const SETUP_CODES: ReadonlySet<CliFailureCode> = new Set(['config', 'data-dir', 'database', 'key']);

export const done: CliOutcome = ok(undefined);

/** A failed outcome with its message line(s). */
export function fail(code: CliFailureCode, ...lines: readonly string[]): { readonly ok: false; readonly error: CliFailure } {
  return err({ code, lines });
}
