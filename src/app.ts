import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Deps } from './deps.js';
import { loadStaticFiles } from './web/assets.js';
import { readCookie, setCookie } from './web/cookies.js';
import { AppError, notFound } from './web/errors.js';
import { negotiateLocale } from './web/i18n.js';
import { createViews, locals, newNonce, render, type RenderContext } from './web/render.js';
import { reportProxiedHttps } from './web/base-url.js';
import { MicroCache } from './web/microcache.js';
import { isEmbeddablePath, refuseOddMethods, sameOriginPosts, securityHeaders } from './web/security.js';
import { LOCALES, type Locale } from './config.js';
import { listPublicStaff, ownerExists } from './accounts/accounts.repo.js';
import { accountsRouter } from './accounts/accounts.routes.js';
import { invitationsRouter } from './accounts/invitations.routes.js';
import { loadSession } from './accounts/session.js';
import { catalogRouter } from './catalog/catalog.routes.js';
import { calendarRoutes } from './calendars/connection.routes.js';
import { sql } from 'kysely';
import { bookingRoutes } from './booking/booking.routes.js';
import { privacyRouter } from './privacy/privacy.routes.js';

/** Everything the route modules need: the deps plus the rendering context. */
export interface AppContext extends Deps, RenderContext {}

/** How long a public page is replayed to other anonymous visitors at most (see MicroCache). */
const PAGE_CACHE_MS = 1000;

/**
 * Builds the Express app with every route in one readable list. Never listens (tests call it):
 * `handler` is what a server runs — the public pages' micro-cache first, then the app.
 */
export function createApp(deps: Deps): { app: express.Express; ctx: AppContext; handler: (req: IncomingMessage, res: ServerResponse) => void } {
  const staticFiles = loadStaticFiles();
  const { config } = deps;
  // Every write through this process (kysely and better-sqlite3 share one connection) counts here.
  const changes = deps.sqlite.prepare('select total_changes()').pluck();
  const pageCache = new MicroCache({
    ttlMs: PAGE_CACHE_MS,
    maxEntries: 200,
    now: () => deps.clock.now(),
    version: () => changes.get() as number,
    defaultLocale: config.defaultLocale,
  });
  const ctx: AppContext = { ...deps, views: createViews(), staticFiles, instanceName: 'Creneau', pageCache };
  const app = express();

  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', config.trustProxy ? 'loopback, linklocal, uniquelocal' : false);
  app.set('query parser', 'simple');

  // Per-request basics: language, nonce, no caching of anything personal.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const l = locals(res);
    l.lang = negotiateLocale(readCookie(req, config, 'lang'), req.headers['accept-language'], config.defaultLocale);
    l.nonce = newNonce();
    l.csrf = '';
    l.staff = null;
    l.embeddable = isEmbeddablePath(req.path);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Language', l.lang);
    next();
  });
  app.use(reportProxiedHttps(config, deps.log));
  app.use(securityHeaders(config));
  app.use(refuseOddMethods);
  app.use(sameOriginPosts(config));

  // Static files: served from memory with a content hash in the URL, so cached for long.
  app.get('/static/*path', (req: Request, res: Response, next: NextFunction) => {
    const name = (req.params as { path: string[] }).path.join('/');
    const file = staticFiles.get(name);
    if (!file) return next(notFound());
    res.setHeader('Cache-Control', req.query.v === file.hash ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
    res.type(file.type).send(file.body);
  });
  app.get('/favicon.ico', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.status(204).end();
  });

  app.get('/healthz', async (_req: Request, res: Response) => {
    try {
      await sql`select 1`.execute(deps.db);
      res.json({ status: 'ok' });
    } catch (err) {
      deps.log.error(err, 'GET /healthz');
      res.status(503).json({ status: 'unavailable' });
    }
  });

  // Who is signed in (session cookie, else remember-me): sets locals staff and csrf.
  app.use(loadSession(ctx));

  const body = express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 100 });

  // Language switch: the only cookie a client can get, and only by asking for it.
  app.post('/lang', body, (req: Request, res: Response, next: NextFunction) => {
    const lang = String((req.body as Record<string, unknown>).lang ?? '');
    if (!(LOCALES as readonly string[]).includes(lang)) return next(new AppError(400, 'errors:bad_request'));
    setCookie(res, config, 'lang', lang as Locale, 365 * 24 * 3600);
    res.redirect(303, safeBack((req.body as Record<string, unknown>).back));
  });

  app.get('/', async (req: Request, res: Response) => {
    if (!(await ownerExists(deps.db))) return res.redirect(303, '/setup');
    const staff = await listPublicStaff(deps.db);
    render(ctx, req, res, 'home', { people: staff });
  });

  // Staff: setup, sign-in, profile (+ /@username/picture), your data; team; services editor.
  app.use(accountsRouter(ctx));
  app.use(invitationsRouter(ctx));
  app.use(catalogRouter(ctx));
  app.use(calendarRoutes(ctx));

  // The privacy policy, generated from the inventory and the live configuration (no cookie, not framable).
  app.use(privacyRouter(ctx));

  // Public booking pages: /@username, /@username/:service(/slots|/book), /b/:token(...)
  app.use(bookingRoutes(ctx));

  app.use((_req: Request, _res: Response, next: NextFunction) => next(notFound()));
  app.use(errorHandler(ctx));
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (!pageCache.serve(req, res)) app(req, res);
  };
  return { app, ctx, handler };
}

/** A local path to go back to after a form, never another site. */
export function safeBack(value: unknown): string {
  const s = typeof value === 'string' ? value : '';
  return /^\/(?![/\\])[^\s\\]*$/.test(s) ? s : '/';
}

/** Renders AppErrors in the visitor's language; anything else is a generic 500, logged by class only. */
function errorHandler(ctx: AppContext) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
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
