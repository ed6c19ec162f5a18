import type { Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import type { ServiceTable } from './catalog.table.js';
import { parseFields, parseQuestions, parseReminders, parseRules, type ServiceExtras, type ServiceRow } from './catalog.js';

/** SQL for services. JSON columns are parsed (and validated) here, so callers get typed rows. */

function toRow(r: Selectable<ServiceTable>): ServiceRow {
  return {
    id: r.id,
    staffId: r.staff_id,
    slug: r.slug,
    title: r.title,
    description: r.description,
    location: r.location,
    rules: parseRules(r.rules),
    fields: parseFields(r.fields),
    active: r.active === 1,
    questions: parseQuestions(r.questions),
    reminders: parseReminders(r.reminders),
    approval: r.approval === 1,
    confirmEmail: r.confirm_email === 1,
    cancelCutoffMinutes: r.cancel_cutoff_minutes,
  };
}

/** The active services of one staff member, in their chosen order. */
export async function listActiveServices(db: Db, staffId: number): Promise<ServiceRow[]> {
  const rows = await db.selectFrom('services').selectAll().where('staff_id', '=', staffId).where('active', '=', 1).orderBy('position').orderBy('id').execute();
  return rows.map(toRow);
}

/** Every service of one staff member, active or hidden (the editor's list). */
export async function listServices(db: Db, staffId: number): Promise<ServiceRow[]> {
  const rows = await db.selectFrom('services').selectAll().where('staff_id', '=', staffId).orderBy('position').orderBy('id').execute();
  return rows.map(toRow);
}

/** One service of one staff member by slug, active or not (the caller checks `active`). */
export async function findService(db: Db, staffId: number, slug: string): Promise<ServiceRow | undefined> {
  const row = await db.selectFrom('services').selectAll().where('staff_id', '=', staffId).where('slug', '=', slug).executeTakeFirst();
  return row ? toRow(row) : undefined;
}

/** One service of one staff member by id (another staff member's id finds nothing). */
export async function findServiceById(db: Db, staffId: number, id: number): Promise<ServiceRow | undefined> {
  const row = await db.selectFrom('services').selectAll().where('staff_id', '=', staffId).where('id', '=', id).executeTakeFirst();
  return row ? toRow(row) : undefined;
}

/**
 * The fields of a service as stored. The added fields (questions, reminders, …) may be left
 * out: a new service then gets the defaults and an update keeps what is stored.
 */
export type ServiceWrite = Omit<ServiceRow, 'id' | 'staffId' | keyof ServiceExtras> & Partial<ServiceExtras>;

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
