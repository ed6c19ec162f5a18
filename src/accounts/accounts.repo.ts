import { sql, type Selectable } from 'kysely';
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

/** A staff member's profile fields as stored (normalised by the caller). */
export interface StaffInsert {
  readonly username: string;
  readonly displayName: string;
  readonly email: string;
  readonly passwordHash: string | null;
  readonly locale: string;
  readonly timeZone: string;
  readonly bio?: string;
  readonly place?: string;
  readonly isOwner: boolean;
}

/** Inserts a staff member; returns the new id. */
export async function insertStaff(db: Db, s: StaffInsert, now: number): Promise<number> {
  const row = await db
    .insertInto('staff')
    .values({
      username: s.username,
      display_name: s.displayName,
      email: s.email,
      password_hash: s.passwordHash,
      google_sub: null,
      locale: s.locale,
      time_zone: s.timeZone,
      bio: s.bio ?? '',
      place: s.place ?? '',
      picture: null,
      picture_type: null,
      is_owner: s.isOwner ? 1 : 0,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Whether a username or e-mail is used by someone other than `exceptId`. */
export async function findTaken(db: Db, username: string, email: string, exceptId = 0): Promise<{ username: boolean; email: boolean }> {
  const rows = await db
    .selectFrom('staff')
    .select(['username', 'email'])
    .where('id', '!=', exceptId)
    .where((eb) => eb.or([eb('username', '=', username), eb('email', '=', email)]))
    .execute();
  return { username: rows.some((r) => r.username === username), email: rows.some((r) => r.email === email) };
}

/** The id and password hash for a sign-in by username or e-mail. */
export async function findCredentials(db: Db, login: string): Promise<{ id: number; passwordHash: string | null } | undefined> {
  const row = await db
    .selectFrom('staff')
    .select(['id', 'password_hash'])
    .where((eb) => eb.or([eb('username', '=', login), eb('email', '=', login)]))
    .orderBy('id')
    .executeTakeFirst();
  return row ? { id: row.id, passwordHash: row.password_hash } : undefined;
}

/** The stored password hash of a staff member. */
export async function findPasswordHash(db: Db, id: number): Promise<string | null> {
  const row = await db.selectFrom('staff').select('password_hash').where('id', '=', id).executeTakeFirst();
  return row?.password_hash ?? null;
}

/** Updates the editable profile fields. */
export async function updateProfile(
  db: Db,
  id: number,
  p: { username: string; displayName: string; email: string; locale: string; timeZone: string; bio: string; place: string },
  now: number,
): Promise<void> {
  await db
    .updateTable('staff')
    .set({ username: p.username, display_name: p.displayName, email: p.email, locale: p.locale, time_zone: p.timeZone, bio: p.bio, place: p.place, updated_at: now })
    .where('id', '=', id)
    .execute();
}

/** Replaces the password hash. */
export async function setPasswordHash(db: Db, id: number, hash: string, now: number): Promise<void> {
  await db.updateTable('staff').set({ password_hash: hash, updated_at: now }).where('id', '=', id).execute();
}

/** Replaces (or with null, removes) the picture. */
export async function setPicture(db: Db, id: number, picture: { body: Buffer; type: string } | null, now: number): Promise<void> {
  await db
    .updateTable('staff')
    .set({ picture: picture?.body ?? null, picture_type: picture?.type ?? null, updated_at: now })
    .where('id', '=', id)
    .execute();
}

/** The picture of a staff member by username. */
export async function findPicture(db: Db, username: string): Promise<{ body: Buffer; type: string } | undefined> {
  const row = await db.selectFrom('staff').select(['picture', 'picture_type']).where('username', '=', username).executeTakeFirst();
  return row?.picture && row.picture_type ? { body: Buffer.from(row.picture), type: row.picture_type } : undefined;
}

/** Links (or with null, unlinks) a Google account. */
export async function setGoogleSub(db: Db, id: number, sub: string | null, now: number): Promise<void> {
  await db.updateTable('staff').set({ google_sub: sub, updated_at: now }).where('id', '=', id).execute();
}

/** The Google subject linked to a staff member, if any. */
export async function findGoogleSub(db: Db, id: number): Promise<string | null> {
  const row = await db.selectFrom('staff').select('google_sub').where('id', '=', id).executeTakeFirst();
  return row?.google_sub ?? null;
}

/** The staff member a Google account is linked to. */
export async function findStaffIdByGoogleSub(db: Db, sub: string): Promise<number | undefined> {
  const row = await db.selectFrom('staff').select('id').where('google_sub', '=', sub).executeTakeFirst();
  return row?.id;
}

/** Every staff member (the owner's team page, export). */
export async function listStaff(db: Db): Promise<StaffRow[]> {
  const rows = await db.selectFrom('staff').select(STAFF_COLUMNS).orderBy('is_owner', 'desc').orderBy('display_name').execute();
  return rows.map(toStaffRow);
}

/** How many staff members exist. */
export async function countStaff(db: Db): Promise<number> {
  const row = await db.selectFrom('staff').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Deletes a staff member; every row of theirs goes with it (foreign keys cascade). */
export async function deleteStaff(db: Db, id: number): Promise<void> {
  await db.deleteFrom('staff').where('id', '=', id).execute();
}

// Sessions ------------------------------------------------------------------------------------

/** A live session with the signed-in staff member's basics. */
export interface SessionRow {
  readonly idHash: string;
  readonly staffId: number;
  readonly csrfToken: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
  readonly username: string;
  readonly displayName: string;
  readonly isOwner: boolean;
  readonly timeZone: string;
}

export async function insertSession(db: Db, s: { idHash: string; staffId: number; csrfToken: string; now: number; expiresAt: number }): Promise<void> {
  await db
    .insertInto('sessions')
    .values({ id_hash: s.idHash, staff_id: s.staffId, csrf_token: s.csrfToken, created_at: s.now, last_seen_at: s.now, expires_at: s.expiresAt })
    .execute();
}

export async function findSession(db: Db, idHash: string): Promise<SessionRow | undefined> {
  const r = await db
    .selectFrom('sessions')
    .innerJoin('staff', 'staff.id', 'sessions.staff_id')
    .select([
      'sessions.id_hash',
      'sessions.staff_id',
      'sessions.csrf_token',
      'sessions.created_at',
      'sessions.last_seen_at',
      'sessions.expires_at',
      'staff.username',
      'staff.display_name',
      'staff.is_owner',
      'staff.time_zone',
    ])
    .where('sessions.id_hash', '=', idHash)
    .executeTakeFirst();
  return r
    ? {
        idHash: r.id_hash,
        staffId: r.staff_id,
        csrfToken: r.csrf_token,
        createdAt: r.created_at,
        lastSeenAt: r.last_seen_at,
        expiresAt: r.expires_at,
        username: r.username,
        displayName: r.display_name,
        isOwner: r.is_owner === 1,
        timeZone: r.time_zone,
      }
    : undefined;
}

export async function touchSession(db: Db, idHash: string, now: number): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

/** Ends every session of a staff member but one (after a password change). */
export async function deleteOtherSessions(db: Db, staffId: number, keepIdHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('staff_id', '=', staffId).where('id_hash', '!=', keepIdHash).execute();
}

/** Forgets sessions and remember-me tokens past their time. */
export async function deleteExpired(db: Db, now: number, idleMs: number): Promise<void> {
  await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', now - idleMs)]))
    .execute();
  await db.deleteFrom('remember_tokens').where('expires_at', '<=', now).execute();
}

// Remember-me tokens --------------------------------------------------------------------------

export async function insertRememberToken(db: Db, t: { selector: string; validatorHash: string; staffId: number; expiresAt: number }): Promise<void> {
  await db.insertInto('remember_tokens').values({ selector: t.selector, validator_hash: t.validatorHash, staff_id: t.staffId, expires_at: t.expiresAt }).execute();
}

export async function findRememberToken(db: Db, selector: string): Promise<{ validatorHash: string; staffId: number; expiresAt: number } | undefined> {
  const r = await db.selectFrom('remember_tokens').select(['validator_hash', 'staff_id', 'expires_at']).where('selector', '=', selector).executeTakeFirst();
  return r ? { validatorHash: r.validator_hash, staffId: r.staff_id, expiresAt: r.expires_at } : undefined;
}

export async function deleteRememberToken(db: Db, selector: string): Promise<void> {
  await db.deleteFrom('remember_tokens').where('selector', '=', selector).execute();
}

export async function deleteRememberTokensOf(db: Db, staffId: number): Promise<void> {
  await db.deleteFrom('remember_tokens').where('staff_id', '=', staffId).execute();
}

/** Copies the WAL into the database and empties it, so deleted rows leave no copy behind. */
export async function truncateWal(db: Db): Promise<void> {
  await sql`pragma wal_checkpoint(TRUNCATE)`.execute(db);
}

// Single sign-on ------------------------------------------------------------------------------

/** The staff member an OpenID Connect subject is linked to. */
export async function findStaffIdByOidcSub(db: Db, sub: string): Promise<number | undefined> {
  const row = await db.selectFrom('staff').select('id').where('oidc_sub', '=', sub).executeTakeFirst();
  return row?.id;
}

/** The staff member with this (normalised) e-mail and the subject linked to them, if any. */
export async function findOidcCandidate(db: Db, email: string): Promise<{ id: number; oidcSub: string | null } | undefined> {
  const row = await db.selectFrom('staff').select(['id', 'oidc_sub']).where('email', '=', email).executeTakeFirst();
  return row ? { id: row.id, oidcSub: row.oidc_sub } : undefined;
}

/** Links (or with null, unlinks) an OpenID Connect subject. */
export async function setOidcSub(db: Db, id: number, sub: string | null, now: number): Promise<void> {
  await db.updateTable('staff').set({ oidc_sub: sub, updated_at: now }).where('id', '=', id).execute();
}

/** Removes the password (sign-in by passkey or single sign-on only). */
export async function clearPasswordHash(db: Db, id: number, now: number): Promise<void> {
  await db.updateTable('staff').set({ password_hash: null, updated_at: now }).where('id', '=', id).execute();
}
