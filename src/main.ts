import { realpathSync } from 'node:fs';
import { ConfigError, loadConfig, processEnvironment } from './config.js';
import { COMMANDS, USAGE } from './cli/index.js';
import { UsageError } from './cli/args.js';

/** Entry: parse the command, load the configuration, run. Errors: one line on stderr, non-zero exit. */
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
    return 2;
  }
  let help = '';
  try {
    const command = await load();
    help = command.help;
    const config = loadConfig(env);
    return await command.run(args, config);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`creneau ${name}: ${err.message}\n\n${help}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      console.error(`creneau: configuration error: ${err.message}`);
      return 1;
    }
    if (err instanceof Error && ['DatabaseError', 'KeyError', 'SealError', 'CliError'].includes(err.name)) {
      console.error(`creneau: ${err.message}`);
      return 1;
    }
    console.error(`creneau: unexpected ${err instanceof Error ? err.name : 'error'}; nothing was changed`);
    return 1;
  }
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
      process.exitCode = 1;
    },
  );
}
