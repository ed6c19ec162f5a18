import type { Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import type { ServiceTable } from './catalog.table.js';
import { parseFields, parseRules, type ServiceRow } from './catalog.js';

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
