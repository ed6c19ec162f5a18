import type { Deps } from '../deps.js';
import { err, ok, type Result } from '../lib/result.js';
import { LIMITS, normalizeUsername, usernameErrors } from './accounts.js';
import { findOidcCandidate, findStaffIdByOidcSub, findTaken, insertStaff, setOidcSub } from './accounts.repo.js';
import { deleteInvitation } from './invitations.repo.js';
import { openInvitation } from './invitations.service.js';
import type { OidcIdentity } from './oidc.js';

/** Who an OpenID Connect identity signs in as: the account linked to its subject, or the one with its verified e-mail. */

export type OidcSignInError =
  /** No staff account has this subject or e-mail (and no invitation was presented). */
  | 'unknown'
  /** The account with this e-mail is linked to another identity of the provider. */
  | 'linked_elsewhere';

/** Finds the account; on first use by e-mail the subject is linked, so a later e-mail change at the provider keeps working. */
export async function signInWithOidc(deps: Pick<Deps, 'db' | 'clock'>, identity: OidcIdentity): Promise<Result<number, OidcSignInError>> {
  const linked = await findStaffIdByOidcSub(deps.db, identity.sub);
  if (linked !== undefined) return ok(linked);
  const candidate = await findOidcCandidate(deps.db, identity.email);
  if (!candidate) return err('unknown');
  if (candidate.oidcSub !== null) return err('linked_elsewhere');
  await setOidcSub(deps.db, candidate.id, identity.sub, deps.clock.now());
  return ok(candidate.id);
}

export type OidcJoinError =
  /** The invitation link is unknown, used or expired. */
  | 'invite_invalid'
  /** The provider's verified e-mail is not the invited one. */
  | 'invite_email'
  /** This identity already has an account here. */
  | 'already_member';

/** The time zone a new colleague starts with (as on the invitation form); they change it on their profile. */
const DEFAULT_TIME_ZONE = 'Europe/Paris';

/**
 * Accepts an invitation with a single sign-on identity whose verified e-mail is the invited
 * one: the account is created without a password, its username taken from the provider's
 * `preferred_username` or the e-mail (made free and valid), and the subject linked.
 */
export async function joinWithOidc(
  deps: Pick<Deps, 'db' | 'clock'>,
  token: string,
  identity: OidcIdentity,
  locale: string,
): Promise<Result<number, OidcJoinError>> {
  const invitation = await openInvitation(deps, token);
  if (!invitation) return err('invite_invalid');
  if (invitation.email !== identity.email) return err('invite_email');
  if ((await findStaffIdByOidcSub(deps.db, identity.sub)) !== undefined) return err('already_member');
  const base = usernameBase(identity.preferredUsername ?? identity.email.split('@')[0] ?? '');
  const now = deps.clock.now();
  const id = await deps.db.transaction().execute(async (trx) => {
    let username = base;
    for (let n = 2; usernameErrors(username).length > 0 || (await findTaken(trx, username, '')).username; n++) username = `${base.slice(0, 28)}-${n}`;
    const displayName = (identity.name ?? username).slice(0, LIMITS.displayName);
    const staffId = await insertStaff(trx, { username, displayName, email: invitation.email, passwordHash: null, locale, timeZone: DEFAULT_TIME_ZONE, isOwner: false }, now);
    await setOidcSub(trx, staffId, identity.sub, now);
    await deleteInvitation(trx, invitation.tokenHash);
    return staffId;
  });
  return ok(id);
}

/** A username from free text: [a-z0-9-] only, 3 to 28 characters (room for a "-n" suffix). */
function usernameBase(text: string): string {
  const cleaned = normalizeUsername(text)
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 28);
  return cleaned.length >= 3 ? cleaned : `staff-${cleaned}`.replace(/-$/, '');
}
