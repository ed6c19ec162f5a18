import type { Config } from '../config.js';
import * as audit from './audit.js';
import * as backup from './backup.js';
import * as exportCommand from './export.js';
import * as importCommand from './import.js';
import * as userCreate from './user-create.js';
import * as healthcheck from './healthcheck.js';
import * as rotateKey from './rotate-key.js';
import * as serve from './serve.js';

/** A CLI command: its help text and what it does; returns the exit code. */
export interface Command {
  readonly help: string;
  run(argv: readonly string[], config: Config): Promise<number>;
}

/** Every command (DESIGN.md §5 "CLI"); "user create" is two words. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  serve,
  backup,
  'user create': userCreate,
  import: importCommand,
  export: exportCommand,
  audit,
  'rotate-key': rotateKey,
  healthcheck,
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

Run "creneau <command> --help" for a command's options.`;
