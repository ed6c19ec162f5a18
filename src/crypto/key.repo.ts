import type { Db } from '../db/database.js';

/** SQL for the key canary and every sealed column (key rotation walks them all). */

export async function findCanary(db: Db): Promise<{ key_id: string; sealed: string } | undefined> {
  return db.selectFrom('key_canary').selectAll().executeTakeFirst();
}

export async function countSealedRows(db: Db): Promise<number> {
  const r = await db.selectFrom('calendar_connections').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function replaceCanary(db: Db, keyId: string, sealed: string): Promise<void> {
  await db.deleteFrom('key_canary').execute();
  await db.insertInto('key_canary').values({ key_id: keyId, sealed }).execute();
}

/** Every sealed value with the associated data it was sealed for. */
export interface SealedCell {
  readonly table: 'calendar_connections';
  readonly id: number;
  readonly aad: string;
  readonly sealed: string;
}

export async function allSealedCells(db: Db): Promise<SealedCell[]> {
  const rows = await db.selectFrom('calendar_connections').select(['id', 'secret_sealed']).execute();
  return rows.map((r) => ({ table: 'calendar_connections', id: r.id, aad: connectionSecretAad(r.id), sealed: r.secret_sealed }));
}

export async function updateSealedCell(db: Db, cell: SealedCell, sealed: string): Promise<void> {
  await db.updateTable('calendar_connections').set({ secret_sealed: sealed }).where('id', '=', cell.id).execute();
}

/** The associated data binding a connection's secret to its row. */
export function connectionSecretAad(id: number): string {
  return `calendar_connections:${id}:secret`;
}
