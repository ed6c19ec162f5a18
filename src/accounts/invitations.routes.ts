import type { Request, Response } from 'express';
import { LOCALES } from '../config.js';
import { locals, type AppContext } from '../web/context.js';
import { notFound, AppError } from '../web/errors.js';
import { bodyOf, formErrors, NO_ERRORS, text, type FormErrors } from '../web/forms.js';
import { signedIn } from '../web/guards.js';
import { render } from '../web/render.js';
import { LIMITS, type ProfileInput } from './accounts.js';
import { allZones } from '../lib/time.js';
import { readNewAccount } from './accounts.form.js';
import { findStaffById, listStaff } from './accounts.repo.js';
import { deleteAccount } from './accounts.service.js';
import { deleteInvitation, listInvitations, type InvitationRow } from './invitations.repo.js';
import { acceptInvitation, inviteStaff, mailInvitation, openInvitation, type InvitationMail } from './invitations.service.js';
import { formToken, formTokenValid, startSession } from './session.js';

/** The owner's team page (invite, cancel an invitation, remove a colleague) and the invitation link. */

/** The invitation handlers (forms are read with accountsBody). */
export function invitationsHandlers(ctx: AppContext) {
  const t = (res: Response) => ctx.i18n.getFixedT(locals(res).lang);

  const renderTeam = async (req: Request, res: Response, m: { email?: string; errors?: FormErrors; link?: string; mail?: InvitationMail; invited?: string }, status = 200) => {
    const now = ctx.clock.now();
    render(
      ctx,
      req,
      res,
      'admin/invitations',
      { people: await listStaff(ctx.db), invitations: await listInvitations(ctx.db, now), email: m.email ?? '', errors: m.errors ?? NO_ERRORS, link: m.link ?? '', mail: m.mail ?? 'off', invited: m.invited ?? '', done: req.query.done === 'removed' ? 'removed' : '' },
      status,
    );
  };

  async function showTeam(req: Request, res: Response): Promise<void> {
    await renderTeam(req, res, {});
  }

  // The link is shown once, in the answer to this POST (no redirect): it exists nowhere else but
  // in the e-mail to the colleague, sent (when SMTP is configured) after the invitation is stored.
  async function inviteColleague(req: Request, res: Response): Promise<void> {
    const email = text(bodyOf(req.body), 'email');
    const ownerId = signedIn(res).id;
    const result = await inviteStaff(ctx, ownerId, email);
    if (!result.ok) return renderTeam(req, res, { email, errors: formErrors(t(res), result.error) }, 422);
    const link = new URL(`invite/${result.value.token}`, ctx.config.baseUrl).toString();
    const mail = await mailInvitation(ctx, { ownerId, to: result.value.email, link, lang: locals(res).lang });
    await renderTeam(req, res, { link, mail, invited: result.value.email }, 201);
  }

  async function cancelInvitation(req: Request, res: Response): Promise<void> {
    const hash = String(req.params.hash);
    if (!/^[0-9a-f]{64}$/.test(hash)) throw notFound();
    await deleteInvitation(ctx.db, hash);
    res.redirect(303, '/admin/invitations');
  }

  const colleague = async (req: Request, res: Response) => {
    const id = String(req.params.id);
    if (!/^\d{1,10}$/.test(id)) throw notFound();
    const person = await findStaffById(ctx.db, Number(id));
    if (!person || person.isOwner || person.id === locals(res).staff?.id) throw notFound();
    return person;
  };

  async function confirmRemoveColleague(req: Request, res: Response): Promise<void> {
    render(ctx, req, res, 'admin/remove-staff', { person: await colleague(req, res) });
  }

  async function removeColleague(req: Request, res: Response): Promise<void> {
    const person = await colleague(req, res);
    await deleteAccount(ctx, person.id, ctx.beforeAccountDelete);
    res.redirect(303, '/admin/invitations?done=removed');
  }

  // --- The colleague's side --------------------------------------------------------------------

  const renderAccept = (req: Request, res: Response, inv: InvitationRow, values: ProfileInput, errors: FormErrors, status = 200) =>
    render(
      ctx,
      req,
      res,
      'accounts/invite',
      {
        invitation: inv,
        values,
        errors,
        formToken: formToken(ctx, 'invite'),
        oidcLabel: ctx.config.oidc?.label ?? '',
        inviteToken: String(req.params.token),
        timeZones: allZones(),
        limits: LIMITS,
        languages: LOCALES.map((l) => ({ value: l, label: t(res)(`common:lang_${l}`) })),
      },
      status,
    );

  async function showInvitation(req: Request, res: Response): Promise<void> {
    const inv = await openInvitation(ctx, String(req.params.token));
    if (!inv) throw new AppError(404, 'admin:invite.invalid');
    renderAccept(req, res, inv, { username: '', displayName: '', email: inv.email, timeZone: 'Europe/Paris', locale: locals(res).lang, bio: '', place: '' }, NO_ERRORS);
  }

  async function acceptInvite(req: Request, res: Response): Promise<void> {
    const inv = await openInvitation(ctx, String(req.params.token));
    if (!inv) throw new AppError(404, 'admin:invite.invalid');
    if (!formTokenValid(ctx, 'invite', bodyOf(req.body)['_form'])) throw new AppError(403, 'admin:errors.form_expired');
    const f = readNewAccount(req.body);
    const result = await acceptInvitation(ctx, inv, f);
    if (!result.ok) return renderAccept(req, res, inv, { ...f.profile, email: inv.email }, formErrors(t(res), result.error), 422);
    await startSession(ctx, req, res, result.value, false);
    res.redirect(303, '/admin');
  }

  return { showTeam, inviteColleague, cancelInvitation, confirmRemoveColleague, removeColleague, showInvitation, acceptInvite };
}
