import { urlencoded, type NextFunction, type Request, type Response } from 'express';
import busboy from 'busboy';
import { createAuthRequest, exchangeCode, googleEndpoints, pendingAuthRequests, revokeToken, SIGN_IN_SCOPES } from '../calendars/google/oauth.js';
import { sharedBusyPool } from '../calendars/busy-pool.js';
import { listServices } from '../catalog/catalog.repo.js';
import { LOCALES } from '../config.js';
import { locals, safeBack, type AppContext } from '../web/context.js';
import { AppError, notFound } from '../web/errors.js';
import { bodyOf, checked, formErrors, NO_ERRORS, raw, type FieldError, type FormErrors } from '../web/forms.js';
import { csrfMatches, signedIn } from '../web/guards.js';
import { render } from '../web/render.js';
import { LIMITS, normalizeUsername, type ProfileInput } from './accounts.js';
import { allZones } from '../lib/time.js';
import { readLogin, readNewAccount, readPasswordForm, readProfile } from './accounts.form.js';
import { findGoogleSub, findPasswordHash, findPicture, findStaffById, findStaffIdByGoogleSub, ownerExists, setGoogleSub, setPicture } from './accounts.repo.js';
import { canDeleteSelf, changePassword, confirmPassword, createAccount, deleteAccount, editProfile, signIn } from './accounts.service.js';
import { PICTURE_ERROR_KEYS, PICTURE_MAX_BYTES, PICTURE_MESSAGE_PARAMS, type Picture } from '../lib/picture-rules.js';
import { err, type Result } from '../lib/result.js';
import { exportAccount } from './portability.js';
import { endSession, formToken, formTokenValid, startSession } from './session.js';
import { signInThrottle } from './throttle.js';
import { setupTokenMatches } from './setup-token.js';
import { listPasskeys } from './passkeys.repo.js';

/**
 * Staff accounts in the browser: first-run setup, sign-in (password or a linked Google
 * account), sign-out, the staff area's home, the profile page with its picture, and "your
 * data" (export, delete). Named handlers for the route table in app.ts.
 */

/** The account forms (setup, sign-in, profile, password, invitations). */
export const accountsBody = urlencoded({ extended: false, limit: '32kb', parameterLimit: 50 });

/** Where to go after signing in: a local path only (never //evil, /\evil or https:evil). */
export function safeNext(value: unknown): string {
  const s = typeof value === 'string' ? value : '';
  return s !== '' && safeBack(s) === s ? s : '/admin';
}

/** Choices for the time-zone and language selects. */
function choices(ctx: AppContext, res: Response) {
  const t = ctx.i18n.getFixedT(locals(res).lang);
  return {
    timeZones: allZones(),
    limits: LIMITS,
    languages: LOCALES.map((l) => ({ value: l, label: t(`common:lang_${l}`) })),
  };
}

function errorsFor(ctx: AppContext, res: Response, errors: readonly FieldError[]): FormErrors {
  return formErrors(ctx.i18n.getFixedT(locals(res).lang), errors);
}

const EMPTY_PROFILE = (ctx: AppContext): ProfileInput => ({
  username: '',
  displayName: '',
  email: '',
  timeZone: 'Europe/Paris',
  locale: ctx.config.defaultLocale,
  bio: '',
  place: '',
});

interface GooglePending {
  readonly codeVerifier: string;
  readonly next: string;
  readonly purpose: 'sign-in' | 'link';
  readonly staffId: number | null;
  readonly sessionHash: string | null;
}

/** The staff accounts handlers; account deletion runs the deps' `beforeAccountDelete` (calendar revocation). */
export function accountsHandlers(ctx: AppContext) {
  return { ...signInHandlers(ctx), ...staffAreaHandlers(ctx) };
}

