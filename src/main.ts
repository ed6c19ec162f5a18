import { realpathSync } from 'node:fs';
import { ConfigError, loadConfig, processEnvironment, type Config } from './config.js';
import { COMMANDS, USAGE } from './cli/index.js';
import { EXIT_CODES, EXIT_UNEXPECTED, EXIT_USAGE, SETUP_CODES, type CliFailure } from './cli/outcome.js';

/**
 * Entry: parse the command, load the configuration, run. An expected failure is an outcome
 * (cli/outcome.ts) mapped to its message and exit status; a thrown error is a bug: one short
 * line, exit 70.
 */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  let args = [...argv];
  if (args[0] === '--help' || args[0] === '-h' || args[0] === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (args.length === 0 || args[0]?.startsWith('-')) args = ['serve', ...args];
  let name = args.shift() as string;
  if (name === 'user' && args[0] === 'create') name = `user ${args.shift() as string}`;
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    console.error(`creneau: unknown command "${name}"\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  try {
    const command = await load();
    let config: Config;
    try {
      config = loadConfig(env);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return report(name, '', { code: 'config', lines: [e.message] });
    }
    const outcome = await command.run(args, config);
    return outcome.ok ? 0 : report(name, command.help, outcome.error);
  } catch (e) {
    // Only the class name: a message may carry data the operator did not mean to print.
    console.error(`creneau ${name}: unexpected ${e instanceof Error ? e.name : 'error'}; this is a bug, please report it`);
    return EXIT_UNEXPECTED;
  }
}

/** Prints an expected failure and returns its exit status. */
function report(name: string, help: string, failure: CliFailure): number {
  const prefix = failure.code === 'config' ? 'creneau: configuration error: ' : SETUP_CODES.has(failure.code) ? 'creneau: ' : `creneau ${name}: `;
  for (const line of failure.lines) console.error(`${prefix}${line}`);
  if (failure.code === 'usage') console.error(`\n${help}`);
  return EXIT_CODES[failure.code];
}

/** The script Node was started with, symlinks resolved (npm's `creneau` bin link points at dist/main.js). */
function entryScript(): string {
  const given = process.argv[1] ?? '';
  try {
    return realpathSync(given);
  } catch {
    return given;
  }
}

const isEntry = /main\.(ts|js|cjs|mjs)$/.test(entryScript());
if (isEntry) {
  main(process.argv.slice(2), processEnvironment()).then(
    (code) => {
      process.exitCode = code;
    },
    () => {
      process.exitCode = EXIT_UNEXPECTED;
    },
  );
}
