import { sql, type Kysely } from 'kysely';

/**
 * The service fields added by DESIGN.md §5: the service's own questions, reminder lead times,
 * approval, double opt-in and the cancel cut-off. The defaults are what every existing service
 * did before (no questions, no reminders, booked at once, cancellable until the start); the
 * phone's mode lives in the `fields` JSON, read as `required` when absent.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('services').addColumn('questions', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.alterTable('services').addColumn('reminders', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.alterTable('services').addColumn('approval', 'integer', (c) => c.notNull().defaultTo(0).check(sql`approval in (0, 1)`)).execute();
  await db.schema.alterTable('services').addColumn('confirm_email', 'integer', (c) => c.notNull().defaultTo(0).check(sql`confirm_email in (0, 1)`)).execute();
  await db.schema.alterTable('services').addColumn('cancel_cutoff_minutes', 'integer', (c) => c.notNull().defaultTo(0).check(sql`cancel_cutoff_minutes >= 0`)).execute();
}

export async function down(): Promise<void> {
  throw new Error('downgrades are not supported; restore a backup instead');
}
