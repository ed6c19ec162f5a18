import { createHash, randomBytes } from 'node:crypto';
import type { Deps } from '../deps.js';
import type { FieldError } from '../web/forms.js';
import { emailErrors, normalizeEmail, type ProfileInput } from './accounts.js';
import { findStaffById, findTaken } from './accounts.repo.js';
import { err, ok } from '../lib/result.js';
import { createAccount, type FormResult } from './accounts.service.js';
import { deleteInvitation, findInvitation, insertInvitation, type InvitationRow } from './invitations.repo.js';

/** Staff invitations: a one-time link valid 7 days; only the SHA-256 of its token is stored. */

export const INVITATION_MS = 7 * 24 * 3600_000;

/** The stored form of an invitation token (also its id in the owner's list). */
export function invitationHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Invites a colleague by e-mail; returns the token to put in the link (shown once) and the address. */
export async function inviteStaff(deps: Pick<Deps, 'db' | 'clock'>, ownerId: number, rawEmail: string): Promise<FormResult<{ token: string; email: string }>> {
  const email = normalizeEmail(rawEmail);
  const errors: FieldError[] = emailErrors(email);
  if (errors.length === 0 && (await findTaken(deps.db, '', email)).email) errors.push({ field: 'email', key: 'admin:errors.email_taken' });
  if (errors.length > 0) return err(errors);
  const token = randomBytes(32).toString('base64url');
  const now = deps.clock.now();
  await insertInvitation(deps.db, { tokenHash: invitationHash(token), email, invitedBy: ownerId, createdAt: now, expiresAt: now + INVITATION_MS });
  return ok({ token, email });
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
): Promise<FormResult<number>> {
  const result = await createAccount(deps, { ...f, profile: { ...f.profile, email: invitation.email }, isOwner: false });
  if (result.ok) await deleteInvitation(deps.db, invitation.tokenHash);
  return result;
}

/** What became of the invitation e-mail: handed to the SMTP server, refused or unreachable, or no SMTP configured. */
export type InvitationMail = 'sent' | 'failed' | 'off';

/** An invitation e-mail could not be handed to the SMTP server (logged by class only). */
class InvitationMailError extends Error {
  override name = 'InvitationMailError';
}

/**
 * E-mails the one-time link to the invitee (plain text, in the owner's language, replies going
 * to the owner) when SMTP is configured. Called after the invitation is stored: a failure
 * leaves it in place and the owner passes the link on by hand.
 */
export async function mailInvitation(
  deps: Pick<Deps, 'db' | 'config' | 'i18n' | 'log' | 'mailer'>,
  m: { readonly ownerId: number; readonly to: string; readonly link: string; readonly lang: string },
): Promise<InvitationMail> {
  if (!deps.mailer) return 'off';
  const t = deps.i18n.getFixedT(m.lang);
  const owner = await findStaffById(deps.db, m.ownerId);
  const name = (owner?.displayName ?? '').replace(/\s+/g, ' ').trim() || deps.config.baseUrl.host;
  const params = { name, site: deps.config.baseUrl.host, link: m.link };
  let sent = false;
  try {
    sent = await deps.mailer.send({
      to: { name: '', address: m.to },
      ...(owner ? { replyTo: { name, address: owner.email } } : {}),
      subject: t('admin:invite_mail.subject', params),
      text: t('admin:invite_mail.body', params),
    });
  } catch (err) {
    deps.log.error(err, 'invitations.mail');
    return 'failed';
  }
  if (!sent) deps.log.error(new InvitationMailError(), 'invitations.mail');
  return sent ? 'sent' : 'failed';
}