/** First run, password sign-in and sign-out, Google sign-in and linking. */
function signInHandlers(ctx: AppContext) {
  const throttle = signInThrottle(ctx);
  const googlePending = pendingAuthRequests<GooglePending>();
  const redirectUri = new URL('auth/google/callback', ctx.config.baseUrl).toString();
  const google = ctx.config.google;
  const endpoints = google ? googleEndpoints(google.oauthUrl ?? undefined, google.apiUrl ?? undefined) : null;

  // --- First run -------------------------------------------------------------------------

  const renderSetup = (req: Request, res: Response, values: ProfileInput, errors: FormErrors, status = 200) =>
    render(ctx, req, res, 'accounts/setup', { values, errors, formToken: formToken(ctx, 'setup'), setupToken: ctx.setupToken, ...choices(ctx, res) }, status);

  async function showSetup(req: Request, res: Response): Promise<void> {
    if (await ownerExists(ctx.db)) throw notFound();
    if (!setupTokenMatches(ctx.setupToken, req.query.token)) return render(ctx, req, res, 'accounts/setup-locked', {}, 403);
    renderSetup(req, res, EMPTY_PROFILE(ctx), NO_ERRORS);
  }

  async function createOwner(req: Request, res: Response): Promise<void> {
    if (await ownerExists(ctx.db)) throw notFound();
    if (!setupTokenMatches(ctx.setupToken, bodyOf(req.body)['_setup'])) return render(ctx, req, res, 'accounts/setup-locked', {}, 403);
    if (!formTokenValid(ctx, 'setup', bodyOf(req.body)['_form'])) throw new AppError(403, 'admin:errors.form_expired');
    const f = readNewAccount(req.body);
    const result = await createAccount(ctx, { ...f, isOwner: true });
    if (!result.ok) return renderSetup(req, res, f.profile, errorsFor(ctx, res, result.error), 422);
    await startSession(ctx, req, res, result.value, false);
    res.redirect(303, '/admin');
  }

  // --- Sign in / out -----------------------------------------------------------------------

  const renderLogin = (req: Request, res: Response, m: { login?: string; next?: string; message?: string }, status = 200) =>
    render(
      ctx,
      req,
      res,
      'accounts/login',
      {
        login: m.login ?? '',
        next: safeNext(m.next),
        message: m.message ?? '',
        formToken: formToken(ctx, 'login'),
        google: google !== null,
        oidcLabel: ctx.config.oidc?.label ?? '',
        passwordLogin: ctx.config.passwordLogin,
      },
      status,
    );

  async function showLogin(req: Request, res: Response): Promise<void> {
    if (!(await ownerExists(ctx.db))) return res.redirect(303, '/setup');
    if (locals(res).staff) return res.redirect(303, safeNext(req.query.next));
    const t = ctx.i18n.getFixedT(locals(res).lang);
    const notice = req.query.google === 'unlinked' ? t('admin:login.google_not_linked') : req.query.google === 'failed' ? t('admin:login.google_failed') : '';
    renderLogin(req, res, { next: typeof req.query.next === 'string' ? req.query.next : '', message: notice });
  }

  async function submitLogin(req: Request, res: Response): Promise<void> {
    const f = readLogin(req.body);
    const t = ctx.i18n.getFixedT(locals(res).lang);
    if (!ctx.config.passwordLogin) return renderLogin(req, res, { next: f.next, message: t('admin:login.password_off') }, 403);
    if (!formTokenValid(ctx, 'login', bodyOf(req.body)['_form'])) {
      return renderLogin(req, res, { login: f.login, next: f.next, message: t('admin:errors.form_expired') }, 403);
    }
    const result = await signIn(ctx, throttle, { login: f.login, password: f.password, address: req.ip ?? '' });
    if (!result.ok) {
      const throttled = result.error === 'throttled';
      return renderLogin(req, res, { login: f.login, next: f.next, message: t(throttled ? 'admin:login.throttled' : 'admin:login.invalid') }, throttled ? 429 : 422);
    }
    await startSession(ctx, req, res, result.value, f.remember);
    res.redirect(303, safeNext(f.next));
  }

  async function signOut(req: Request, res: Response, next: NextFunction): Promise<void> {
    // Signed out already: nothing to protect. Signed in: the session's CSRF token is required.
    if (locals(res).staff && !csrfMatches(res, bodyOf(req.body)['_csrf'])) return next(new AppError(403, 'admin:errors.csrf'));
    await endSession(ctx, req, res);
    res.redirect(303, '/');
  }

  // --- Google ------------------------------------------------------------------------------

  const startGoogle = (res: Response, p: Omit<GooglePending, 'codeVerifier'>) => {
    if (!google || !endpoints) throw notFound();
    const auth = createAuthRequest({ authorizeUrl: endpoints.authorizeUrl, clientId: google.clientId, redirectUri, scopes: SIGN_IN_SCOPES, offline: false });
    googlePending.set(auth.state, { ...p, codeVerifier: auth.codeVerifier }, ctx.clock.now());
    res.redirect(303, auth.url);
  };

  function startGoogleSignIn(req: Request, res: Response): void {
    startGoogle(res, { next: safeNext(req.query.next), purpose: 'sign-in', staffId: null, sessionHash: null });
  }

  function linkGoogle(_req: Request, res: Response): void {
    startGoogle(res, { next: '/admin/profile', purpose: 'link', staffId: signedIn(res).id, sessionHash: locals(res).sessionHash });
  }

  async function unlinkGoogle(_req: Request, res: Response): Promise<void> {
    const staff = locals(res).staff;
    if (staff) await setGoogleSub(ctx.db, staff.id, null, ctx.clock.now());
    res.redirect(303, '/admin/profile?done=google_unlinked');
  }

  async function finishGoogle(req: Request, res: Response): Promise<void> {
    if (!google || !endpoints) throw notFound();
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const pending = googlePending.take(state, ctx.clock.now());
    if (!pending) throw new AppError(400, 'admin:errors.google_state');
    const failTo = pending.purpose === 'link' ? '/admin/profile?done=google_failed' : '/login?google=failed';
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    if (code === '') return res.redirect(303, failTo);
    const tokens = await exchangeCode({
      tokenUrl: endpoints.tokenUrl,
      code,
      codeVerifier: pending.codeVerifier,
      redirectUri,
      clientId: google.clientId,
      clientSecret: google.clientSecret,
    });
    // Sign-in asks for no lasting access; should Google issue a refresh token anyway, it is revoked at once.
    const refreshToken = tokens.ok ? tokens.value.refreshToken : undefined;
    if (refreshToken) await revokeToken({ revokeUrl: endpoints.revokeUrl, token: refreshToken });
    const sub = tokens.ok ? tokens.value.idClaims?.sub : undefined;
    if (!sub) return res.redirect(303, failTo);
    if (pending.purpose === 'link') {
      // Linking only from inside the same signed-in session that asked for it.
      const staff = locals(res).staff;
      if (!staff || staff.id !== pending.staffId || locals(res).sessionHash !== pending.sessionHash) throw new AppError(403, 'admin:errors.google_state');
      const holder = await findStaffIdByGoogleSub(ctx.db, sub);
      if (holder !== undefined && holder !== staff.id) return res.redirect(303, '/admin/profile?done=google_taken');
      await setGoogleSub(ctx.db, staff.id, sub, ctx.clock.now());
      return res.redirect(303, '/admin/profile?done=google_linked');
    }
    // Signing in works only for an account that linked this Google account beforehand.
    const staffId = await findStaffIdByGoogleSub(ctx.db, sub);
    if (staffId === undefined) return res.redirect(303, '/login?google=unlinked');
    await startSession(ctx, req, res, staffId, false);
    res.redirect(303, safeNext(pending.next));
  }

  return { showSetup, createOwner, showLogin, submitLogin, signOut, startGoogleSignIn, linkGoogle, unlinkGoogle, finishGoogle };
}

