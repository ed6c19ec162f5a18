import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { tryBoot } from '../boot.js';
import type { Config } from '../config.js';
import { parse } from './args.js';
import { done, fail, type CliOutcome } from './outcome.js';

export const help = `Usage: creneau backup FILE

Writes a consistent copy of the SQLite database to FILE while the server may keep running
(SQLite online backup). Keep the secret key (DATA_DIR/secret.key or CRENEAU_SECRET_KEY) with
it: the calendar credentials in the copy are sealed under that key.`;

/** SQLite online backup to a new file. */
export async function run(argv: readonly string[], config: Config): Promise<CliOutcome> {
  const parsed = parse(argv, {}, true);
  if (!parsed.ok) return parsed;
  const { values, positionals } = parsed.value;
  if (values.help) {
    console.log(help);
    return done;
  }
  const [file, ...rest] = positionals;
  if (!file || rest.length > 0) return fail('usage', 'backup takes exactly one FILE');
  const target = resolve(file);
  if (existsSync(target)) return fail('usage', `${target} already exists; choose a new file name`);
  const booted = await tryBoot(config);
  if (!booted.ok) return fail(booted.error.code, booted.error.message);
  const deps = booted.value;
  try {
    await deps.sqlite.backup(target);
  } finally {
    await deps.db.destroy();
  }
  console.log(`backup written to ${target}`);
  return done;
}
