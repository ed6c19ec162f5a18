import type { Db } from '../db/database.js';
import { parseSchedule, type WeeklySchedule } from './catalog.js';

/** SQL for staff schedules (weekly hours and special days). JSON columns are parsed and validated here. */

/** The staff member's stored schedule, or undefined when they never saved one. */
export async function findSchedule(db: Db, staffId: number): Promise<WeeklySchedule | undefined> {
  const row = await db.selectFrom('schedules').select(['hours', 'overrides']).where('staff_id', '=', staffId).executeTakeFirst();
  return row ? parseSchedule(row.hours, row.overrides) : undefined;
}

/** Stores (creates or replaces) the staff member's schedule. */
export async function saveSchedule(db: Db, staffId: number, s: WeeklySchedule, now: number): Promise<void> {
  const values = { hours: JSON.stringify(s.hours), overrides: JSON.stringify(s.overrides), updated_at: now };
  await db
    .insertInto('schedules')
    .values({ staff_id: staffId, ...values })
    .onConflict((oc) => oc.column('staff_id').doUpdateSet(values))
    .execute();
}
