import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { boot } from '../boot.js';
import type { Config } from '../config.js';
import { parse, UsageError } from './args.js';

export const help = `Usage: creneau backup FILE

Writes a consistent copy of the SQLite database to FILE while the server may keep running
(SQLite online backup). Keep the secret key (DATA_DIR/secret.key or CRENEAU_SECRET_KEY) with
it: the calendar credentials in the copy are sealed under that key.`;

/** SQLite online backup to a new file. */
export async function run(argv: readonly string[], config: Config): Promise<number> {
  const { values, positionals } = parse(argv, {}, true);
  if (values.help) {
    console.log(help);
    return 0;
  }
  const [file, ...rest] = positionals;
  if (!file || rest.length > 0) throw new UsageError('backup takes exactly one FILE');
  const target = resolve(file);
  if (existsSync(target)) throw new UsageError(`${target} already exists; choose a new file name`);
  const deps = await boot(config);
  try {
    await deps.sqlite.backup(target);
  } finally {
    await deps.db.destroy();
  }
  console.log(`backup written to ${target}`);
  return 0;
}
