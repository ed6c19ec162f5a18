import { normalizeUsername } from '../accounts/accounts.js';
import { findStaffByUsername } from '../accounts/accounts.repo.js';
import { tryBoot } from '../boot.js';
import { exportAccount } from '../accounts/portability.js';
import { toJson } from '../accounts/portable.js';
import type { Config } from '../config.js';
import { parse } from './args.js';
import { done, fail, type CliOutcome } from './outcome.js';

export const help = `Usage: creneau export --user U

Writes U's profile and services as JSON (format creneau/1) to standard output. It never
contains a password or calendar credentials. Redirect it to a file:
  creneau export --user alice > alice.json`;

/** Exports one staff member in the creneau/1 format. */
export async function run(argv: readonly string[], config: Config): Promise<CliOutcome> {
  const parsed = parse(argv, { user: { type: 'string' } });
  if (!parsed.ok) return parsed;
  const { values } = parsed.value;
  if (values.help) {
    console.log(help);
    return done;
  }
  if (!values.user) return fail('usage', '--user is required');
  const booted = await tryBoot(config);
  if (!booted.ok) return fail(booted.error.code, booted.error.message);
  const deps = booted.value;
  try {
    const staff = await findStaffByUsername(deps.db, normalizeUsername(values.user));
    const doc = staff ? await exportAccount(deps.db, staff.id) : undefined;
    if (!doc) return fail('not-found', `no staff member is called "${values.user}"`);
    process.stdout.write(toJson(doc));
    return done;
  } finally {
    await deps.db.destroy();
  }
}