/** The staff area: its home, the profile and its picture, and "your data". */
function staffAreaHandlers(ctx: AppContext) {
  const google = ctx.config.google;

  // --- Staff area home -----------------------------------------------------------------------

  async function showDashboard(req: Request, res: Response): Promise<void> {
    const { id: staffId, timeZone } = signedIn(res);
    const connected = await ctx.calendars.forStaff(staffId, timeZone);
    const services = await listServices(ctx.db, staffId);
    // What still stands between this staff member and their first booking, if anything.
    render(ctx, req, res, 'admin/index', {
      calendarState: connected === null ? 'none' : connected.connection.status,
      hasServices: services.some((s) => s.active),
      // Without SMTP, and with a calendar that does not invite by itself, clients hear nothing (DESIGN.md §5).
      clientsHearNothing: ctx.mailer === null && connected !== null && !connected.provider.serverSchedules,
      // Reminders, approval and e-mail confirmation need SMTP: without it they are skipped.
      mailFeaturesOff: ctx.mailer === null && services.some((s) => s.active && (s.reminders.length > 0 || s.approval || s.confirmEmail)),
    });
  }

  // --- Profile -----------------------------------------------------------------------------

  interface ProfilePage {
    values?: ProfileInput;
    profileErrors?: FormErrors;
    passwordErrors?: FormErrors;
    pictureErrors?: FormErrors;
    status?: number;
  }

  const DONE = [
    'saved', 'password', 'picture', 'picture_removed', 'google_linked', 'google_unlinked', 'google_taken', 'google_failed',
    'passkey_added', 'passkey_invalid', 'passkey_name', 'passkey_renamed', 'passkey_removed', 'passkey_last',
    'password_off', 'password_off_no_passkey', 'password_off_current_password',
  ];

  const renderProfile = async (req: Request, res: Response, p: ProfilePage) => {
    const id = signedIn(res).id;
    const me = await findStaffById(ctx.db, id);
    if (!me) throw notFound();
    const done = typeof req.query.done === 'string' && DONE.includes(req.query.done) ? req.query.done : '';
    render(
      ctx,
      req,
      res,
      'accounts/profile',
      {
        me,
        values: p.values ?? { username: me.username, displayName: me.displayName, email: me.email, timeZone: me.timeZone, locale: me.locale, bio: me.bio, place: me.place },
        errors: p.profileErrors ?? NO_ERRORS,
        passwordErrors: p.passwordErrors ?? NO_ERRORS,
        pictureErrors: p.pictureErrors ?? NO_ERRORS,
        done,
        google: google !== null,
        googleLinked: (await findGoogleSub(ctx.db, id)) !== null,
        passkeys: await listPasskeys(ctx.db, id),
        hasPassword: (await findPasswordHash(ctx.db, id)) !== null,
        ...choices(ctx, res),
      },
      p.status ?? 200,
    );
  };

  async function showProfile(req: Request, res: Response): Promise<void> {
    await renderProfile(req, res, {});
  }

  async function saveProfile(req: Request, res: Response): Promise<void> {
    const values = readProfile(req.body);
    const result = await editProfile(ctx, signedIn(res).id, values);
    if (!result.ok) return renderProfile(req, res, { values, profileErrors: errorsFor(ctx, res, result.error), status: 422 });
    res.redirect(303, '/admin/profile?done=saved');
  }

  async function changeMyPassword(req: Request, res: Response): Promise<void> {
    const result = await changePassword(ctx, signedIn(res).id, readPasswordForm(req.body), locals(res).sessionHash ?? '');
    if (!result.ok) return renderProfile(req, res, { passwordErrors: errorsFor(ctx, res, result.error), status: 422 });
    res.redirect(303, '/admin/profile?done=password');
  }

  async function uploadPicture(req: Request, res: Response): Promise<void> {
    const picture = await readPicture(req, res, 'picture');
    if (!picture.ok) return renderProfile(req, res, { pictureErrors: errorsFor(ctx, res, [{ field: 'picture', key: picture.error.key, params: PICTURE_MESSAGE_PARAMS }]), status: picture.error.status });
    await setPicture(ctx.db, signedIn(res).id, { body: picture.value.body, type: picture.value.type }, ctx.clock.now());
    res.redirect(303, '/admin/profile?done=picture');
  }

  async function removePicture(_req: Request, res: Response): Promise<void> {
    await setPicture(ctx.db, signedIn(res).id, null, ctx.clock.now());
    res.redirect(303, '/admin/profile?done=picture_removed');
  }

  async function showPicture(req: Request, res: Response): Promise<void> {
    const picture = await findPicture(ctx.db, normalizeUsername(String(req.params.username)));
    if (!picture) throw notFound();
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.type(picture.type).send(picture.body);
  }

  // --- Your data -----------------------------------------------------------------------------

  const renderData = async (req: Request, res: Response, errors: FormErrors, status = 200) => {
    const id = signedIn(res).id;
    render(ctx, req, res, 'admin/data', { errors, canDelete: await canDeleteSelf(ctx, id) }, status);
  };

  async function showData(req: Request, res: Response): Promise<void> {
    await renderData(req, res, NO_ERRORS);
  }

  async function downloadExport(_req: Request, res: Response): Promise<void> {
    const data = await exportAccount(ctx.db, signedIn(res).id);
    if (!data) throw notFound();
    res.setHeader('Content-Disposition', `attachment; filename="creneau-${data.profile.username}.json"`);
    res.type('application/json').send(`${JSON.stringify(data, null, 2)}\n`);
  }

  async function deleteMyAccount(req: Request, res: Response): Promise<void> {
    const id = signedIn(res).id;
    if (!(await canDeleteSelf(ctx, id))) return renderData(req, res, errorsFor(ctx, res, [{ field: 'password', key: 'admin:data.owner_with_staff' }]), 409);
    const b = bodyOf(req.body);
    const errors: FieldError[] = [];
    // Without a password (passkeys only) the signed-in session and the tick box confirm.
    const hasPassword = (await findPasswordHash(ctx.db, id)) !== null;
    if (hasPassword && !(await confirmPassword(ctx, id, raw(b, 'password')))) errors.push({ field: 'password', key: 'admin:errors.current_password' });
    if (!checked(b, 'confirm')) errors.push({ field: 'confirm', key: 'admin:data.confirm_required' });
    if (errors.length > 0) return renderData(req, res, errorsFor(ctx, res, errors), 422);
    await endSession(ctx, req, res);
    await deleteAccount(ctx, id, ctx.beforeAccountDelete);
    res.redirect(303, '/?deleted=1');
  }

  return {
    showDashboard,
    showProfile,
    saveProfile,
    changeMyPassword,
    uploadPicture,
    removePicture,
    showPicture,
    showData,
    downloadExport,
    deleteMyAccount,
  };
}

