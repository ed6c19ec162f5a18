// A local stand-in for the Google endpoints Creneau uses, for tests only (no test can reach
// Google). It speaks Google's wire format: OAuth 2.0 authorize/token/revoke, OpenID userinfo,
// Calendar v3 calendarList, freeBusy and events insert/get/patch/delete/list, with Google's
// JSON shapes and error bodies. Tests read and flip `state` to inject faults.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DateTime } from 'luxon';

// ---------------------------------------------------------------------------------------------
// Types

export interface StandinUser {
  sub: string;
  email: string;
  name: string;
  givenName: string;
  familyName: string;
  picture: string;
  locale: string;
}

export type AccessRole = 'owner' | 'writer' | 'reader' | 'freeBusyReader';

export interface StandinCalendar {
  id: string;
  summary: string;
  summaryOverride?: string;
  accessRole: AccessRole;
  primary: boolean;
  timeZone: string;
}

/** A Calendar v3 Event resource as Google returns it (only the members the stand-in fills). */
export interface GoogleEvent {
  kind: 'calendar#event';
  etag: string;
  id: string;
  status: 'confirmed' | 'tentative' | 'cancelled';
  htmlLink: string;
  created: string;
  updated: string;
  summary?: string;
  description?: string;
  location?: string;
  creator: { email: string; self?: boolean };
  organizer: { email: string; displayName?: string; self?: boolean };
  start: GoogleEventTime;
  end: GoogleEventTime;
  transparency?: 'opaque' | 'transparent';
  iCalUID: string;
  sequence: number;
  attendees?: { email: string; displayName?: string; responseStatus: string; organizer?: boolean; self?: boolean }[];
  extendedProperties?: { private?: Record<string, string>; shared?: Record<string, string> };
  reminders: { useDefault: boolean; overrides?: { method: string; minutes: number }[] };
  eventType: string;
}

export interface GoogleEventTime {
  dateTime?: string;
  date?: string;
  timeZone?: string;
}

export type RouteName =
  | 'authorize'
  | 'token'
  | 'revoke'
  | 'userinfo'
  | 'calendarList'
  | 'freeBusy'
  | 'events.insert'
  | 'events.get'
  | 'events.patch'
  | 'events.delete'
  | 'events.list'
  | 'unknown';

/**
 * What a test can make the next matching request(s) do:
 * - rate_limit_429 / rate_limit_403 / user_rate_limit_403 / quota_403: Google's usageLimits errors;
 * - server_error (500 backendError) / unavailable (503); with `afterHandling` the request is
 *   carried out first and only the answer is lost (an insert that did happen);
 * - slow: wait `delayMs` then answer normally; redirect: 302 to `location`;
 * - oversize: a 200 with a 3 MiB body; garbage: a 200 whose body is not JSON;
 * - answers that are well-formed JSON but not a complete, coherent Google answer (the request is
 *   carried out, then its 200 answer is altered): missing_items (a list without `items`, a
 *   freeBusy calendar without `busy`); page_token_loop (a list whose nextPageToken is always
 *   `value`, default the same opaque token); endless_pages (a fresh token on every page, for
 *   ever); bad_time (one more event, or busy block, whose start is `value`: a date-time, or a
 *   YYYY-MM-DD all-day date); event_without_times (one more event with neither start nor end).
 */
export interface Fault {
  kind:
    | 'rate_limit_429'
    | 'rate_limit_403'
    | 'user_rate_limit_403'
    | 'quota_403'
    | 'server_error'
    | 'unavailable'
    | 'slow'
    | 'redirect'
    | 'oversize'
    | 'garbage'
    | 'missing_items'
    | 'page_token_loop'
    | 'endless_pages'
    | 'bad_time'
    | 'event_without_times';
  /** Only requests to this route; any route when absent. */
  route?: RouteName;
  /** How many requests it hits (default 1). */
  times?: number;
  afterHandling?: boolean;
  delayMs?: number;
  location?: string;
  /** Seconds, sent as Retry-After on rate limits. */
  retryAfter?: number;
  /** The page token (page_token_loop) or the start time (bad_time) to serve. */
  value?: string;
}

/** Faults that alter a real answer rather than replace it. */
const TAMPERING: ReadonlySet<Fault['kind']> = new Set(['missing_items', 'page_token_loop', 'endless_pages', 'bad_time', 'event_without_times']);

export interface RecordedRequest {
  readonly method: string;
  readonly route: RouteName;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly authorization: string | undefined;
  readonly ifMatch: string | undefined;
  readonly body: unknown;
}

interface AuthCode {
  clientId: string;
  redirectUri: string;
  challenge: string | undefined;
  challengeMethod: string;
  scope: string;
  offline: boolean;
  used: boolean;
}

interface AccessTokenInfo {
  scope: string;
  refreshToken: string | undefined;
  expiresAt: number;
  revoked: boolean;
}

export interface StandinState {
  clientId: string;
  clientSecret: string;
  user: StandinUser;
  calendars: Map<string, StandinCalendar>;
  /** calendar id → event id → event (cancelled ones stay, as in Google). */
  events: Map<string, Map<string, GoogleEvent>>;
  refreshTokens: Map<string, { scope: string; revoked: boolean }>;
  accessTokens: Map<string, AccessTokenInfo>;
  faults: Fault[];
  /** calendar id → reason: freeBusy answers that calendar with `errors: [{domain, reason}]`. */
  freeBusyErrors: Map<string, string>;
  /** When true, every refresh_token grant answers invalid_grant. */
  forceInvalidGrant: boolean;
  /** When true, the consent screen answers error=access_denied. */
  denyConsent: boolean;
  /** When set, the scopes the "user" leaves ticked on the consent screen. */
  grantedScopes: string[] | undefined;
  /** The query of the last authorize request. */
  lastAuthorize: URLSearchParams | undefined;
  requests: RecordedRequest[];
  /** Adds a fault; returns it so a test can check `times` left. */
  inject(fault: Fault): Fault;
  /** Seeds an event (as if the user had created it in Google Calendar). */
  addEvent(calendarId: string, ev: SeedEvent): GoogleEvent;
  /** Issues a refresh token directly, as if the connect flow had happened. */
  issueRefreshToken(scopes?: readonly string[]): string;
  /** Makes every issued access token invalid (Google answers 401 until a refresh). */
  expireAccessTokens(): void;
  /** Requests made to a route (or all when absent). */
  requestsTo(route?: RouteName): RecordedRequest[];
}

