import { normalizeUsername } from '../accounts/accounts.js';
import { findStaffByUsername } from '../accounts/accounts.repo.js';
import { boot } from '../boot.js';
import { exportAccount } from '../accounts/portability.js';
import { toJson } from '../accounts/portable.js';
import type { Config } from '../config.js';
import { parse, UsageError } from './args.js';

export const help = `Usage: creneau export --user U

Writes U's profile and services as JSON (format creneau/1) to standard output. It never
contains a password or calendar credentials. Redirect it to a file:
  creneau export --user alice > alice.json`;

/** Exports one staff member in the creneau/1 format. */
export async function run(argv: readonly string[], config: Config): Promise<number> {
  const { values } = parse(argv, { user: { type: 'string' } });
  if (values.help) {
    console.log(help);
    return 0;
  }
  if (!values.user) throw new UsageError('--user is required');
  const deps = await boot(config);
  try {
    const staff = await findStaffByUsername(deps.db, normalizeUsername(values.user));
    const doc = staff ? await exportAccount(deps.db, staff.id) : undefined;
    if (!doc) {
      console.error(`creneau export: no staff member is called "${values.user}"`);
      return 1;
    }
    process.stdout.write(toJson(doc));
    return 0;
  } finally {
    await deps.db.destroy();
  }
}
