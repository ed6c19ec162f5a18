import type { Deps } from '../deps.js';
import { keyedHash } from '../crypto/token.js';
import type { FieldError } from '../web/forms.js';
import { newPasswordErrors, normalizeEmail, normalizeUsername, profileErrors, type ProfileInput } from './accounts.js';
import {
  countStaff,
  deleteOtherSessions,
  deleteRememberTokensOf,
  deleteStaff,
  findCredentials,
  findPasswordHash,
  findStaffById,
  findTaken,
  insertStaff,
  ownerExists,
  setPasswordHash,
  truncateWal,
  updateProfile,
} from './accounts.repo.js';
import { hashPassword, verifyPassword } from './password.js';
import type { Throttle } from './throttle.js';

/** Use cases of staff accounts: create, sign in, change password, edit profile, delete. */

export type Outcome<T = null> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** A hook run before an account's rows are deleted (the calendar area revokes its access there). */
export type BeforeAccountDelete = (staffId: number) => Promise<void>;

async function takenErrors(deps: Pick<Deps, 'db'>, username: string, email: string, exceptId = 0): Promise<FieldError[]> {
  const taken = await findTaken(deps.db, username, email, exceptId);
  return [
    ...(taken.username ? [{ field: 'username', key: 'admin:errors.username_taken' }] : []),
    ...(taken.email ? [{ field: 'email', key: 'admin:errors.email_taken' }] : []),
  ];
}

/** Creates a staff account after checking every field; the password is hashed here. */
export async function createAccount(
  deps: Pick<Deps, 'db' | 'clock'>,
  input: { profile: ProfileInput; password: string; passwordConfirm: string; isOwner: boolean },
): Promise<Outcome<number>> {
  const p = input.profile;
  const errors = [...profileErrors(p), ...newPasswordErrors(input.password, input.passwordConfirm)];
  if (errors.length > 0) return { ok: false, errors };
  const taken = await takenErrors(deps, p.username, p.email);
  if (taken.length > 0) return { ok: false, errors: taken };
  const passwordHash = await hashPassword(input.password);
  try {
    const id = await deps.db.transaction().execute(async (trx) => {
      if (input.isOwner && (await ownerExists(trx))) return null;
      return insertStaff(trx, { ...p, passwordHash, isOwner: input.isOwner }, deps.clock.now());
    });
    if (id === null) return { ok: false, errors: [{ field: 'username', key: 'admin:errors.owner_exists' }] };
    return { ok: true, value: id };
  } catch (err) {
    if (isUniqueViolation(err)) return { ok: false, errors: await takenErrors(deps, p.username, p.email) };
    throw err;
  }
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export const THROTTLE = { perAccount: 5, perAddress: 30 } as const;

/** The throttle key of a client address (a keyed hash: the address itself is never kept), shared by every sign-in method. */
export function addressThrottleKey(deps: Pick<Deps, 'keyring'>, address: string): string {
  return `a:${keyedHash(deps.keyring, 'sign-in address', address)}`;
}

export type SignInResult = { ok: true; staffId: number } | { ok: false; reason: 'invalid' | 'throttled' };

/**
 * Checks a sign-in by username or e-mail. Unknown users get the same answer after the same
 * work (a scrypt against a dummy hash). Failures count per account and per keyed hash of the
 * address, in memory only.
 */
export async function signIn(deps: Pick<Deps, 'db' | 'keyring'>, throttle: Throttle, f: { login: string; password: string; address: string }): Promise<SignInResult> {
  const addressKey = addressThrottleKey(deps, f.address);
  const login = f.login.includes('@') ? normalizeEmail(f.login) : normalizeUsername(f.login);
  const creds = login === '' ? undefined : await findCredentials(deps.db, login);
  const accountKey = creds ? `s:${creds.id}` : `n:${keyedHash(deps.keyring, 'sign-in name', login)}`;
  if (throttle.blocked(addressKey, THROTTLE.perAddress) || throttle.blocked(accountKey, THROTTLE.perAccount)) {
    return { ok: false, reason: 'throttled' };
  }
  const ok = await verifyPassword(f.password, creds?.passwordHash ?? null);
  if (!ok || !creds) {
    throttle.fail(addressKey);
    throttle.fail(accountKey);
    return { ok: false, reason: 'invalid' };
  }
  throttle.reset(accountKey);
  return { ok: true, staffId: creds.id };
}

/** Saves the profile fields after checking them (username and e-mail must stay unique). */
export async function editProfile(deps: Pick<Deps, 'db' | 'clock'>, staffId: number, p: ProfileInput): Promise<Outcome> {
  const errors = profileErrors(p);
  if (errors.length > 0) return { ok: false, errors };
  const taken = await takenErrors(deps, p.username, p.email, staffId);
  if (taken.length > 0) return { ok: false, errors: taken };
  try {
    await updateProfile(deps.db, staffId, p, deps.clock.now());
  } catch (err) {
    if (isUniqueViolation(err)) return { ok: false, errors: await takenErrors(deps, p.username, p.email, staffId) };
    throw err;
  }
  return { ok: true, value: null };
}

/** Changes the password (the current one is required) and ends every other session. */
export async function changePassword(
  deps: Pick<Deps, 'db' | 'clock'>,
  staffId: number,
  f: { current: string; password: string; passwordConfirm: string },
  keepSessionHash: string,
): Promise<Outcome> {
  const stored = await findPasswordHash(deps.db, staffId);
  // Someone who turned their password off (passkeys only) sets a new one from their signed-in session.
  if (stored !== null && !(await verifyPassword(f.current, stored))) return { ok: false, errors: [{ field: 'current_password', key: 'admin:errors.current_password' }] };
  const errors = newPasswordErrors(f.password, f.passwordConfirm);
  if (errors.length > 0) return { ok: false, errors };
  const hash = await hashPassword(f.password);
  await deps.db.transaction().execute(async (trx) => {
    await setPasswordHash(trx, staffId, hash, deps.clock.now());
    await deleteOtherSessions(trx, staffId, keepSessionHash);
    await deleteRememberTokensOf(trx, staffId);
  });
  return { ok: true, value: null };
}

/** Whether a staff member may delete their own account now. */
export async function canDeleteSelf(deps: Pick<Deps, 'db'>, staffId: number): Promise<boolean> {
  const me = await findStaffById(deps.db, staffId);
  if (!me) return false;
  return !me.isOwner || (await countStaff(deps.db)) === 1;
}

/**
 * Deletes an account and every row of it (services, sessions, tokens, calendar connection,
 * invitations sent), after `beforeDelete` (calendar revocation). Then the WAL is checkpointed
 * and truncated, so that with secure_delete no trace of the account stays in the files.
 */
export async function deleteAccount(deps: Pick<Deps, 'db' | 'sqlite'>, staffId: number, beforeDelete?: BeforeAccountDelete): Promise<void> {
  if (beforeDelete) await beforeDelete(staffId);
  await deleteStaff(deps.db, staffId);
  await truncateWal(deps.db);
}

/** Checks the password before a self-deletion. */
export async function confirmPassword(deps: Pick<Deps, 'db'>, staffId: number, password: string): Promise<boolean> {
  return verifyPassword(password, await findPasswordHash(deps.db, staffId));
}
