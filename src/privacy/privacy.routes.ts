import { urlencoded, type Request, type Response } from 'express';
import type { LogMode } from '../config.js';
import { locals, type AppContext } from '../web/context.js';
import { readPicture } from '../accounts/accounts.routes.js';
import { PICTURE_MESSAGE_PARAMS } from '../lib/picture-rules.js';
import { notFound } from '../web/errors.js';
import { formErrors, NO_ERRORS, type FieldError, type FormErrors } from '../web/forms.js';
import { render } from '../web/render.js';
import { columnsByClass } from './inventory.js';
import { BRAND_LIMITS, CONTROLLER_LIMITS, readBrandForm, readControllerForm, type BrandInput, type ControllerInput } from './privacy.form.js';
import { findLogo, privacyFacts, readBrandSettings, readControllerSettings, saveBrand, saveController, saveLogo, type PrivacyFacts } from './privacy.service.js';

/** The privacy policy, generated per request from the inventory and the live configuration. */

const LOG_MODES: readonly LogMode[] = ['off', 'errors', 'debug'];

type T = ReturnType<AppContext['i18n']['getFixedT']>;

/** The page's view model: every text already translated, the template only lays it out. */
function privacyModel(facts: PrivacyFacts, t: T, reminderIntervalMs: number) {
  const p = (key: string, params: Record<string, string | number> = {}) => t(`privacy:${key}`, params);
  const seconds = Math.round(reminderIntervalMs / 1000);
  const every = seconds === 60 ? p('third.every_minute') : seconds % 60 === 0 ? p('third.every_minutes', { count: seconds / 60 }) : p('third.every_seconds', { count: seconds });
  const { thirdParties: tp } = facts;
  const parties: { text: string; detail: string | null }[] = [];
  for (const host of tp.caldavHosts) parties.push({ text: p('third.caldav', { host }), detail: null });
  if (tp.google) parties.push({ text: p('third.google'), detail: tp.google.configured ? p('third.google_hosts', { hosts: tp.google.hosts.join(', ') }) : null });
  if (tp.smtpHost) parties.push({ text: p('third.smtp', { host: tp.smtpHost, every }), detail: null });
  if (tp.oidcHost) parties.push({ text: p('third.oidc', { host: tp.oidcHost }), detail: null });
  return {
    title: p('title'),
    controller: facts.controller,
    log: facts.log,
    debug: facts.log === 'debug',
    logModes: LOG_MODES.map((mode) => ({ mode, text: p(`logs.${mode}`), current: mode === facts.log })),
    cookies: facts.cookies.map((c) => ({
      name: c.realName,
      purpose: p(c.purposeKey),
      who: p(`cookies.who_${c.who}`),
      lifetime:
        c.maxAgeSeconds === null
          ? p('cookies.lifetime_session')
          : c.maxAgeSeconds < 86_400
            ? p('cookies.lifetime_minutes', { count: Math.round(c.maxAgeSeconds / 60) })
            : p('cookies.lifetime_days', { count: Math.round(c.maxAgeSeconds / 86_400) }),
    })),
    tables: facts.inventory.map((e) => ({
      table: e.table,
      purpose: p(e.purposeKey),
      basis: p(`basis.${e.basis}`),
      retention: p(e.retentionKey),
      groups: columnsByClass(e).map((g) => ({ cls: g.cls, label: p(`classes.${g.cls}`), columns: g.columns })),
    })),
    parties,
  };
}

/** A versioned brand file (its URL changes with it). */
const YEAR = 'public, max-age=31536000, immutable';

/** The instance settings forms (two fields each). */
export const privacyBody = urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 });

