import { sql, type Kysely } from 'kysely';

/**
 * One weekly schedule per staff member (weekly hours and special days) that services reuse
 * (issue 15). Every existing service keeps its own hours (`uses_schedule` 0), as before; the
 * editor makes new services use the schedule.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('schedules')
    .addColumn('staff_id', 'integer', (c) => c.primaryKey().references('staff.id').onDelete('cascade'))
    .addColumn('hours', 'text', (c) => c.notNull())
    .addColumn('overrides', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('services').addColumn('uses_schedule', 'integer', (c) => c.notNull().defaultTo(0).check(sql`uses_schedule in (0, 1)`)).execute();
}

export async function down(): Promise<void> {
  throw new Error('downgrades are not supported; restore a backup instead');
}
