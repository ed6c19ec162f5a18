import type { Db } from '../db/database.js';

/** SQL for pending staff invitations (only a hash of the link's token is stored). */

export interface InvitationRow {
  readonly tokenHash: string;
  readonly email: string;
  readonly invitedBy: number;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export async function insertInvitation(db: Db, i: InvitationRow): Promise<void> {
  await db
    .insertInto('invitations')
    .values({ token_hash: i.tokenHash, email: i.email, invited_by: i.invitedBy, created_at: i.createdAt, expires_at: i.expiresAt })
    .execute();
}

/** A pending invitation by the hash of its token, if not expired. */
export async function findInvitation(db: Db, tokenHash: string, now: number): Promise<InvitationRow | undefined> {
  const r = await db.selectFrom('invitations').selectAll().where('token_hash', '=', tokenHash).where('expires_at', '>', now).executeTakeFirst();
  return r ? { tokenHash: r.token_hash, email: r.email, invitedBy: r.invited_by, createdAt: r.created_at, expiresAt: r.expires_at } : undefined;
}

/** Pending invitations, newest first; expired ones are forgotten first. */
export async function listInvitations(db: Db, now: number): Promise<InvitationRow[]> {
  await db.deleteFrom('invitations').where('expires_at', '<=', now).execute();
  const rows = await db.selectFrom('invitations').selectAll().orderBy('created_at', 'desc').execute();
  return rows.map((r) => ({ tokenHash: r.token_hash, email: r.email, invitedBy: r.invited_by, createdAt: r.created_at, expiresAt: r.expires_at }));
}

export async function deleteInvitation(db: Db, tokenHash: string): Promise<void> {
  await db.deleteFrom('invitations').where('token_hash', '=', tokenHash).execute();
}