interface Upload {
  readonly fields: Map<string, string>;
  readonly file: Buffer | null;
  readonly tooLarge: boolean;
}

/** Why an uploaded picture was not taken: the message (admin namespace) and the status to answer with. */
export interface PictureRefusal {
  readonly key: string;
  readonly status: 413 | 422;
}

/**
 * A picture upload (profile picture, logo: the file in `field`), checked and re-encoded off the
 * main thread in the worker pool. Announced bigger than a picture can be: refused unread (413);
 * a form without the session's CSRF token: 403.
 */
export async function readPicture(req: Request, res: Response, field: string): Promise<Result<Picture, PictureRefusal>> {
  if (Number(req.headers['content-length'] ?? 0) > PICTURE_MAX_BYTES + 64 * 1024) throw new AppError(413, 'admin:errors.picture_too_large', { max: 2 });
  const upload = await readUpload(req, field);
  if (!csrfMatches(res, upload.fields.get('_csrf'))) throw new AppError(403, 'admin:errors.csrf');
  if (upload.tooLarge) return err({ key: 'admin:errors.picture_too_large', status: 413 });
  if (!upload.file || upload.file.length === 0) return err({ key: 'admin:errors.picture_missing', status: 422 });
  const picture = await sharedBusyPool().picture(upload.file);
  return picture.ok ? picture : err({ key: PICTURE_ERROR_KEYS[picture.error], status: 422 });
}

/** Reads a multipart form with one file (the field named), refusing more than 2 MB while streaming. */
function readUpload(req: Request, field: string): Promise<Upload> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { fileSize: PICTURE_MAX_BYTES, files: 1, fields: 5, fieldSize: 1024, parts: 8 } });
    } catch {
      reject(new AppError(400, 'errors:bad_request'));
      return;
    }
    const fields = new Map<string, string>();
    let file: Buffer | null = null;
    let tooLarge = false;
    bb.on('field', (name, value) => {
      if (!fields.has(name)) fields.set(name, value);
    });
    bb.on('file', (name, stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => {
        tooLarge = true;
      });
      stream.on('end', () => {
        if (name === field && !tooLarge) file = Buffer.concat(chunks);
      });
    });
    bb.on('close', () => resolve({ fields, file, tooLarge }));
    bb.on('error', () => reject(new AppError(400, 'errors:bad_request')));
    req.pipe(bb);
  });
}
