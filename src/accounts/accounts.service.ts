import type { Deps } from '../deps.js';
import { keyedHash } from '../crypto/token.js';
import { err, ok, type Result } from '../lib/result.js';
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

/** A use case's answer to a form: its value, or per-field problems (i18n keys). */
export type FormResult<T = null> = Result<T, readonly FieldError[]>;

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
): Promise<FormResult<number>> {
  const p = input.profile;
  const errors = [...profileErrors(p), ...newPasswordErrors(input.password, input.passwordConfirm)];
  if (errors.length > 0) return err(errors);
  const taken = await takenErrors(deps, p.username, p.email);
  if (taken.length > 0) return err(taken);
  const passwordHash = await hashPassword(input.password);
  try {
    const id = await deps.db.transaction().execute(async (trx) => {
      if (input.isOwner && (await ownerExists(trx))) return null;
      return insertStaff(trx, { ...p, passwordHash, isOwner: input.isOwner }, deps.clock.now());
    });
    if (id === null) return err([{ field: 'username', key: 'admin:errors.owner_exists' }]);
    return ok(id);
  } catch (e) {
    if (isUniqueViolation(e)) return err(await takenErrors(deps, p.username, p.email));
    throw e;
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


/**
 * Checks a sign-in by username or e-mail. Unknown users get the same answer after the same
 * work (a scrypt against a dummy hash). Failures count per account and per keyed hash of the
 * address, in memory only.
 */
export async function signIn(deps: Pick<Deps, 'db' | 'keyring'>, throttle: Throttle, f: { login: string; password: string; address: string }): Promise<Result<number, 'invalid' | 'throttled'>> {
  const addressKey = addressThrottleKey(deps, f.address);
  const login = f.login.includes('@') ? normalizeEmail(f.login) : normalizeUsername(f.login);
  const creds = login === '' ? undefined : await findCredentials(deps.db, login);
  const accountKey = creds ? `s:${creds.id}` : `n:${keyedHash(deps.keyring, 'sign-in name', login)}`;
  if (throttle.blocked(addressKey, THROTTLE.perAddress) || throttle.blocked(accountKey, THROTTLE.perAccount)) {
    return err('throttled');
  }
  const valid = await verifyPassword(f.password, creds?.passwordHash ?? null);
  if (!valid || !creds) {
    throttle.fail(addressKey);
    throttle.fail(accountKey);
    return err('invalid');
  }
  throttle.reset(accountKey);
  return ok(creds.id);
}

/** Saves the profile fields after checking them (username and e-mail must stay unique). */
export async function editProfile(deps: Pick<Deps, 'db' | 'clock'>, staffId: number, p: ProfileInput): Promise<FormResult> {
  const errors = profileErrors(p);
  if (errors.length > 0) return err(errors);
  const taken = await takenErrors(deps, p.username, p.email, staffId);
  if (taken.length > 0) return err(taken);
  try {
    await updateProfile(deps.db, staffId, p, deps.clock.now());
  } catch (e) {
    if (isUniqueViolation(e)) return err(await takenErrors(deps, p.username, p.email, staffId));
    throw e;
  }
  return ok(null);
}

/** Changes the password (the current one is required) and ends every other session. */
export async function changePassword(
  deps: Pick<Deps, 'db' | 'clock'>,
  staffId: number,
  f: { current: string; password: string; passwordConfirm: string },
  keepSessionHash: string,
): Promise<FormResult> {
  const stored = await findPasswordHash(deps.db, staffId);
  // Someone who turned their password off (passkeys only) sets a new one from their signed-in session.
  if (stored !== null && !(await verifyPassword(f.current, stored))) return err([{ field: 'current_password', key: 'admin:errors.current_password' }]);
  const errors = newPasswordErrors(f.password, f.passwordConfirm);
  if (errors.length > 0) return err(errors);
  const hash = await hashPassword(f.password);
  await deps.db.transaction().execute(async (trx) => {
    await setPasswordHash(trx, staffId, hash, deps.clock.now());
    await deleteOtherSessions(trx, staffId, keepSessionHash);
    await deleteRememberTokensOf(trx, staffId);
  });
  return ok(null);
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
