import { createHmac } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Deps } from '../deps.js';
import { err, ok, type Result } from '../lib/result.js';
import { deleteOtherSessions, deleteRememberTokensOf, findPasswordHash, clearPasswordHash, findStaffById } from './accounts.repo.js';
import { addressThrottleKey, THROTTLE } from './accounts.service.js';
import { verifyPassword } from './password.js';
import { countPasskeys, deletePasskey, findPasskeyByCredentialId, insertPasskey, listPasskeys, markPasskeyUsed, renamePasskey } from './passkeys.repo.js';
import type { Throttle } from './throttle.js';

/**
 * Passkeys (WebAuthn) with @simplewebauthn/server: the relying party is the host of
 * CRENEAU_BASE_URL, user verification is required (the device's PIN or biometrics), and only
 * the public key and credential id are stored. Any change to a staff member's passkeys ends
 * their other sessions, as a password change does.
 */

type PasskeyDeps = Pick<Deps, 'db' | 'clock' | 'config' | 'keyring'>;

export const PASSKEY_NAME_MAX = 60;

function relyingParty(deps: Pick<Deps, 'config'>) {
  return { rpID: deps.config.baseUrl.hostname, origin: deps.config.baseUrl.origin };
}

/** The WebAuthn user handle of a staff member: stable, opaque, derived (nothing to store). */
function userHandle(deps: Pick<Deps, 'keyring'>, staffId: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(16);
  bytes.set(createHmac('sha256', deps.keyring.macKey).update(`passkey-user|${staffId}`).digest().subarray(0, 16));
  return bytes;
}

/** Options for adding a passkey to this staff member (their existing ones are excluded). */
export async function registrationOptions(deps: PasskeyDeps, staffId: number): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const me = await findStaffById(deps.db, staffId);
  const existing = await listPasskeys(deps.db, staffId);
  return generateRegistrationOptions({
    rpName: deps.config.baseUrl.host,
    rpID: relyingParty(deps).rpID,
    userName: me?.email ?? String(staffId),
    userDisplayName: me?.displayName ?? '',
    userID: userHandle(deps, staffId),
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: [...p.transports] })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
}

export type RegisterError = 'invalid' | 'name';

/** Verifies a new passkey against the challenge of this browser and stores its public key. */
export async function registerPasskey(
  deps: PasskeyDeps,
  staffId: number,
  f: { challenge: string; response: unknown; name: string; keepSessionHash: string },
): Promise<Result<number, RegisterError>> {
  const name = f.name.normalize('NFC').trim();
  if (name === '' || name.length > PASSKEY_NAME_MAX || /[\p{Cc}]/u.test(name)) return err('name');
  const { rpID, origin } = relyingParty(deps);
  let verified;
  try {
    verified = await verifyRegistrationResponse({
      response: f.response as RegistrationResponseJSON,
      expectedChallenge: f.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      requireUserVerification: true,
    });
  } catch {
    return err('invalid');
  }
  if (!verified.verified) return err('invalid');
  const { credential } = verified.registrationInfo;
  if (await findPasskeyByCredentialId(deps.db, credential.id)) return err('invalid');
  const now = deps.clock.now();
  const id = await deps.db.transaction().execute(async (trx) => {
    const newId = await insertPasskey(trx, { staffId, credentialId: credential.id, publicKey: credential.publicKey, signCount: credential.counter, transports: credential.transports ?? [], name, now });
    await deleteOtherSessions(trx, staffId, f.keepSessionHash);
    await deleteRememberTokensOf(trx, staffId);
    return newId;
  });
  return ok(id);
}

/** Options for signing in with any passkey of this site (discoverable credentials: no list of ids is given out). */
export function authenticationOptions(deps: Pick<Deps, 'config'>): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({ rpID: relyingParty(deps).rpID, userVerification: 'required', allowCredentials: [] });
}

export type PasskeySignInError = 'invalid' | 'throttled';