export interface SeedEvent {
  id?: string;
  /** Timed event (epoch ms), written as dateTime in `timeZone` (default the calendar's). */
  start?: number;
  end?: number;
  /** All-day event instead: start/end dates (YYYY-MM-DD, end exclusive), as Google's `date`. */
  allDay?: { start: string; end: string };
  summary?: string;
  /** Google's eventType (default "default"), e.g. "outOfOffice". */
  eventType?: string;
  transparent?: boolean;
  status?: 'confirmed' | 'tentative' | 'cancelled';
  privateProps?: Record<string, string>;
  attendees?: { email: string; displayName?: string }[];
  timeZone?: string;
}

export interface GoogleStandin {
  /** Set CRENEAU_GOOGLE_OAUTH_URL to this. */
  oauthUrl: string;
  /** Set CRENEAU_GOOGLE_API_URL to this. */
  apiUrl: string;
  state: StandinState;
  stop(): Promise<void>;
}

export const STANDIN_CALENDAR_SCOPES = [
  'https://www.googleapis.com/auth/calendar.calendarlist.readonly',
  'https://www.googleapis.com/auth/calendar.freebusy',
  'https://www.googleapis.com/auth/calendar.events',
];

const SCOPE = 'https://www.googleapis.com/auth/';
/** Which granted scope lets a route through (any one of them), after Google's scope docs. */
const ROUTE_SCOPES: Partial<Record<RouteName, string[]>> = {
  calendarList: ['calendar', 'calendar.readonly', 'calendar.calendarlist', 'calendar.calendarlist.readonly'],
  freeBusy: ['calendar', 'calendar.readonly', 'calendar.freebusy', 'calendar.events.freebusy'],
  'events.list': ['calendar', 'calendar.readonly', 'calendar.events', 'calendar.events.readonly'],
  'events.get': ['calendar', 'calendar.readonly', 'calendar.events', 'calendar.events.readonly'],
  'events.insert': ['calendar', 'calendar.events'],
  'events.patch': ['calendar', 'calendar.events'],
  'events.delete': ['calendar', 'calendar.events'],
};

const API_PREFIX = '/calendar/v3';
const BODY_LIMIT = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Start / stop

