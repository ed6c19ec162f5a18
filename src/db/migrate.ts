import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database.js';
import { DatabaseError } from './database.js';
import * as m001 from './migrations/001-initial.js';
import * as m002 from './migrations/002-sign-in.js';
import * as m003 from './migrations/003-service-fields.js';
import * as m004 from './migrations/004-staff-schedule.js';

/** Every migration, in order. A static list (not a folder scan) so the single binary carries them. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '001-initial': m001,
  '002-sign-in': m002,
  '003-service-fields': m003,
  '004-staff-schedule': m004,
};

const provider: MigrationProvider = { getMigrations: async () => ({ ...MIGRATIONS }) };

/** Applies pending migrations; refuses a database written by a newer Creneau. */
export async function migrate(db: Db): Promise<void> {
  const known = new Set(Object.keys(MIGRATIONS));
  const exists = await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = 'kysely_migration'`.execute(db);
  if ((exists.rows[0]?.n ?? 0) > 0) {
    const done = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
    const unknown = done.rows.map((r) => r.name).filter((n) => !known.has(n));
    if (unknown.length > 0) {
      throw new DatabaseError(
        `the database was upgraded by a newer version of Creneau (migration ${unknown.join(', ')}); run that version or restore a backup made for this one`,
      );
    }
  }
  const { error } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) throw new DatabaseError(`database migration failed: ${error instanceof Error ? error.message : String(error)}`);
}
