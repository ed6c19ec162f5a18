import { readFileSync } from 'node:fs';
import { tryBoot } from '../boot.js';
import type { Db } from '../db/database.js';
import { importAccount } from '../accounts/portability.js';
import { fromJson } from '../accounts/portable.js';
import type { Config } from '../config.js';
import { parse } from './args.js';
import { done, fail, type CliOutcome } from './outcome.js';

export const help = `Usage: creneau import --user U FILE.json

Reads a creneau/1 file (see "creneau export") into the existing account U: the profile is
updated, the weekly schedule replaced when the file has one ("schedule"), and services are
matched by slug (created or updated), all or nothing. A service with "usesSchedule": true
follows the weekly schedule; without it (files written before the schedule existed) the
service keeps the hours written in it. The file's profile.username must be U. Unknown keys
are refused with their name.`;

/** Imports a creneau/1 document into an existing staff account. */
export async function run(argv: readonly string[], config: Config): Promise<CliOutcome> {
  const args = parse(argv, { user: { type: 'string' } }, true);
  if (!args.ok) return args;
  const { values, positionals } = args.value;
  if (values.help) {
    console.log(help);
    return done;
  }
  if (!values.user) return fail('usage', '--user is required');
  const [file, ...rest] = positionals;
  if (!file || rest.length > 0) return fail('usage', 'import takes exactly one FILE.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return fail('unreadable-file', `cannot read ${file}`);
  }
  const parsed = fromJson(text);
  if (!parsed.ok) return fail('invalid', ...parsed.error);
  const calendar = parsed.value.calendar;
  if (calendar && calendar.provider !== 'caldav') {
    return fail('invalid', 'a Google calendar needs your consent in a browser; remove the "calendar" block and connect Google in /admin/calendar');
  }
  if (calendar && (!calendar.url || !calendar.password)) return fail('invalid', 'calendar: "url" and "password" are required for a CalDAV calendar');
  const booted = await tryBoot(config);
  if (!booted.ok) return fail(booted.error.code, booted.error.message);
  const deps = booted.value;
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
        return fail('unreachable', `calendar: could not connect to ${new URL(calendar.url).host} (${prepared.error.code}); nothing was imported`);
      }
      saveCalendar = (trx, staffId) => prepared.value.save(staffId, trx);
    }
    const result = await importAccount(deps, deps.i18n.getFixedT('en'), values.user, parsed.value, saveCalendar);
    if (!result.ok) return fail('invalid', ...result.error);
    console.log(`imported ${values.user}: ${result.value.created} service(s) created, ${result.value.updated} updated${saveCalendar ? ', calendar connected' : ''}`);
    return done;
  } finally {
    await deps.db.destroy();
  }
}
