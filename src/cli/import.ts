import { readFileSync } from 'node:fs';
import { boot } from '../boot.js';
import type { Db } from '../db/database.js';
import { importAccount } from '../accounts/portability.js';
import { fromJson } from '../accounts/portable.js';
import type { Config } from '../config.js';
import { parse, UsageError } from './args.js';

export const help = `Usage: creneau import --user U FILE.json

Reads a creneau/1 file (see "creneau export") into the existing account U: the profile is
updated, the weekly schedule replaced when the file has one ("schedule"), and services are
matched by slug (created or updated), all or nothing. A service with "usesSchedule": true
follows the weekly schedule; without it (files written before the schedule existed) the
service keeps the hours written in it. The file's profile.username must be U. Unknown keys
are refused with their name.`;

/** Imports a creneau/1 document into an existing staff account. */
export async function run(argv: readonly string[], config: Config): Promise<number> {
  const { values, positionals } = parse(argv, { user: { type: 'string' } }, true);
  if (values.help) {
    console.log(help);
    return 0;
  }
  if (!values.user) throw new UsageError('--user is required');
  const [file, ...rest] = positionals;
  if (!file || rest.length > 0) throw new UsageError('import takes exactly one FILE.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    console.error(`creneau import: cannot read ${file}`);
    return 1;
  }
  const parsed = fromJson(text);
  if (!parsed.ok) {
    for (const e of parsed.error) console.error(`creneau import: ${e}`);
    return 1;
  }
  const calendar = parsed.value.calendar;
  if (calendar && calendar.provider !== 'caldav') {
    console.error('creneau import: a Google calendar needs your consent in a browser; remove the "calendar" block and connect Google in /admin/calendar');
    return 1;
  }
  if (calendar && (!calendar.url || !calendar.password)) {
    console.error('creneau import: calendar: "url" and "password" are required for a CalDAV calendar');
    return 1;
  }
  const deps = await boot(config);
  try {
    // The calendar is reached first (nothing written yet); its connection is then stored in the
    // same transaction as the profile and services, so a failed import changes nothing.
    let saveCalendar: ((trx: Db, staffId: number) => Promise<void>) | undefined;
    if (calendar?.url && calendar.password) {
      const prepared = await deps.calendars.prepareCaldav({
        url: calendar.url,
        username: calendar.username,
        password: calendar.password,
        booking: calendar.calendar,
        conflicts: calendar.conflictCalendars,
      });
      if (!prepared.ok) {
        console.error(`creneau import: calendar: could not connect to ${new URL(calendar.url).host} (${prepared.error.code}); nothing was imported`);
        return 1;
      }
      saveCalendar = (trx, staffId) => prepared.value.save(staffId, trx);
    }
    const result = await importAccount(deps, deps.i18n.getFixedT('en'), values.user, parsed.value, saveCalendar);
    if (!result.ok) {
      for (const e of result.error) console.error(`creneau import: ${e}`);
      return 1;
    }
    console.log(`imported ${values.user}: ${result.value.created} service(s) created, ${result.value.updated} updated${saveCalendar ? ', calendar connected' : ''}`);
    return 0;
  } finally {
    await deps.db.destroy();
  }
}
