import type { Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import type { ServiceTable } from './catalog.table.js';
import { effectiveRules, parseFields, parseQuestions, parseReminders, parseRules, parseSchedule, type ServiceExtras, type ServiceRow } from './catalog.js';

/**
 * SQL for services. JSON columns are parsed (and validated) here, so callers get typed rows.
 * This is the one place where a service that uses its staff member's weekly schedule gets
 * that schedule's hours and special days in its `rules`: every reader (the booking pages, the
 * slot JSON, export) sees ordinary, complete ServiceRules.
 */

type JoinedRow = Selectable<ServiceTable> & { schedule_hours: string | null; schedule_overrides: string | null };

/** Services with their staff member's schedule (null columns when they never saved one). */
function services(db: Db) {
  return db
    .selectFrom('services')
    .leftJoin('schedules', 'schedules.staff_id', 'services.staff_id')
    .selectAll('services')
    .select(['schedules.hours as schedule_hours', 'schedules.overrides as schedule_overrides']);
}

function toRow(r: JoinedRow): ServiceRow {
  const usesSchedule = r.uses_schedule === 1;
  const schedule = usesSchedule && r.schedule_hours !== null && r.schedule_overrides !== null ? parseSchedule(r.schedule_hours, r.schedule_overrides) : undefined;
  return {
    id: r.id,
    staffId: r.staff_id,
    slug: r.slug,
    title: r.title,
    description: r.description,
    location: r.location,
    rules: effectiveRules(parseRules(r.rules), usesSchedule, schedule),
    fields: parseFields(r.fields),
    active: r.active === 1,
    questions: parseQuestions(r.questions),
    reminders: parseReminders(r.reminders),
    approval: r.approval === 1,
    confirmEmail: r.confirm_email === 1,
    cancelCutoffMinutes: r.cancel_cutoff_minutes,
    usesSchedule,
  };
}

/** The active services of one staff member, in their chosen order. */
export async function listActiveServices(db: Db, staffId: number): Promise<ServiceRow[]> {
  const rows = await services(db).where('services.staff_id', '=', staffId).where('services.active', '=', 1).orderBy('services.position').orderBy('services.id').execute();
  return rows.map(toRow);
}

/** Every service of one staff member, active or hidden (the editor's list). */
export async function listServices(db: Db, staffId: number): Promise<ServiceRow[]> {
  const rows = await services(db).where('services.staff_id', '=', staffId).orderBy('services.position').orderBy('services.id').execute();
  return rows.map(toRow);
}

/** One service of one staff member by slug, active or not (the caller checks `active`). */
export async function findService(db: Db, staffId: number, slug: string): Promise<ServiceRow | undefined> {
  const row = await services(db).where('services.staff_id', '=', staffId).where('services.slug', '=', slug).executeTakeFirst();
  return row ? toRow(row) : undefined;
}

/** One service of one staff member by id (another staff member's id finds nothing). */
export async function findServiceById(db: Db, staffId: number, id: number): Promise<ServiceRow | undefined> {
  const row = await services(db).where('services.staff_id', '=', staffId).where('services.id', '=', id).executeTakeFirst();
  return row ? toRow(row) : undefined;
}

/**
 * The fields of a service as stored. The added fields (questions, reminders, …, whether it uses
 * the staff schedule) may be left out: a new service then gets the defaults (its own hours)
 * and an update keeps what is stored. With the schedule, `rules` still holds complete hours (a
 * copy), which the schedule's replace whenever the service is read.
 */
export type ServiceWrite = Omit<ServiceRow, 'id' | 'staffId' | 'usesSchedule' | keyof ServiceExtras> & Partial<ServiceExtras> & { readonly usesSchedule?: boolean };

function columns(s: ServiceWrite) {
  return {
    slug: s.slug,
    title: s.title,
    description: s.description,
    location: s.location,
    rules: JSON.stringify(s.rules),
    fields: JSON.stringify(s.fields),
    active: s.active ? 1 : 0,
    ...(s.questions === undefined ? {} : { questions: JSON.stringify(s.questions) }),
    ...(s.reminders === undefined ? {} : { reminders: JSON.stringify(s.reminders) }),
    ...(s.approval === undefined ? {} : { approval: s.approval ? 1 : 0 }),
    ...(s.confirmEmail === undefined ? {} : { confirm_email: s.confirmEmail ? 1 : 0 }),
    ...(s.cancelCutoffMinutes === undefined ? {} : { cancel_cutoff_minutes: s.cancelCutoffMinutes }),
    ...(s.usesSchedule === undefined ? {} : { uses_schedule: s.usesSchedule ? 1 : 0 }),
  };
}

/** Adds a service at the end of the staff member's list; returns its id. */
export async function insertService(db: Db, staffId: number, s: ServiceWrite, now: number): Promise<number> {
  const last = await db.selectFrom('services').select((eb) => eb.fn.max('position').as('p')).where('staff_id', '=', staffId).executeTakeFirst();
  const row = await db
    .insertInto('services')
    .values({ ...columns(s), staff_id: staffId, position: Number(last?.p ?? 0) + 1, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Replaces a service's fields (scoped to its staff member). */
export async function updateService(db: Db, staffId: number, id: number, s: ServiceWrite, now: number): Promise<void> {
  await db.updateTable('services').set({ ...columns(s), updated_at: now }).where('staff_id', '=', staffId).where('id', '=', id).execute();
}

/** Deletes a service (scoped to its staff member); true when one was deleted. */
export async function deleteService(db: Db, staffId: number, id: number): Promise<boolean> {
  const res = await db.deleteFrom('services').where('staff_id', '=', staffId).where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** Whether a slug is used by another service of the same staff member. */
export async function slugTaken(db: Db, staffId: number, slug: string, exceptId = 0): Promise<boolean> {
  const row = await db.selectFrom('services').select('id').where('staff_id', '=', staffId).where('slug', '=', slug).where('id', '!=', exceptId).executeTakeFirst();
  return row !== undefined;
}
