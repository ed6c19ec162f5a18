import type { Selectable } from 'kysely';
import { LOCALES, type Locale } from '../config.js';
import type { Db } from '../db/database.js';
import type { StaffTable } from './accounts.table.js';

/** SQL for staff accounts. */

export interface PublicStaff {
  readonly username: string;
  readonly displayName: string;
  readonly place: string;
  readonly hasPicture: boolean;
}

/** Staff members shown on the landing page, by display name. */
export async function listPublicStaff(db: Db): Promise<PublicStaff[]> {
  const rows = await db
    .selectFrom('staff')
    .select(['username', 'display_name', 'place', 'picture_type'])
    .orderBy('display_name')
    .execute();
  return rows.map((r) => ({ username: r.username, displayName: r.display_name, place: r.place, hasPicture: r.picture_type !== null }));
}

/** Whether the first-run wizard has been completed. */
export async function ownerExists(db: Db): Promise<boolean> {
  const row = await db.selectFrom('staff').select('id').where('is_owner', '=', 1).executeTakeFirst();
  return row !== undefined;
}

/** A staff member as the rest of the product sees it (never the password hash or Google id). */
export interface StaffRow {
  readonly id: number;
  readonly username: string;
  readonly displayName: string;
  readonly email: string;
  readonly locale: Locale;
  readonly timeZone: string;
  readonly bio: string;
  readonly place: string;
  readonly hasPicture: boolean;
  readonly isOwner: boolean;
}

const STAFF_COLUMNS = ['id', 'username', 'display_name', 'email', 'locale', 'time_zone', 'bio', 'place', 'picture_type', 'is_owner'] as const;

type StaffSelect = Pick<Selectable<StaffTable>, (typeof STAFF_COLUMNS)[number]>;

function toStaffRow(r: StaffSelect): StaffRow {
  return {
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    email: r.email,
    locale: (LOCALES as readonly string[]).includes(r.locale) ? (r.locale as Locale) : 'en',
    timeZone: r.time_zone,
    bio: r.bio,
    place: r.place,
    hasPicture: r.picture_type !== null,
    isOwner: r.is_owner === 1,
  };
}

/** A staff member by (already normalised) username. */
export async function findStaffByUsername(db: Db, username: string): Promise<StaffRow | undefined> {
  const row = await db.selectFrom('staff').select(STAFF_COLUMNS).where('username', '=', username).executeTakeFirst();
  return row ? toStaffRow(row) : undefined;
}

/** A staff member by id. */
export async function findStaffById(db: Db, id: number): Promise<StaffRow | undefined> {
  const row = await db.selectFrom('staff').select(STAFF_COLUMNS).where('id', '=', id).executeTakeFirst();
  return row ? toStaffRow(row) : undefined;
}
