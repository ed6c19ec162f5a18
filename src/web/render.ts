import { randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import type { Request, Response } from 'express';
import { Eta } from 'eta';
import type { i18n } from 'i18next';
import type { Locale } from '../config.js';
import { LOCALES } from '../config.js';
import { readAsset } from './assets.js';
import { locals, type RenderContext } from './context.js';

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

/** A fresh CSP nonce per response (available to templates; we ship no inline script). */
export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

/** Translations per i18next instance (the resources never change), see rememberedT. */
const remembered = new WeakMap<i18n, Map<string, string>>();
const MAX_REMEMBERED = 5000;

/**
 * The templates' `t` (and any hot path's): i18next's, with look-ups remembered when their
 * options are numbers only (a count, minutes) or absent — a page makes dozens and they were the
 * largest cost of rendering the slot picker. Texts with other values (names, titles) are never kept.
 */
export function rememberedT(instance: i18n, lang: Locale): (key: string, options?: Record<string, unknown>) => string {
  const t = (key: string, options?: Record<string, unknown>): string => instance.getFixedT(lang)(key, options);
  let known = remembered.get(instance);
  if (!known) remembered.set(instance, (known = new Map()));
  const cache = known;
  return (key, options) => {
    let id = `${lang} ${key}`;
    if (options !== undefined) {
      for (const name in options) {
        const value = options[name];
        if (typeof value !== 'number') return t(key, options);
        id += ` ${name}=${value}`;
      }
    }
    let text = cache.get(id);
    if (text === undefined) {
      text = t(key, options);
      if (cache.size >= MAX_REMEMBERED) cache.clear();
      cache.set(id, text);
    }
    return text;
  };
}

/** The base view model every template gets. */
export function baseModel(ctx: RenderContext, req: Request, res: Response): Record<string, unknown> {
  const l = locals(res);
  const brand = ctx.brand.current();
  return {
    t: rememberedT(ctx.i18n, l.lang),
    lang: l.lang,
    locales: LOCALES,
    csrf: l.csrf,
    nonce: l.nonce,
    staff: l.staff,
    path: req.originalUrl.split('?')[0] ?? '/',
    baseUrl: ctx.config.baseUrl.toString(),
    instanceName: brand.name,
    brandStyle: brand.style?.url ?? null,
    brandLogo: brand.logoUrl,
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
  ctx.pageCache.store(req, res, html, locals(res).lang);
}
