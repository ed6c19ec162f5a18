import { randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import type { Request, Response } from 'express';
import { Eta } from 'eta';
import type { i18n } from 'i18next';
import type { Config, Locale } from '../config.js';
import { LOCALES } from '../config.js';
import { readAsset, type StaticFile } from './assets.js';

/**
 * Server-side rendering with eta. Templates escape by default (`<%= %>`) and receive a base
 * view model from `render()`: t, lang, csrf, nonce, asset(), plus the page's own fields.
 */

const VIEWS = '/creneau-views';

/** Builds the eta engine reading templates through the asset layer (works in the single binary). */
export function createViews(): Eta {
  const eta = new Eta({ views: VIEWS, cache: true, autoEscape: true, autoTrim: false, useWith: false, varName: 'it' });
  eta.readFile = (path: string) => readAsset(join('views', relative(VIEWS, path))).toString('utf8');
  return eta;
}

export interface RenderContext {
  readonly config: Config;
  readonly i18n: i18n;
  readonly views: Eta;
  readonly staticFiles: ReadonlyMap<string, StaticFile>;
  readonly instanceName: string;
}

/** Per-request values the base model needs, set by middleware on res.locals. */
export interface RequestLocals {
  lang: Locale;
  csrf: string;
  nonce: string;
  staff: { readonly id: number; readonly username: string; readonly displayName: string; readonly isOwner: boolean } | null;
  /** Whether this page may be framed by CRENEAU_EMBED_ORIGINS (public booking pages). */
  embeddable: boolean;
}

export function locals(res: Response): RequestLocals {
  return res.locals as RequestLocals;
}

/** A fresh CSP nonce per response (available to templates; we ship no inline script). */
export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

/** The base view model every template gets. */
export function baseModel(ctx: RenderContext, req: Request, res: Response): Record<string, unknown> {
  const l = locals(res);
  const t = ctx.i18n.getFixedT(l.lang);
  return {
    t,
    lang: l.lang,
    locales: LOCALES,
    csrf: l.csrf,
    nonce: l.nonce,
    staff: l.staff,
    path: req.originalUrl.split('?')[0] ?? '/',
    baseUrl: ctx.config.baseUrl.toString(),
    instanceName: ctx.instanceName,
    asset: (name: string) => {
      const f = ctx.staticFiles.get(name);
      return `/static/${name}${f ? `?v=${f.hash}` : ''}`;
    },
  };
}

/** Renders a page (a view under views/) with the base model and the page's fields. */
export function render(ctx: RenderContext, req: Request, res: Response, view: string, model: Record<string, unknown> = {}, status = 200): void {
  const html = ctx.views.render(view, { ...baseModel(ctx, req, res), ...model });
  res.status(status).type('html').send(html);
}
