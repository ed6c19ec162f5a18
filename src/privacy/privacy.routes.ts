import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../app.js';
import type { LogMode } from '../config.js';
import { locals, render } from '../web/render.js';
import { columnsByClass } from './inventory.js';
import { privacyFacts, type PrivacyFacts } from './privacy.service.js';

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
      lifetime: c.maxAgeSeconds === null ? p('cookies.lifetime_session') : p('cookies.lifetime_days', { count: Math.round(c.maxAgeSeconds / 86_400) }),
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

/** Builds the router for /privacy (not framable, sets no cookie). */
export function privacyRouter(ctx: AppContext): Router {
  const r = Router();
  r.get('/privacy', async function showPrivacy(req: Request, res: Response) {
    const facts = await privacyFacts(ctx.config, ctx.db);
    render(ctx, req, res, 'privacy/privacy', privacyModel(facts, ctx.i18n.getFixedT(locals(res).lang)));
  });
  return r;
}
