import type { Config } from '../config.js';
import type { CliOutcome } from './outcome.js';

/** A CLI command: its help text and what it does; expected failures are outcomes, not exceptions. */
export interface Command {
  readonly help: string;
  run(argv: readonly string[], config: Config): Promise<CliOutcome>;
}

/**
 * Every command (DESIGN.md §5 "CLI"); "user create" is two words. Each module is imported only
 * when its command runs, so `serve` does not load the import/export/audit code and the
 * one-shot commands do not load the web server.
 */
export const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  serve: () => import('./serve.js'),
  backup: () => import('./backup.js'),
  'user create': () => import('./user-create.js'),
  import: () => import('./import.js'),
  export: () => import('./export.js'),
  audit: () => import('./audit.js'),
  'rotate-key': () => import('./rotate-key.js'),
  healthcheck: () => import('./healthcheck.js'),
};

export const USAGE = `Usage: creneau <command> [options]

Commands:
  serve                      run the web server (default)
  user create                create a staff account
  import --user U FILE.json  import a profile and services (creneau/1)
  export --user U            export a profile and services as JSON
  audit [--json]             what is stored, cookies, logs, outbound hosts
  rotate-key                 re-seal every secret under a new key
  backup FILE                consistent online copy of the database
  healthcheck                exit 0 when the local server answers /healthz

Run "creneau <command> --help" for a command's options.

Exit status: 0 done; 1 refused, with the reason on stderr (bad input, name taken, not found,
database or key refused, server unreachable, audit check failed); 2 bad arguments;
70 an unexpected error (a bug: please report it).`;
