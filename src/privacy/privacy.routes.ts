import { urlencoded, type Request, type Response } from 'express';
import type { LogMode } from '../config.js';
import { locals, type AppContext } from '../web/context.js';
import { formErrors, NO_ERRORS, type FormErrors } from '../web/forms.js';
import { render } from '../web/render.js';
import { columnsByClass } from './inventory.js';
import { CONTROLLER_LIMITS, readControllerForm, type ControllerInput } from './privacy.form.js';
import { privacyFacts, readControllerSettings, saveController, type PrivacyFacts } from './privacy.service.js';

/** The privacy policy, generated per request from the inventory and the live configuration. */

const LOG_MODES: readonly LogMode[] = ['off', 'errors', 'debug'];

type T = ReturnType<AppContext['i18n']['getFixedT']>;

/** The page's view model: every text already translated, the template only lays it out. */
function privacyModel(facts: PrivacyFacts, t: T) {
  const p = (key: string, params: Record<string, string | number> = {}) => t(`privacy:${key}`, params);
  const { thirdParties: tp } = facts;
  const parties: { text: string; detail: string | null }[] = [];
  for (const host of tp.caldavHosts) parties.push({ text: p('third.caldav', { host }), detail: null });
  if (tp.google) parties.push({ text: p('third.google'), detail: tp.google.configured ? p('third.google_hosts', { hosts: tp.google.hosts.join(', ') }) : null });
  if (tp.smtpHost) parties.push({ text: p('third.smtp', { host: tp.smtpHost }), detail: null });
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

/** The instance settings form (two fields). */
export const privacyBody = urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 });

/** The handlers of /privacy (not framable, sets no cookie) and of the owner's instance settings that feed it. */
export function privacyHandlers(ctx: AppContext) {
  async function showPrivacy(req: Request, res: Response): Promise<void> {
    const facts = await privacyFacts(ctx.config, ctx.db);
    render(ctx, req, res, 'privacy/privacy', privacyModel(facts, ctx.i18n.getFixedT(locals(res).lang)));
  }

  const renderSettings = (req: Request, res: Response, values: ControllerInput, errors: FormErrors, status = 200) =>
    render(ctx, req, res, 'admin/settings', { values, errors, limits: CONTROLLER_LIMITS, done: req.query.done === 'saved' && status === 200 }, status);

  async function showInstanceSettings(req: Request, res: Response): Promise<void> {
    renderSettings(req, res, await readControllerSettings(ctx.db), NO_ERRORS);
  }

  async function saveInstanceSettings(req: Request, res: Response): Promise<void> {
    const values = readControllerForm(req.body);
    const result = await saveController(ctx.db, values);
    if (!result.ok) return renderSettings(req, res, values, formErrors(ctx.i18n.getFixedT(locals(res).lang), result.error), 422);
    res.redirect(303, '/admin/settings?done=saved');
  }
  return { showPrivacy, showInstanceSettings, saveInstanceSettings };
}
