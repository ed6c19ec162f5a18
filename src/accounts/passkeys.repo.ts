import type { Db } from '../db/database.js';

/** SQL for passkeys (public keys and credential ids only). */

export interface PasskeyRow {
  readonly id: number;
  readonly staffId: number;
  readonly credentialId: string;
  readonly publicKey: Uint8Array;
  readonly signCount: number;
  readonly transports: readonly string[];
  readonly name: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
}

type Row = { id: number; staff_id: number; credential_id: string; public_key: Buffer; sign_count: number; transports: string; name: string; created_at: number; last_used_at: number | null };

function toRow(r: Row): PasskeyRow {
  let transports: string[] = [];
  try {
    const parsed: unknown = JSON.parse(r.transports);
    if (Array.isArray(parsed)) transports = parsed.filter((x): x is string => typeof x === 'string');
  } catch {
    // a damaged hint list only costs the browser a guess
  }
  return {
    id: r.id,
    staffId: r.staff_id,
    credentialId: r.credential_id,
    publicKey: new Uint8Array(r.public_key),
    signCount: r.sign_count,
    transports,
    name: r.name,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
  };
}

export async function insertPasskey(
  db: Db,
  p: { staffId: number; credentialId: string; publicKey: Uint8Array; signCount: number; transports: readonly string[]; name: string; now: number },
): Promise<number> {
  const row = await db
    .insertInto('passkeys')
    .values({
      staff_id: p.staffId,
      credential_id: p.credentialId,
      public_key: Buffer.from(p.publicKey),
      sign_count: p.signCount,
      transports: JSON.stringify(p.transports),
      name: p.name,
      created_at: p.now,
      last_used_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** A staff member's passkeys, oldest first. */
export async function listPasskeys(db: Db, staffId: number): Promise<PasskeyRow[]> {
  const rows = await db.selectFrom('passkeys').selectAll().where('staff_id', '=', staffId).orderBy('id').execute();
  return rows.map(toRow);
}

export async function findPasskeyByCredentialId(db: Db, credentialId: string): Promise<PasskeyRow | undefined> {
  const row = await db.selectFrom('passkeys').selectAll().where('credential_id', '=', credentialId).executeTakeFirst();
  return row ? toRow(row) : undefined;
}

export async function countPasskeys(db: Db, staffId: number): Promise<number> {
  const row = await db.selectFrom('passkeys').select((eb) => eb.fn.countAll<number>().as('n')).where('staff_id', '=', staffId).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function markPasskeyUsed(db: Db, id: number, signCount: number, now: number): Promise<void> {
  await db.updateTable('passkeys').set({ sign_count: signCount, last_used_at: now }).where('id', '=', id).execute();
}

/** Renames one of a staff member's passkeys; false when it is not theirs. */
export async function renamePasskey(db: Db, staffId: number, id: number, name: string): Promise<boolean> {
  const r = await db.updateTable('passkeys').set({ name }).where('id', '=', id).where('staff_id', '=', staffId).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Deletes one of a staff member's passkeys; false when it is not theirs. */
export async function deletePasskey(db: Db, staffId: number, id: number): Promise<boolean> {
  const r = await db.deleteFrom('passkeys').where('id', '=', id).where('staff_id', '=', staffId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
