import { sql } from 'kysely';
import type SQLite from 'better-sqlite3';
import type { Db } from '../db/database.js';

/** SQL for the privacy page and the audit: the live schema, row counts, the controller. */

export interface LiveTable {
  readonly table: string;
  readonly columns: readonly string[];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Every table of the database file with its columns, read from sqlite_master and table_info. */
export async function readSchema(db: Db): Promise<LiveTable[]> {
  const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`.execute(db);
  const out: LiveTable[] = [];
  for (const { name } of tables.rows) {
    if (!IDENTIFIER.test(name)) throw new Error(`unexpected table name in sqlite_master: ${JSON.stringify(name)}`);
    const cols = await sql<{ name: string }>`select name from pragma_table_info(${name})`.execute(db);
    out.push({ table: name, columns: cols.rows.map((c) => c.name) });
  }
  return out;
}

/** Number of rows in one table (the name must come from readSchema or the inventory). */
export async function countRows(db: Db, table: string): Promise<number> {
  if (!IDENTIFIER.test(table)) throw new Error(`not a table name: ${table}`);
  const r = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/** The owner's name and e-mail: the controller of a Creneau instance unless a setting says otherwise. */
export async function findOwnerContact(db: Db): Promise<{ displayName: string; email: string } | undefined> {
  const r = await db.selectFrom('staff').select(['display_name', 'email']).where('is_owner', '=', 1).orderBy('id').executeTakeFirst();
  return r ? { displayName: r.display_name, email: r.email } : undefined;
}

/** One instance setting, if set and not blank. */
export async function findSetting(db: Db, key: string): Promise<string | undefined> {
  const r = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  return r && r.value.trim() !== '' ? r.value.trim() : undefined;
}

/** Sets instance settings in one transaction; a null value removes the key. */
export async function saveSettings(db: Db, values: Readonly<Record<string, string | null>>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === null) await trx.deleteFrom('settings').where('key', '=', key).execute();
      else await trx.insertInto('settings').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
    }
  });
}

/** Provider and URL of every calendar connection (never the username or the sealed secret). */
export async function listConnectionTargets(db: Db): Promise<{ provider: 'caldav' | 'google'; url: string | null }[]> {
  return db.selectFrom('calendar_connections').select(['provider', 'url']).orderBy('id').execute();
}

/**
 * A synchronous reader of a few instance settings (page rendering is synchronous), on the one
 * connection the app writes through. Blank values count as unset, like findSetting.
 */
export function settingsReader(sqlite: SQLite.Database, keys: readonly string[]): () => ReadonlyMap<string, string> {
  const statement = sqlite.prepare<string[], { key: string; value: string }>(`select key, value from settings where key in (${keys.map(() => '?').join(', ')})`);
  return () => new Map(statement.all(...keys).filter((r) => r.value.trim() !== '').map((r) => [r.key, r.value.trim()]));
}

/** The number of rows this connection has changed since it opened: a write makes it grow. */
export function changeCounter(sqlite: SQLite.Database): () => number {
  const statement = sqlite.prepare<[], number>('select total_changes()').pluck();
  return () => statement.get() as number;
}
