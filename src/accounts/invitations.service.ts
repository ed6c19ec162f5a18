import { createHash, randomBytes } from 'node:crypto';
import type { Deps } from '../deps.js';
import type { FieldError } from '../web/forms.js';
import { emailErrors, normalizeEmail, type ProfileInput } from './accounts.js';
import { findTaken } from './accounts.repo.js';
import { createAccount, type Outcome } from './accounts.service.js';
import { deleteInvitation, findInvitation, insertInvitation, type InvitationRow } from './invitations.repo.js';

/** Staff invitations: a one-time link valid 7 days; only the SHA-256 of its token is stored. */

export const INVITATION_MS = 7 * 24 * 3600_000;

/** The stored form of an invitation token (also its id in the owner's list). */
export function invitationHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Invites a colleague by e-mail; returns the token to put in the link (shown once). */
export async function inviteStaff(deps: Pick<Deps, 'db' | 'clock'>, ownerId: number, rawEmail: string): Promise<Outcome<string>> {
  const email = normalizeEmail(rawEmail);
  const errors: FieldError[] = emailErrors(email);
  if (errors.length === 0 && (await findTaken(deps.db, '', email)).email) errors.push({ field: 'email', key: 'admin:errors.email_taken' });
  if (errors.length > 0) return { ok: false, errors };
  const token = randomBytes(32).toString('base64url');
  const now = deps.clock.now();
  await insertInvitation(deps.db, { tokenHash: invitationHash(token), email, invitedBy: ownerId, createdAt: now, expiresAt: now + INVITATION_MS });
  return { ok: true, value: token };
}

/** The pending invitation behind a link, if it is still valid. */
export async function openInvitation(deps: Pick<Deps, 'db' | 'clock'>, token: string): Promise<InvitationRow | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  return findInvitation(deps.db, invitationHash(token), deps.clock.now());
}

/** Creates the colleague's account from the invitation (its e-mail is the invited one) and burns it. */
export async function acceptInvitation(
  deps: Pick<Deps, 'db' | 'clock'>,
  invitation: InvitationRow,
  f: { profile: ProfileInput; password: string; passwordConfirm: string },
): Promise<Outcome<number>> {
  const result = await createAccount(deps, { ...f, profile: { ...f.profile, email: invitation.email }, isOwner: false });
  if (result.ok) await deleteInvitation(deps.db, invitation.tokenHash);
  return result;
}