/** Starts the stand-in on 127.0.0.1 (random port) with one user, a primary and two more calendars. */
export async function startGoogleStandin(): Promise<GoogleStandin> {
  const state = createState();
  const server = createServer((req, res) => {
    handle(state, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  return {
    oauthUrl: base,
    apiUrl: `${base}${API_PREFIX}`,
    state,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function createState(): StandinState {
  const user: StandinUser = {
    sub: '110169484474386276334',
    email: 'alice.martin@gmail.com',
    name: 'Alice Martin',
    givenName: 'Alice',
    familyName: 'Martin',
    picture: 'https://lh3.googleusercontent.com/a/default-user=s96-c',
    locale: 'fr',
  };
  const calendars = new Map<string, StandinCalendar>();
  const events = new Map<string, Map<string, GoogleEvent>>();
  const add = (c: StandinCalendar) => {
    calendars.set(c.id, c);
    events.set(c.id, new Map());
  };
  add({ id: user.email, summary: user.email, accessRole: 'owner', primary: true, timeZone: 'Europe/Paris' });
  add({
    id: 'c_bookings0001@group.calendar.google.com',
    summary: 'Bookings',
    accessRole: 'owner',
    primary: false,
    timeZone: 'Europe/Paris',
  });
  add({
    id: 'fr.french#holiday@group.v.calendar.google.com',
    summary: 'Holidays in France',
    accessRole: 'reader',
    primary: false,
    timeZone: 'Europe/Paris',
  });
  add({
    id: 'bob.colleague@gmail.com',
    summary: 'bob.colleague@gmail.com',
    summaryOverride: 'Bob',
    accessRole: 'freeBusyReader',
    primary: false,
    timeZone: 'Europe/Paris',
  });

  const state: StandinState = {
    clientId: '123456789012-standin.apps.googleusercontent.com',
    clientSecret: 'GOCSPX-standin-secret',
    user,
    calendars,
    events,
    refreshTokens: new Map(),
    accessTokens: new Map(),
    faults: [],
    freeBusyErrors: new Map(),
    forceInvalidGrant: false,
    denyConsent: false,
    grantedScopes: undefined,
    lastAuthorize: undefined,
    requests: [],
    inject(fault) {
      const f = { times: 1, ...fault };
      state.faults.push(f);
      return f;
    },
    addEvent(calendarId, ev) {
      const cal = calendars.get(calendarId);
      if (!cal) throw new Error(`no calendar ${calendarId}`);
      const tz = ev.timeZone ?? cal.timeZone;
      let start: GoogleEventTime;
      let end: GoogleEventTime;
      if (ev.allDay) {
        start = { date: ev.allDay.start };
        end = { date: ev.allDay.end };
      } else if (ev.start !== undefined && ev.end !== undefined) {
        start = { dateTime: formatInZone(ev.start, tz), timeZone: tz };
        end = { dateTime: formatInZone(ev.end, tz), timeZone: tz };
      } else {
        throw new Error('a seeded event needs start and end, or allDay');
      }
      const resource = newEvent(state, cal, {
        id: ev.id ?? randomId(),
        summary: ev.summary ?? 'Busy',
        start,
        end,
        attendees: ev.attendees,
        extendedProperties: ev.privateProps ? { private: ev.privateProps } : undefined,
        transparency: ev.transparent ? 'transparent' : undefined,
      });
      if (ev.status) resource.status = ev.status;
      if (ev.eventType) resource.eventType = ev.eventType;
      eventsOf(state, calendarId).set(resource.id, resource);
      return resource;
    },
    issueRefreshToken(scopes = STANDIN_CALENDAR_SCOPES) {
      const token = `1//0g${randomBytes(24).toString('base64url')}`;
      state.refreshTokens.set(token, { scope: scopes.join(' '), revoked: false });
      return token;
    },
    expireAccessTokens() {
      for (const t of state.accessTokens.values()) t.expiresAt = 0;
    },
    requestsTo(route) {
      return route === undefined ? state.requests : state.requests.filter((r) => r.route === route);
    },
  };
  return state;
}

// ---------------------------------------------------------------------------------------------
// Dispatch

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send without Content-Length, so a client must cap the size while reading. */
  chunked?: boolean;
}

interface Ctx {
  req: IncomingMessage;
  url: URL;
  route: RouteName;
  params: { calendarId?: string; eventId?: string };
  body: unknown;
  rawBody: string;
}

async function handle(state: StandinState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const rawBody = await readBody(req);
  const { route, params } = resolveRoute(req.method ?? 'GET', url.pathname);
  const contentType = req.headers['content-type'] ?? '';
  const body = contentType.startsWith('application/x-www-form-urlencoded')
    ? new URLSearchParams(rawBody)
    : parseJson(rawBody);
  state.requests.push({
    method: req.method ?? 'GET',
    route,
    path: url.pathname,
    query: url.searchParams,
    authorization: req.headers.authorization,
    ifMatch: header(req, 'if-match'),
    body,
  });
  const ctx: Ctx = { req, url, route, params, body, rawBody };

  const fault = takeFault(state, route);
  if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000));
  let reply: Reply;
  if (fault && TAMPERING.has(fault.kind)) {
    reply = tamper(fault, ctx, dispatch(state, ctx));
  } else if (fault && fault.kind !== 'slow' && !fault.afterHandling) {
    reply = faultReply(fault);
  } else {
    reply = dispatch(state, ctx);
    if (fault?.afterHandling) reply = faultReply(fault);
  }
  write(res, reply);
}

function resolveRoute(method: string, path: string): { route: RouteName; params: Ctx['params'] } {
  if (method === 'GET' && path === '/o/oauth2/v2/auth') return { route: 'authorize', params: {} };
  if (method === 'POST' && path === '/token') return { route: 'token', params: {} };
  if (method === 'POST' && path === '/revoke') return { route: 'revoke', params: {} };
  if (path === '/v1/userinfo' && (method === 'GET' || method === 'POST')) return { route: 'userinfo', params: {} };
  if (!path.startsWith(`${API_PREFIX}/`)) return { route: 'unknown', params: {} };
  const rest = path.slice(API_PREFIX.length);
  if (method === 'GET' && rest === '/users/me/calendarList') return { route: 'calendarList', params: {} };
  if (method === 'POST' && rest === '/freeBusy') return { route: 'freeBusy', params: {} };
  const m = /^\/calendars\/([^/]+)\/events(?:\/([^/]+))?$/.exec(rest);
  if (m && m[1] !== undefined) {
    const calendarId = decodeURIComponent(m[1]);
    if (m[2] === undefined) {
      if (method === 'POST') return { route: 'events.insert', params: { calendarId } };
      if (method === 'GET') return { route: 'events.list', params: { calendarId } };
    } else {
      const eventId = decodeURIComponent(m[2]);
      if (method === 'GET') return { route: 'events.get', params: { calendarId, eventId } };
      if (method === 'PATCH') return { route: 'events.patch', params: { calendarId, eventId } };
      if (method === 'DELETE') return { route: 'events.delete', params: { calendarId, eventId } };
    }
  }
  return { route: 'unknown', params: {} };
}

function dispatch(state: StandinState, ctx: Ctx): Reply {
  switch (ctx.route) {
    case 'authorize':
      return authorize(state, ctx);
    case 'token':
      return token(state, ctx);
    case 'revoke':
      return revoke(state, ctx);
    case 'userinfo':
      return userinfo(state, ctx);
    case 'unknown':
      return apiError(404, 'global', 'notFound', 'Not Found', 'NOT_FOUND');
    default: {
      const denied = checkBearer(state, ctx);
      if (denied) return denied;
      switch (ctx.route) {
        case 'calendarList':
          return calendarList(state, ctx);
        case 'freeBusy':
          return freeBusy(state, ctx);
        case 'events.insert':
          return eventsInsert(state, ctx);
        case 'events.get':
          return eventsGet(state, ctx);
        case 'events.patch':
          return eventsPatch(state, ctx);
        case 'events.delete':
          return eventsDelete(state, ctx);
        case 'events.list':
          return eventsList(state, ctx);
      }
    }
  }
}

function takeFault(state: StandinState, route: RouteName): Fault | undefined {
  const i = state.faults.findIndex((f) => (f.times ?? 1) > 0 && (f.route === undefined || f.route === route));
  if (i < 0) return undefined;
  const f = state.faults[i];
  if (!f) return undefined;
  f.times = (f.times ?? 1) - 1;
  if (f.times <= 0) state.faults.splice(i, 1);
  return f;
}

function faultReply(f: Fault): Reply {
  switch (f.kind) {
    case 'rate_limit_429': {
      const r = apiError(429, 'usageLimits', 'rateLimitExceeded', 'Rate Limit Exceeded', 'RESOURCE_EXHAUSTED');
      if (f.retryAfter !== undefined) r.headers = { 'Retry-After': String(f.retryAfter) };
      return r;
    }
    case 'rate_limit_403':
      return apiError(403, 'usageLimits', 'rateLimitExceeded', 'Rate Limit Exceeded', 'PERMISSION_DENIED');
    case 'user_rate_limit_403':
      return apiError(403, 'usageLimits', 'userRateLimitExceeded', 'User Rate Limit Exceeded', 'PERMISSION_DENIED');
    case 'quota_403':
      return apiError(403, 'usageLimits', 'quotaExceeded', 'Calendar usage limits exceeded.', 'PERMISSION_DENIED');
    case 'server_error':
      return apiError(500, 'global', 'backendError', 'Backend Error', 'INTERNAL');
    case 'unavailable':
      return apiError(503, 'global', 'backendError', 'The service is currently unavailable.', 'UNAVAILABLE');
    case 'redirect':
      return { status: 302, headers: { Location: f.location ?? 'https://example.invalid/' } };
    case 'oversize':
      return {
        status: 200,
        body: `{"kind":"calendar#events","items":[],"padding":"${'x'.repeat(3 * 1024 * 1024)}"}`,
        headers: { 'Content-Type': 'application/json; charset=UTF-8' },
        chunked: true,
      };
    case 'garbage':
      return { status: 200, body: '<html><body>Sorry…</body></html>', headers: { 'Content-Type': 'text/html' } };
    default:
      return { status: 500 };
  }
}

/** A real answer made incomplete or incoherent, still in Google's JSON shapes. */
function tamper(f: Fault, ctx: Ctx, reply: Reply): Reply {
  if (f.kind === 'endless_pages') {
    // Answered whatever token came: a listing that never ends.
    return { status: 200, body: { kind: 'calendar#events', etag: '"1"', timeZone: 'UTC', items: [], nextPageToken: randomBytes(12).toString('base64url') } };
  }
  if (reply.status !== 200 || typeof reply.body !== 'object' || reply.body === null) return reply;
  const body = structuredClone(reply.body) as Record<string, unknown>;
  const calendars = ctx.route === 'freeBusy' ? (body.calendars as Record<string, Record<string, unknown>>) : undefined;
  const later = '2100-01-01T00:00:00Z';
  switch (f.kind) {
    case 'missing_items':
      if (calendars) for (const c of Object.values(calendars)) delete c.busy;
      else delete body.items;
      break;
    case 'page_token_loop':
      body.nextPageToken = f.value ?? 'bG9vcGluZw';
      break;
    case 'bad_time': {
      const at = f.value ?? '2027-13-01T10:00:00Z';
      const time = /^\d{4}-\d{2}-\d{2}$/.test(at) ? { date: at } : { dateTime: at };
      if (calendars) for (const c of Object.values(calendars)) (c.busy as unknown[] | undefined)?.push({ start: at, end: later });
      else if (Array.isArray(body.items)) body.items.push({ kind: 'calendar#event', etag: '"1"', id: 'badtime0000001', status: 'confirmed', start: time, end: /^\d{4}-\d{2}-\d{2}$/.test(at) ? { date: '2100-01-01' } : { dateTime: later } });
      else body.start = time;
      break;
    }
    case 'event_without_times':
      if (Array.isArray(body.items)) body.items.push({ kind: 'calendar#event', etag: '"1"', id: 'notimes0000001', status: 'confirmed', summary: 'Busy' });
      else {
        delete body.start;
        delete body.end;
      }
      break;
  }
  return { ...reply, body };
}

function write(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  let payload = '';
  if (typeof reply.body === 'string') {
    payload = reply.body;
    headers['Content-Type'] ??= 'text/plain; charset=utf-8';
  } else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body, null, 1);
    headers['Content-Type'] ??= 'application/json; charset=UTF-8';
  }
  if (!reply.chunked) headers['Content-Length'] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, headers);
  res.end(payload);
}

