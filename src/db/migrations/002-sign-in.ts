import type { Kysely } from 'kysely';

/**
 * Staff sign-in beyond passwords (DESIGN.md §5): the OpenID Connect subject linked to an
 * account, and passkeys (WebAuthn public-key credentials; the private key never leaves the
 * staff member's device).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // SQLite cannot add a UNIQUE column: the uniqueness comes from the index.
  await db.schema.alterTable('staff').addColumn('oidc_sub', 'text').execute();
  await db.schema.createIndex('staff_oidc_sub').unique().on('staff').column('oidc_sub').execute();

  await db.schema
    .createTable('passkeys')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('staff_id', 'integer', (c) => c.notNull().references('staff.id').onDelete('cascade'))
    .addColumn('credential_id', 'text', (c) => c.notNull().unique())
    .addColumn('public_key', 'blob', (c) => c.notNull())
    .addColumn('sign_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('transports', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('last_used_at', 'integer')
    .execute();
  await db.schema.createIndex('passkeys_staff').on('passkeys').column('staff_id').execute();
}

export async function down(): Promise<void> {
  throw new Error('downgrades are not supported; restore a backup instead');
}
