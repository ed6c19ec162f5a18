import type { NextFunction, Request, Response } from 'express';
import { sql } from 'kysely';
import { LOCALES, type Locale } from '../config.js';
import { locals, safeBack, type AppContext } from './context.js';
import { readCookie, setCookie } from './cookies.js';
import { AppError, notFound } from './errors.js';
import { bodyOf } from './forms.js';
import { negotiateLocale } from './i18n.js';
import { newNonce, render } from './render.js';
import { isEmbeddablePath } from './security.js';

/** The handlers that belong to no area: per-request basics, static files, health, the language switch. */
export function siteHandlers(ctx: AppContext) {
  const { config } = ctx;
  return {
    /** Per-request basics: language, nonce, no caching of anything personal. */
    requestBasics(req: Request, res: Response, next: NextFunction): void {
      const l = locals(res);
      l.lang = negotiateLocale(readCookie(req, config, 'lang'), req.headers['accept-language'], config.defaultLocale);
      l.nonce = newNonce();
      l.csrf = '';
      l.staff = null;
      l.sessionHash = null;
      l.embeddable = isEmbeddablePath(req.path);
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Content-Language', l.lang);
      next();
    },

    /** Static files: served from memory with a content hash in the URL, so cached for long. */
    serveStatic(req: Request, res: Response, next: NextFunction): void {
      const name = (req.params as { path: string[] }).path.join('/');
      const file = ctx.staticFiles.get(name);
      if (!file) return next(notFound());
      res.setHeader('Cache-Control', req.query.v === file.hash ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
      res.type(file.type).send(file.body);
    },

    noFavicon(_req: Request, res: Response): void {
      res.setHeader('Cache-Control', 'public, max-age=86400');
      res.status(204).end();
    },

    async healthz(_req: Request, res: Response): Promise<void> {
      try {
        await sql`select 1`.execute(ctx.db);
        res.json({ status: 'ok' });
      } catch (err) {
        ctx.log.error(err, 'GET /healthz');
        res.status(503).json({ status: 'unavailable' });
      }
    },

    /** Language switch: the only cookie a client can get, and only by asking for it. */
    switchLanguage(req: Request, res: Response, next: NextFunction): void {
      const body = bodyOf(req.body);
      const lang = String(body['lang'] ?? '');
      if (!(LOCALES as readonly string[]).includes(lang)) return next(new AppError(400, 'errors:bad_request'));
      setCookie(res, config, 'lang', lang as Locale, 365 * 24 * 3600);
      res.redirect(303, safeBack(body['back']));
    },

    /** The end of the table: nothing matched. */
    noRoute(_req: Request, _res: Response, next: NextFunction): void {
      next(notFound());
    },

    /** Renders AppErrors in the visitor's language; anything else is a generic 500, logged by class only. */
    renderError(err: unknown, req: Request, res: Response, _next: NextFunction): void {
      let status = 500;
      let key = 'errors:server_error';
      let params: Readonly<Record<string, string | number>> = {};
      if (err instanceof AppError) {
        ({ status, messageKey: key, params } = err);
      } else if (isHttpError(err)) {
        status = err.status;
        key = status === 413 ? 'errors:too_large' : status === 404 ? 'errors:not_found' : 'errors:bad_request';
      }
      if (status >= 500) ctx.log.error(err, routeName(req));
      if (res.headersSent) return;
      if (status === 405) res.setHeader('Allow', 'GET, HEAD, POST');
      const t = ctx.i18n.getFixedT(locals(res).lang);
      if (wantsJson(req)) {
        res.status(status).json({ error: t(key, params) });
        return;
      }
      render(ctx, req, res, 'errors/error', { status, message: t(key, params), title: t(`errors:title_${status}`, { defaultValue: t('errors:title_generic') }) }, status);
    },
  };
}

function isHttpError(err: unknown): err is { status: number } {
  const s = (err as { status?: unknown; statusCode?: unknown } | null)?.status;
  return typeof s === 'number' && s >= 400 && s < 600;
}

function wantsJson(req: Request): boolean {
  return req.path.endsWith('/slots') || (req.headers.accept ?? '').startsWith('application/json');
}

/** The matched route pattern (never the concrete URL, which may carry a token). */
function routeName(req: Request): string {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  return `${req.method} ${typeof route?.path === 'string' ? route.path : '(unmatched)'}`;
}