// ---------------------------------------------------------------------------------------------
// Error bodies (Google's shapes)

/** Calendar API error: {"error":{"code","message","errors":[{domain,reason,message}],"status"}}. */
function apiError(
  code: number,
  domain: string,
  reason: string,
  message: string,
  status?: string,
  extra?: Record<string, string>,
): Reply {
  const error: Record<string, unknown> = { code, message, errors: [{ message, domain, reason, ...(extra ?? {}) }] };
  if (status) error.status = status;
  return { status: code, body: { error } };
}

/** OAuth endpoint error: {"error":"invalid_grant","error_description":"..."}. */
function oauthError(status: number, error: string, description: string): Reply {
  return { status, body: { error, error_description: description } };
}

function unauthenticated(): Reply {
  const r = apiError(
    401,
    'global',
    'authError',
    'Invalid Credentials',
    'UNAUTHENTICATED',
    { locationType: 'header', location: 'Authorization' },
  );
  const body = r.body as { error: { message: string } };
  body.error.message =
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
  r.headers = { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' };
  return r;
}

function bearer(state: StandinState, ctx: Ctx): AccessTokenInfo | undefined {
  const auth = ctx.req.headers.authorization ?? '';
  const m = /^Bearer (\S+)$/.exec(auth);
  if (!m || m[1] === undefined) return undefined;
  const info = state.accessTokens.get(m[1]);
  if (!info || info.revoked || info.expiresAt <= Date.now()) return undefined;
  return info;
}

function checkBearer(state: StandinState, ctx: Ctx): Reply | undefined {
  const info = bearer(state, ctx);
  if (!info) return unauthenticated();
  const allowed = ROUTE_SCOPES[ctx.route] ?? [];
  const granted = new Set(info.scope.split(' '));
  if (!allowed.some((s) => granted.has(SCOPE + s))) {
    return apiError(
      403,
      'global',
      'insufficientPermissions',
      'Request had insufficient authentication scopes.',
      'PERMISSION_DENIED',
    );
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// OAuth 2.0 / OpenID Connect

function authorize(state: StandinState, ctx: Ctx): Reply {
  const q = ctx.url.searchParams;
  state.lastAuthorize = q;
  if (q.get('client_id') !== state.clientId) {
    return { status: 401, body: 'Error 401: invalid_client\nThe OAuth client was not found.' };
  }
  const redirectUri = q.get('redirect_uri');
  if (!redirectUri || !/^https?:\/\//.test(redirectUri)) {
    return { status: 400, body: 'Error 400: redirect_uri_mismatch' };
  }
  if (q.get('response_type') !== 'code') return { status: 400, body: 'Error 400: unsupported_response_type' };
  const method = q.get('code_challenge_method') ?? 'plain';
  if (q.get('code_challenge') && method !== 'S256' && method !== 'plain') {
    return { status: 400, body: 'Error 400: invalid_request\nInvalid code_challenge_method' };
  }
  const back = new URL(redirectUri);
  const st = q.get('state');
  if (state.denyConsent) {
    back.searchParams.set('error', 'access_denied');
    if (st !== null) back.searchParams.set('state', st);
    return { status: 302, headers: { Location: back.toString() } };
  }
  const requested = (q.get('scope') ?? '').split(' ').filter((s) => s !== '');
  const scope = (state.grantedScopes ?? requested).map(expandScope).join(' ');
  const code = `4/0A${randomBytes(30).toString('base64url')}`;
  codes.set(code, {
    clientId: state.clientId,
    redirectUri,
    challenge: q.get('code_challenge') ?? undefined,
    challengeMethod: method,
    scope,
    offline: q.get('access_type') === 'offline',
    used: false,
  });
  if (st !== null) back.searchParams.set('state', st);
  back.searchParams.set('code', code);
  back.searchParams.set('scope', scope);
  back.searchParams.set('authuser', '0');
  back.searchParams.set('prompt', 'consent');
  return { status: 302, headers: { Location: back.toString() } };
}

/** Codes live outside the state: tests have no business with them. */
const codes = new Map<string, AuthCode>();

/** Google echoes `email`/`profile` back as their full userinfo URLs. */
function expandScope(s: string): string {
  if (s === 'email') return 'https://www.googleapis.com/auth/userinfo.email';
  if (s === 'profile') return 'https://www.googleapis.com/auth/userinfo.profile';
  return s;
}

function clientOf(ctx: Ctx, form: URLSearchParams): { id: string | null; secret: string | null } {
  const auth = ctx.req.headers.authorization ?? '';
  if (auth.startsWith('Basic ')) {
    const [id, secret] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
    return { id: decodeURIComponent(id ?? ''), secret: decodeURIComponent(secret ?? '') };
  }
  return { id: form.get('client_id'), secret: form.get('client_secret') };
}

function token(state: StandinState, ctx: Ctx): Reply {
  if (!(ctx.body instanceof URLSearchParams)) return oauthError(400, 'invalid_request', 'Bad Request');
  const form = ctx.body;
  const client = clientOf(ctx, form);
  if (client.id !== state.clientId || client.secret !== state.clientSecret) {
    return oauthError(401, 'invalid_client', 'Unauthorized');
  }
  const grant = form.get('grant_type');
  if (grant === 'authorization_code') {
    const code = codes.get(form.get('code') ?? '');
    if (!code || code.used) return oauthError(400, 'invalid_grant', 'Bad Request');
    // Single use: a code that was tried once (even with a wrong verifier) is spent.
    code.used = true;
    if (form.get('redirect_uri') !== code.redirectUri) return oauthError(400, 'redirect_uri_mismatch', 'Bad Request');
    if (code.challenge !== undefined) {
      const verifier = form.get('code_verifier');
      if (!verifier) return oauthError(400, 'invalid_grant', 'Missing code verifier.');
      const computed =
        code.challengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (computed !== code.challenge) return oauthError(400, 'invalid_grant', 'Invalid code verifier.');
    }
    const refresh = code.offline ? state.issueRefreshToken(code.scope.split(' ')) : undefined;
    const body: Record<string, unknown> = {
      access_token: issueAccessToken(state, code.scope, refresh),
      expires_in: 3599,
      scope: code.scope,
      token_type: 'Bearer',
    };
    if (refresh) body.refresh_token = refresh;
    if (code.scope.split(' ').includes('openid')) body.id_token = idToken(state, code.scope);
    return { status: 200, body };
  }
  if (grant === 'refresh_token') {
    const rt = form.get('refresh_token') ?? '';
    const info = state.refreshTokens.get(rt);
    if (state.forceInvalidGrant || !info || info.revoked) {
      return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
    }
    return {
      status: 200,
      body: {
        access_token: issueAccessToken(state, info.scope, rt),
        expires_in: 3599,
        scope: info.scope,
        token_type: 'Bearer',
      },
    };
  }
  return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grant ?? ''}`);
}

function issueAccessToken(state: StandinState, scope: string, refreshToken: string | undefined): string {
  const t = `ya29.a0${randomBytes(40).toString('base64url')}`;
  state.accessTokens.set(t, { scope, refreshToken, expiresAt: Date.now() + 3599_000, revoked: false });
  return t;
}

/** An ID token with Google's claims; its signature is random (Creneau does not verify it). */
function idToken(state: StandinState, scope: string): string {
  const now = Math.floor(Date.now() / 1000);
  const scopes = scope.split(' ');
  const claims: Record<string, unknown> = {
    iss: 'https://accounts.google.com',
    azp: state.clientId,
    aud: state.clientId,
    sub: state.user.sub,
    iat: now,
    exp: now + 3600,
  };
  if (scopes.includes('https://www.googleapis.com/auth/userinfo.email')) {
    claims.email = state.user.email;
    claims.email_verified = true;
  }
  if (scopes.includes('https://www.googleapis.com/auth/userinfo.profile')) {
    claims.name = state.user.name;
    claims.picture = state.user.picture;
    claims.given_name = state.user.givenName;
    claims.family_name = state.user.familyName;
  }
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'RS256', kid: 'standin', typ: 'JWT' })}.${enc(claims)}.${randomBytes(64).toString('base64url')}`;
}

function revoke(state: StandinState, ctx: Ctx): Reply {
  const form = ctx.body instanceof URLSearchParams ? ctx.body : new URLSearchParams();
  const tok = form.get('token') ?? ctx.url.searchParams.get('token') ?? '';
  const refresh = state.refreshTokens.get(tok);
  const access = state.accessTokens.get(tok);
  const rt = refresh && !refresh.revoked ? tok : access && !access.revoked ? access.refreshToken : undefined;
  if (!(refresh && !refresh.revoked) && !(access && !access.revoked)) {
    return oauthError(400, 'invalid_token', 'Token expired or revoked');
  }
  // Revoking either token of a grant revokes the whole grant, as Google does.
  if (access) access.revoked = true;
  if (rt !== undefined) {
    const r = state.refreshTokens.get(rt);
    if (r) r.revoked = true;
    for (const a of state.accessTokens.values()) if (a.refreshToken === rt) a.revoked = true;
  }
  return { status: 200, body: {} };
}

function userinfo(state: StandinState, ctx: Ctx): Reply {
  const info = bearer(state, ctx);
  if (!info) {
    const r = oauthError(401, 'invalid_request', 'Invalid Credentials');
    r.headers = { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' };
    return r;
  }
  const scopes = info.scope.split(' ');
  const u = state.user;
  const body: Record<string, unknown> = { sub: u.sub };
  if (scopes.includes('https://www.googleapis.com/auth/userinfo.profile')) {
    Object.assign(body, {
      name: u.name,
      given_name: u.givenName,
      family_name: u.familyName,
      picture: u.picture,
      locale: u.locale,
    });
  }
  if (scopes.includes('https://www.googleapis.com/auth/userinfo.email')) {
    Object.assign(body, { email: u.email, email_verified: true });
  }
  return { status: 200, body };
}

// ---------------------------------------------------------------------------------------------
// Calendar v3

function calendarById(state: StandinState, id: string | undefined): StandinCalendar | undefined {
  if (id === undefined) return undefined;
  if (id === 'primary') return [...state.calendars.values()].find((c) => c.primary);
  return state.calendars.get(id);
}

function eventsOf(state: StandinState, calendarId: string): Map<string, GoogleEvent> {
  let m = state.events.get(calendarId);
  if (!m) {
    m = new Map();
    state.events.set(calendarId, m);
  }
  return m;
}

function newEtag(): string {
  return `"${3_400_000_000_000_000 + Math.floor(Math.random() * 99_999_999_999_999)}"`;
}

function calendarList(state: StandinState, ctx: Ctx): Reply {
  const all = [...state.calendars.values()].map((c) => {
    const entry: Record<string, unknown> = {
      kind: 'calendar#calendarListEntry',
      etag: `"${1_700_000_000_000_000 + c.id.length}"`,
      id: c.id,
      summary: c.summary,
      timeZone: c.timeZone,
      colorId: '14',
      backgroundColor: '#9fe1e7',
      foregroundColor: '#000000',
      selected: true,
      accessRole: c.accessRole,
      defaultReminders: c.accessRole === 'owner' ? [{ method: 'popup', minutes: 10 }] : [],
      conferenceProperties: { allowedConferenceSolutionTypes: ['hangoutsMeet'] },
    };
    if (c.summaryOverride !== undefined) entry.summaryOverride = c.summaryOverride;
    if (c.primary) entry.primary = true;
    return entry;
  });
  const page = paginate(all, ctx.url.searchParams);
  if (!page) return apiError(400, 'global', 'invalid', 'Invalid Value');
  const body: Record<string, unknown> = { kind: 'calendar#calendarList', etag: '"p33c9vdp4r6nus0o"', items: page.items };
  if (page.next) body.nextPageToken = page.next;
  else body.nextSyncToken = 'CKCbrKvpn_sCEhphbGljZS5tYXJ0aW5AZ21haWwuY29t';
  return { status: 200, body };
}

function paginate<T>(all: T[], q: URLSearchParams): { items: T[]; next?: string } | undefined {
  const max = Math.min(Number(q.get('maxResults') ?? '250') || 250, 2500);
  const token = q.get('pageToken');
  // Only tokens this stand-in handed out are understood; Google refuses others with a 400.
  if (token !== null && !/^[1-9]\d{0,6}$/.test(Buffer.from(token, 'base64url').toString('utf8'))) return undefined;
  const offset = Number(Buffer.from(token ?? '', 'base64url').toString('utf8') || '0');
  const items = all.slice(offset, offset + max);
  const next = offset + max < all.length ? Buffer.from(String(offset + max)).toString('base64url') : undefined;
  return next ? { items, next } : { items };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function freeBusy(state: StandinState, ctx: Ctx): Reply {
  const body = (ctx.body ?? {}) as { timeMin?: unknown; timeMax?: unknown; items?: unknown };
  if (typeof body.timeMin !== 'string') return apiError(400, 'global', 'required', 'Missing timeMin parameter.');
  if (typeof body.timeMax !== 'string') return apiError(400, 'global', 'required', 'Missing timeMax parameter.');
  const min = Date.parse(body.timeMin);
  const max = Date.parse(body.timeMax);
  if (!RFC3339.test(body.timeMin) || !RFC3339.test(body.timeMax) || Number.isNaN(min) || Number.isNaN(max)) {
    return apiError(400, 'global', 'badRequest', 'Bad Request');
  }
  if (max <= min) return apiError(400, 'calendar', 'timeRangeEmpty', 'The specified time range is empty.');
  const items = Array.isArray(body.items) ? (body.items as { id?: unknown }[]) : [];
  if (items.length > 50) {
    return apiError(400, 'calendar', 'tooManyCalendarsRequested', 'The number of calendars requested is too large.');
  }
  const calendars: Record<string, unknown> = {};
  for (const item of items) {
    const id = typeof item.id === 'string' ? item.id : '';
    const cal = calendarById(state, id);
    const injected = state.freeBusyErrors.get(id);
    if (injected !== undefined) {
      calendars[id] = { errors: [{ domain: 'global', reason: injected }], busy: [] };
    } else if (!cal) {
      calendars[id] = { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] };
    } else {
      const blocks: { start: number; end: number }[] = [];
      for (const ev of eventsOf(state, cal.id).values()) {
        if (ev.status === 'cancelled' || ev.transparency === 'transparent') continue;
        const { start, end } = eventSpan(ev, cal.timeZone);
        if (end > min && start < max) blocks.push({ start: Math.max(start, min), end: Math.min(end, max) });
      }
      blocks.sort((a, b) => a.start - b.start);
      const merged: { start: number; end: number }[] = [];
      for (const b of blocks) {
        const last = merged[merged.length - 1];
        if (last && b.start <= last.end) last.end = Math.max(last.end, b.end);
        else merged.push({ ...b });
      }
      calendars[id] = { busy: merged.map((b) => ({ start: utc(b.start), end: utc(b.end) })) };
    }
  }
  return { status: 200, body: { kind: 'calendar#freeBusy', timeMin: utc(min), timeMax: utc(max), calendars } };
}

/** An all-day `date` is midnight to midnight in the calendar's zone (UTC when not given). */
function eventSpan(ev: GoogleEvent, zone = 'UTC'): { start: number; end: number } {
  const at = (t: GoogleEventTime) =>
    t.dateTime !== undefined ? Date.parse(t.dateTime) : DateTime.fromISO(t.date ?? '', { zone }).toMillis();
  return { start: at(ev.start), end: at(ev.end) };
}

interface EventInput {
  id: string;
  summary?: string;
  description?: string;
  location?: string;
  start: GoogleEventTime;
  end: GoogleEventTime;
  attendees?: { email: string; displayName?: string }[];
  extendedProperties?: GoogleEvent['extendedProperties'];
  reminders?: GoogleEvent['reminders'];
  transparency?: 'opaque' | 'transparent';
  status?: 'confirmed' | 'tentative';
}

function newEvent(state: StandinState, cal: StandinCalendar, input: EventInput): GoogleEvent {
  const now = new Date().toISOString();
  const ev: GoogleEvent = {
    kind: 'calendar#event',
    etag: newEtag(),
    id: input.id,
    status: 'confirmed',
    htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${input.id} ${cal.id}`).toString('base64url')}`,
    created: now,
    updated: now,
    creator: { email: state.user.email, self: true },
    organizer: cal.primary
      ? { email: state.user.email, self: true }
      : { email: cal.id, displayName: cal.summary, self: true },
    start: normaliseTime(input.start),
    end: normaliseTime(input.end),
    iCalUID: `${input.id}@google.com`,
    sequence: 0,
    reminders: input.reminders ?? { useDefault: true },
    eventType: 'default',
  };
  if (input.summary !== undefined) ev.summary = input.summary;
  if (input.description !== undefined && input.description !== '') ev.description = input.description;
  if (input.location !== undefined && input.location !== '') ev.location = input.location;
  if (input.transparency === 'transparent') ev.transparency = 'transparent';
  if (input.status === 'tentative') ev.status = 'tentative';
  if (input.attendees && input.attendees.length > 0) {
    ev.attendees = input.attendees.map((a) => {
      const att: NonNullable<GoogleEvent['attendees']>[number] = { email: a.email, responseStatus: 'needsAction' };
      if (a.displayName) att.displayName = a.displayName;
      return att;
    });
  }
  if (input.extendedProperties) ev.extendedProperties = input.extendedProperties;
  return ev;
}

/** Google answers dateTime in the event's zone with its offset, e.g. 2026-12-01T10:00:00+01:00. */
function normaliseTime(t: GoogleEventTime): GoogleEventTime {
  if (t.dateTime === undefined) return { ...t };
  const ms = Date.parse(t.dateTime);
  const out: GoogleEventTime = { dateTime: formatInZone(ms, t.timeZone ?? 'UTC') };
  if (t.timeZone !== undefined) out.timeZone = t.timeZone;
  return out;
}

function formatInZone(ms: number, zone: string): string {
  const dt = DateTime.fromMillis(ms, { zone });
  return (dt.isValid ? dt : DateTime.fromMillis(ms, { zone: 'UTC' })).toISO({ suppressMilliseconds: true }) ?? '';
}

function utc(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function randomId(): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuv';
  return [...randomBytes(26)].map((b) => alphabet[b % 32]).join('');
}

function writableCalendar(state: StandinState, ctx: Ctx): StandinCalendar | Reply {
  const cal = calendarById(state, ctx.params.calendarId);
  if (!cal || cal.accessRole === 'freeBusyReader') return apiError(404, 'global', 'notFound', 'Not Found', 'NOT_FOUND');
  if (ctx.route !== 'events.get' && ctx.route !== 'events.list' && cal.accessRole === 'reader') {
    return apiError(403, 'global', 'requiredAccessLevel', 'You need to have writer access to this calendar.', 'PERMISSION_DENIED');
  }
  return cal;
}

function isReply(x: StandinCalendar | Reply): x is Reply {
  return 'status' in x;
}

function validTime(t: unknown): t is GoogleEventTime {
  if (typeof t !== 'object' || t === null) return false;
  const o = t as Record<string, unknown>;
  if (typeof o.dateTime === 'string') return RFC3339.test(o.dateTime);
  return typeof o.date === 'string';
}

function eventsInsert(state: StandinState, ctx: Ctx): Reply {
  const cal = writableCalendar(state, ctx);
  if (isReply(cal)) return cal;
  const b = (ctx.body ?? {}) as Partial<EventInput> & Record<string, unknown>;
  if (!validTime(b.start)) return apiError(400, 'global', 'required', 'Missing start time.');
  if (!validTime(b.end)) return apiError(400, 'global', 'required', 'Missing end time.');
  const span = eventSpan({ start: b.start, end: b.end } as GoogleEvent);
  if (span.end <= span.start) {
    return apiError(400, 'calendar', 'timeRangeEmpty', 'The specified time range is empty.');
  }
  const id = typeof b.id === 'string' ? b.id : randomId();
  // Google's rule for client-chosen ids: base32hex characters, 5 to 1024 of them.
  if (!/^[a-v0-9]{5,1024}$/.test(id)) return apiError(400, 'global', 'invalid', 'Invalid resource id value.');
  const events = eventsOf(state, cal.id);
  // Ids are never reusable, not even after a delete.
  if (events.has(id)) return apiError(409, 'global', 'duplicate', 'The requested identifier already exists.');
  const ev = newEvent(state, cal, { ...b, id, start: b.start, end: b.end } as EventInput);
  events.set(id, ev);
  return { status: 200, body: ev };
}

function findEvent(state: StandinState, ctx: Ctx): { cal: StandinCalendar; ev: GoogleEvent } | Reply {
  const cal = writableCalendar(state, ctx);
  if (isReply(cal)) return cal;
  const ev = eventsOf(state, cal.id).get(ctx.params.eventId ?? '');
  if (!ev) return apiError(404, 'global', 'notFound', 'Not Found', 'NOT_FOUND');
  return { cal, ev };
}

function eventsGet(state: StandinState, ctx: Ctx): Reply {
  const found = findEvent(state, ctx);
  if (!('ev' in found)) return found;
  // Like Google, a deleted event is still returned, with status "cancelled".
  return { status: 200, body: found.ev };
}

function ifMatchFails(ctx: Ctx, ev: GoogleEvent): Reply | undefined {
  const want = header(ctx.req, 'if-match');
  if (want !== undefined && want !== '*' && want !== ev.etag) {
    return apiError(412, 'global', 'conditionNotMet', 'Precondition Failed', undefined, {
      locationType: 'header',
      location: 'If-Match',
    });
  }
  return undefined;
}

function eventsPatch(state: StandinState, ctx: Ctx): Reply {
  const found = findEvent(state, ctx);
  if (!('ev' in found)) return found;
  const { ev } = found;
  const failed = ifMatchFails(ctx, ev);
  if (failed) return failed;
  const b = (ctx.body ?? {}) as Record<string, unknown>;
  if (b.start !== undefined && !validTime(b.start)) return apiError(400, 'global', 'invalid', 'Invalid start time.');
  if (b.end !== undefined && !validTime(b.end)) return apiError(400, 'global', 'invalid', 'Invalid end time.');
  const before = eventSpan(ev);
  for (const key of ['summary', 'description', 'location', 'attendees', 'transparency', 'reminders'] as const) {
    if (b[key] !== undefined) (ev as unknown as Record<string, unknown>)[key] = b[key];
  }
  if (b.start !== undefined) ev.start = normaliseTime(b.start as GoogleEventTime);
  if (b.end !== undefined) ev.end = normaliseTime(b.end as GoogleEventTime);
  if (b.extendedProperties !== undefined) ev.extendedProperties = b.extendedProperties as GoogleEvent['extendedProperties'];
  if (b.status !== undefined) {
    if (b.status !== 'confirmed' && b.status !== 'tentative') return apiError(400, 'global', 'invalid', 'Invalid value for: status');
    // A change of status is a significant change too (attendees' copies are updated).
    if (ev.status !== b.status) ev.sequence += 1;
    ev.status = b.status;
  }
  const after = eventSpan(ev);
  if (after.end <= after.start) return apiError(400, 'calendar', 'timeRangeEmpty', 'The specified time range is empty.');
  // A change of time is a significant change: Google bumps the iCalendar SEQUENCE.
  if (before.start !== after.start || before.end !== after.end) ev.sequence += 1;
  ev.etag = newEtag();
  ev.updated = new Date().toISOString();
  return { status: 200, body: ev };
}

function eventsDelete(state: StandinState, ctx: Ctx): Reply {
  const found = findEvent(state, ctx);
  if (!('ev' in found)) return found;
  const { ev } = found;
  if (ev.status === 'cancelled') return apiError(410, 'global', 'deleted', 'Resource has been deleted');
  const failed = ifMatchFails(ctx, ev);
  if (failed) return failed;
  ev.status = 'cancelled';
  ev.etag = newEtag();
  ev.updated = new Date().toISOString();
  return { status: 204 };
}

function eventsList(state: StandinState, ctx: Ctx): Reply {
  const cal = writableCalendar(state, ctx);
  if (isReply(cal)) return cal;
  const q = ctx.url.searchParams;
  const timeMin = q.get('timeMin');
  const timeMax = q.get('timeMax');
  if ((timeMin !== null && !RFC3339.test(timeMin)) || (timeMax !== null && !RFC3339.test(timeMax))) {
    return apiError(400, 'global', 'badRequest', 'Bad Request');
  }
  const constraints: { kind: 'private' | 'shared'; key: string; value: string }[] = [];
  for (const [param, kind] of [
    ['privateExtendedProperty', 'private'],
    ['sharedExtendedProperty', 'shared'],
  ] as const) {
    for (const c of q.getAll(param)) {
      const eq = c.indexOf('=');
      // Google only filters on propertyName=value; a bare name is refused.
      if (eq <= 0) return apiError(400, 'global', 'invalid', 'Invalid extended property constraint.');
      constraints.push({ kind, key: c.slice(0, eq), value: c.slice(eq + 1) });
    }
  }
  const showDeleted = q.get('showDeleted') === 'true';
  const min = timeMin !== null ? Date.parse(timeMin) : -Infinity;
  const max = timeMax !== null ? Date.parse(timeMax) : Infinity;
  let items = [...eventsOf(state, cal.id).values()].filter((ev) => {
    if (!showDeleted && ev.status === 'cancelled') return false;
    const span = eventSpan(ev, cal.timeZone);
    // timeMin bounds the event's end, timeMax its start (both exclusive), as documented.
    if (!(span.end > min && span.start < max)) return false;
    return constraints.every((c) => ev.extendedProperties?.[c.kind]?.[c.key] === c.value);
  });
  if (q.get('orderBy') === 'startTime') items = items.sort((a, b) => eventSpan(a, cal.timeZone).start - eventSpan(b, cal.timeZone).start);
  const page = paginate(items, q);
  if (!page) return apiError(400, 'global', 'invalid', 'Invalid Value');
  const body: Record<string, unknown> = {
    kind: 'calendar#events',
    etag: `"${Date.now()}000"`,
    summary: cal.summary,
    description: '',
    updated: new Date().toISOString(),
    timeZone: cal.timeZone,
    accessRole: cal.accessRole,
    defaultReminders: [{ method: 'popup', minutes: 10 }],
    items: page.items,
  };
  if (page.next) body.nextPageToken = page.next;
  else body.nextSyncToken = 'CPDAlvWDx70CEPDAlvWDx70CGAU=';
  return { status: 200, body };
}

// ---------------------------------------------------------------------------------------------
// Plumbing

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > BODY_LIMIT) break;
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The CRENEAU_GOOGLE_* variables that point Creneau at a running stand-in. */
export function googleEnv(g: { readonly state: StandinState; readonly oauthUrl: string; readonly apiUrl: string }): Record<string, string> {
  return {
    CRENEAU_GOOGLE_CLIENT_ID: g.state.clientId,
    CRENEAU_GOOGLE_CLIENT_SECRET: g.state.clientSecret,
    CRENEAU_GOOGLE_OAUTH_URL: g.oauthUrl,
    CRENEAU_GOOGLE_API_URL: g.apiUrl,
  };
}
