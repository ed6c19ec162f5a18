import type { Db } from '../db/database.js';

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
