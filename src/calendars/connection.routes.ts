import { urlencoded, type Request, type Response } from 'express';
import { locals, type AppContext } from '../web/context.js';
import { AppError } from '../web/errors.js';
import { signedIn } from '../web/guards.js';
import { render } from '../web/render.js';
import { CALENDAR_SCOPES, createAuthRequest, exchangeCode, googleEndpoints, missingScopes, pendingAuthRequests } from './google/oauth.js';
import { authRefused, type ConnectFailure, type Finding } from './connection.service.js';
import type { CalendarInfo } from './provider.js';

/**
 * The staff member's calendar page: connect (CalDAV form or Google), choose which calendar
 * receives bookings and which count as busy, test the connection, and disconnect-and-forget.
 */

/** The calendar forms (the conflict calendars may be many checkboxes). */
export const calendarBody = urlencoded({ extended: false, limit: '16kb', parameterLimit: 200 });
interface Pending {
  readonly codeVerifier: string;
  readonly staffId: number;
  readonly sessionHash: string | null;
}

const text = (body: unknown, name: string): string => {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v.trim() : '';
};
const list = (body: unknown, name: string): string[] => {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string');
};

/** The calendar page's handlers (/admin/calendar…). */
export function calendarHandlers(ctx: AppContext) {
  const pending = pendingAuthRequests<Pending>();
  const g = ctx.config.google;
  const endpoints = g ? googleEndpoints(g.oauthUrl ?? undefined, g.apiUrl ?? undefined) : null;
  const redirectUri = new URL('admin/calendar/google/callback', ctx.config.baseUrl).toString();
  const staffId = (res: Response): number => signedIn(res).id;
  const connectedOf = (res: Response) => ctx.calendars.forStaff(signedIn(res).id, signedIn(res).timeZone);

  /** Findings in plain words (a `reason` parameter is a failure code, itself put in words). */
  const words = (res: Response, findings: readonly Finding[] | null) => {
    if (!findings) return null;
    const t = ctx.i18n.getFixedT(locals(res).lang);
    return findings.map((f) => {
      const params: Record<string, string> = { ...f.params };
      if (params['reason'] !== undefined) params['reason'] = t(`calendar:error_${params['reason']}`);
      return { level: f.level, text: t(`calendar:check.${f.key}`, params) };
    });
  };

  const show = async (
    req: Request,
    res: Response,
    extra: { status?: number; error?: ConnectFailure | null; origin?: string; values?: Record<string, string>; notice?: string | null; findings?: readonly Finding[] | null } = {},
  ) => {
    const connected = await connectedOf(res);
    let calendars: CalendarInfo[] | null = null;
    let listError: string | null = null;
    if (connected) {
      const listed = await connected.provider.listCalendars();
      if (listed.ok) calendars = listed.value;
      else listError = listed.error;
    }
    const notice = extra.notice ?? (typeof req.query.done === 'string' && /^[a-z_]{1,32}$/.test(req.query.done) ? req.query.done : null);
    // Right after connecting, the check runs once by itself (reading only).
    const findings = extra.findings ?? (connected && notice === 'connected' ? await ctx.calendars.check(staffId(res), signedIn(res).timeZone, false) : null);
    render(
      ctx,
      req,
      res,
      'calendars/calendar',
      {
        title: ctx.i18n.getFixedT(locals(res).lang)('calendar:title'),
        connection: connected?.connection ?? null,
        calendars,
        listError,
        error: extra.error ?? null,
        errorOrigin: extra.origin ?? '',
        values: extra.values ?? { url: '', username: '' },
        notice,
        googleEnabled: g !== null,
        redirectUri,
        checks: words(res, findings),
        // "Connecting… / Checking…" while a slow calendar server is asked (busy-form.js).
        scripts: ['js/busy-form.js'],
      },
      extra.status ?? 200,
    );
  };

  async function showCalendar(req: Request, res: Response): Promise<void> {
    await show(req, res);
  }

  async function connectCaldav(req: Request, res: Response): Promise<void> {
    const values = { url: text(req.body, 'url'), username: text(req.body, 'username') };
    const password = typeof (req.body as Record<string, unknown>).password === 'string' ? String((req.body as Record<string, unknown>).password) : '';
    let url: URL | null = null;
    try {
      url = new URL(values.url);
    } catch {
      url = null;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || values.username === '' || password === '' || values.url.length > 2000 || values.username.length > 200 || password.length > 500) {
      return show(req, res, { status: 422, error: 'malformed', values });
    }
    const result = await ctx.calendars.connectCaldav(staffId(res), { url: values.url, username: values.username, password });
    if (!result.ok) {
      // A refused password gets the advice that fits the provider (app passwords).
      const findings = result.error.code === 'unauthorized' ? [authRefused(values.url)] : null;
      return show(req, res, { status: 422, error: result.error.code, ...(result.error.origin ? { origin: result.error.origin } : {}), values, findings });
    }
    res.redirect(303, '/admin/calendar?done=connected');
  }

  async function chooseCalendars(req: Request, res: Response): Promise<void> {
    const booking = text(req.body, 'booking');
    const result = await ctx.calendars.chooseCalendars(staffId(res), signedIn(res).timeZone, booking, list(req.body, 'conflicts'));
    if (!result.ok) return show(req, res, { status: 422, error: result.error.code });
    res.redirect(303, '/admin/calendar?done=saved');
  }

  async function testConnection(req: Request, res: Response): Promise<void> {
    // The test event is written only when the staff member ticked the box.
    const findings = await ctx.calendars.check(staffId(res), signedIn(res).timeZone, text(req.body, 'write') === '1');
    if (!findings) return res.redirect(303, '/admin/calendar');
    return show(req, res, { findings });
  }

  /** "Disconnect and forget" asks first: what stops working, what stays in the calendar. */
  async function confirmDisconnect(req: Request, res: Response): Promise<void> {
    const connected = await connectedOf(res);
    if (!connected) return res.redirect(303, '/admin/calendar');
    const listed = await connected.provider.listCalendars();
    const id = connected.connection.bookingCalendar;
    const calendar = (listed.ok ? listed.value.find((c) => c.id === id)?.name : undefined) ?? id;
    render(ctx, req, res, 'calendars/disconnect', { calendar });
  }

  async function disconnectCalendar(_req: Request, res: Response): Promise<void> {
    await ctx.calendars.disconnect(staffId(res));
    res.redirect(303, '/admin/calendar?done=disconnected');
  }

  // Google: a GET link (a form POST redirecting to Google would be blocked by form-action 'self').
  function startGoogleConnect(_req: Request, res: Response): void {
    if (!g || !endpoints) throw new AppError(404, 'errors:not_found');
    const auth = createAuthRequest({ authorizeUrl: endpoints.authorizeUrl, clientId: g.clientId, redirectUri, scopes: [...CALENDAR_SCOPES, 'openid', 'email'], offline: true });
    pending.set(auth.state, { codeVerifier: auth.codeVerifier, staffId: staffId(res), sessionHash: locals(res).sessionHash }, ctx.clock.now());
    res.redirect(303, auth.url);
  }

  async function finishGoogleConnect(req: Request, res: Response): Promise<void> {
    if (!g || !endpoints) throw new AppError(404, 'errors:not_found');
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const p = pending.take(state, ctx.clock.now());
    if (!p || p.staffId !== staffId(res) || p.sessionHash !== locals(res).sessionHash) throw new AppError(400, 'admin:errors.google_state');
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    if (!code) return res.redirect(303, '/admin/calendar?done=google_denied');
    const tokens = await exchangeCode({ tokenUrl: endpoints.tokenUrl, code, codeVerifier: p.codeVerifier, redirectUri, clientId: g.clientId, clientSecret: g.clientSecret });
    if (!tokens.ok) return show(req, res, { status: 502, error: 'unreachable' });
    if (!tokens.value.refreshToken) return res.redirect(303, '/admin/calendar?done=google_no_offline');
    if (missingScopes(tokens.value.scopes, CALENDAR_SCOPES).length > 0) return res.redirect(303, '/admin/calendar?done=google_scopes');
    const email = tokens.value.idClaims?.email ?? 'Google';
    const result = await ctx.calendars.connectGoogle(p.staffId, { refreshToken: tokens.value.refreshToken, email });
    if (!result.ok) return show(req, res, { status: 502, error: result.error.code });
    res.redirect(303, '/admin/calendar?done=connected');
  }

  return { showCalendar, connectCaldav, chooseCalendars, testConnection, confirmDisconnect, disconnectCalendar, startGoogleConnect, finishGoogleConnect };
}