/** The handlers of /privacy (not framable, sets no cookie) and of the owner's instance settings that feed it. */
export function privacyHandlers(ctx: AppContext) {
  async function showPrivacy(req: Request, res: Response): Promise<void> {
    const facts = await privacyFacts(ctx.config, ctx.db);
    render(ctx, req, res, 'privacy/privacy', privacyModel(facts, ctx.i18n.getFixedT(locals(res).lang), ctx.config.reminderIntervalMs));
  }

  /** The settings page: the brand form, the logo and the controller form, each with its own values and errors. */
  interface SettingsPage {
    controller?: ControllerInput;
    controllerErrors?: FormErrors;
    brand?: BrandInput;
    brandErrors?: FormErrors;
    logoErrors?: FormErrors;
    status?: number;
  }
  const DONE = ['saved', 'brand', 'logo', 'logo_removed'];
  const renderSettings = async (req: Request, res: Response, p: SettingsPage = {}) => {
    const status = p.status ?? 200;
    const done = typeof req.query.done === 'string' && DONE.includes(req.query.done) && status === 200 ? req.query.done : null;
    render(ctx, req, res, 'admin/settings', {
      values: p.controller ?? (await readControllerSettings(ctx.db)),
      errors: p.controllerErrors ?? NO_ERRORS,
      limits: CONTROLLER_LIMITS,
      brand: p.brand ?? (await readBrandSettings(ctx.db)),
      brandErrors: p.brandErrors ?? NO_ERRORS,
      brandLimits: BRAND_LIMITS,
      logoErrors: p.logoErrors ?? NO_ERRORS,
      done,
    }, status);
  };
  const errorsOf = (res: Response, errors: readonly FieldError[]) => formErrors(ctx.i18n.getFixedT(locals(res).lang), errors);

  async function showInstanceSettings(req: Request, res: Response): Promise<void> {
    await renderSettings(req, res);
  }

  async function saveInstanceSettings(req: Request, res: Response): Promise<void> {
    const values = readControllerForm(req.body);
    const result = await saveController(ctx.db, values);
    if (!result.ok) return renderSettings(req, res, { controller: values, controllerErrors: errorsOf(res, result.error), status: 422 });
    res.redirect(303, '/admin/settings?done=saved');
  }

  async function saveBrandSettings(req: Request, res: Response): Promise<void> {
    const values = readBrandForm(req.body);
    const result = await saveBrand(ctx.db, values);
    if (!result.ok) return renderSettings(req, res, { brand: values, brandErrors: errorsOf(res, result.error), status: 422 });
    res.redirect(303, '/admin/settings?done=brand');
  }

  /** The logo goes through the profile picture's checks: type from the bytes, size capped before decoding, re-encoded small. */
  async function uploadLogo(req: Request, res: Response): Promise<void> {
    const logo = await readPicture(req, res, 'logo');
    if (!logo.ok) return renderSettings(req, res, { logoErrors: errorsOf(res, [{ field: 'logo', key: logo.error.key, params: PICTURE_MESSAGE_PARAMS }]), status: logo.error.status });
    await saveLogo(ctx.db, logo.value);
    res.redirect(303, '/admin/settings?done=logo');
  }

  async function removeLogo(_req: Request, res: Response): Promise<void> {
    await saveLogo(ctx.db, null);
    res.redirect(303, '/admin/settings?done=logo_removed');
  }

  /** Public and cookie-free: cached for a year when asked for by its current version (the URL changes with the logo). */
  async function showLogo(req: Request, res: Response): Promise<void> {
    const logo = await findLogo(ctx.db);
    if (!logo) throw notFound();
    res.setHeader('Cache-Control', req.query.v === logo.version ? YEAR : 'no-cache');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.type(logo.type).send(logo.body);
  }

  /** The accent colour's shades for both colour schemes, as a same-origin style sheet (the CSP allows no inline style). */
  function showBrandStyle(req: Request, res: Response): void {
    const style = ctx.brand.current().style;
    if (!style) throw notFound();
    res.setHeader('Cache-Control', req.query.v === style.version ? YEAR : 'no-cache');
    res.type('text/css').send(style.css);
  }

  return { showPrivacy, showInstanceSettings, saveInstanceSettings, saveBrandSettings, uploadLogo, removeLogo, showLogo, showBrandStyle };
}