/** Checks a passkey assertion against the challenge of this browser; counted by the shared sign-in throttle. */
export async function signInWithPasskey(
  deps: PasskeyDeps,
  throttle: Throttle,
  f: { challenge: string; response: unknown; address: string },
): Promise<Result<number, PasskeySignInError>> {
  const addressKey = addressThrottleKey(deps, f.address);
  if (throttle.blocked(addressKey, THROTTLE.perAddress)) return err('throttled');
  const response = f.response as AuthenticationResponseJSON;
  const passkey = typeof response?.id === 'string' ? await findPasskeyByCredentialId(deps.db, response.id) : undefined;
  const accountKey = passkey ? `s:${passkey.staffId}` : null;
  if (accountKey && throttle.blocked(accountKey, THROTTLE.perAccount)) return err('throttled');
  const fail = () => {
    throttle.fail(addressKey);
    if (accountKey) throttle.fail(accountKey);
    return err('invalid' as const);
  };
  if (!passkey) return fail();
  // The authenticator names the account it signed for; it must be the passkey's owner.
  const handle = response.response?.userHandle;
  if (handle !== undefined && handle !== Buffer.from(userHandle(deps, passkey.staffId)).toString('base64url')) return fail();
  const { rpID, origin } = relyingParty(deps);
  let verified;
  try {
    verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: f.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      credential: { id: passkey.credentialId, publicKey: copyBytes(passkey.publicKey), counter: passkey.signCount, transports: [...passkey.transports] },
      requireUserVerification: true,
    });
  } catch {
    return fail();
  }
  if (!verified.verified) return fail();
  await markPasskeyUsed(deps.db, passkey.id, verified.authenticationInfo.newCounter, deps.clock.now());
  if (accountKey) throttle.reset(accountKey);
  return ok(passkey.staffId);
}

function copyBytes(from: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(from.length);
  out.set(from);
  return out;
}

export type RemoveError = 'not_found' | 'last';

/** Removes a passkey; the last one stays while it is the only way in (no password). Ends the other sessions. */
export async function removePasskey(deps: PasskeyDeps, staffId: number, id: number, keepSessionHash: string): Promise<Result<null, RemoveError>> {
  const mine = await listPasskeys(deps.db, staffId);
  if (!mine.some((p) => p.id === id)) return err('not_found');
  if (mine.length === 1 && (await findPasswordHash(deps.db, staffId)) === null && !deps.config.oidc) return err('last');
  await deps.db.transaction().execute(async (trx) => {
    await deletePasskey(trx, staffId, id);
    await deleteOtherSessions(trx, staffId, keepSessionHash);
    await deleteRememberTokensOf(trx, staffId);
  });
  return ok(null);
}

/** Renames a passkey of this staff member. */
export async function nameCheckedRename(deps: Pick<Deps, 'db'>, staffId: number, id: number, raw: string): Promise<Result<null, 'name' | 'not_found'>> {
  const name = raw.normalize('NFC').trim();
  if (name === '' || name.length > PASSKEY_NAME_MAX || /[\p{Cc}]/u.test(name)) return err('name');
  return (await renamePasskey(deps.db, staffId, id, name)) ? ok(null) : err('not_found');
}

export type PasswordOffError = 'no_passkey' | 'current_password';

/** Turns the password off (sign-in by passkey only) once a passkey exists; the current password confirms it. Ends the other sessions. */
export async function turnOffPassword(deps: PasskeyDeps, staffId: number, current: string, keepSessionHash: string): Promise<Result<null, PasswordOffError>> {
  if ((await countPasskeys(deps.db, staffId)) === 0) return err('no_passkey');
  if (!(await verifyPassword(current, await findPasswordHash(deps.db, staffId)))) return err('current_password');
  await deps.db.transaction().execute(async (trx) => {
    await clearPasswordHash(trx, staffId, deps.clock.now());
    await deleteOtherSessions(trx, staffId, keepSessionHash);
    await deleteRememberTokensOf(trx, staffId);
  });
  return ok(null);
}
