import type { Clock } from '../../lib/clock.js';
import { err, ok, type Result } from '../../lib/result.js';
import type { CalendarFailure, WriteFailure } from '../provider.js';
import { isTimeout, parseJson, readCapped, refreshAccessToken, type GoogleEndpoints } from './oauth.js';

/**
 * The HTTP side of the Google Calendar backend: the access token (cached, refreshed one at a
 * time), retries with back-off, time-outs, size caps and paging. It knows nothing of events:
 * answers come back as JSON for the mapping (google-map.ts) to judge. The bearer token is only
 * ever sent to the configured API origin: a URL outside the API base is refused before any
 * request and a redirect is never followed.
 */

export interface GoogleClientOptions {
  readonly endpoints: GoogleEndpoints;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  readonly clock: Clock;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number;
  /** Called once when Google says the grant is gone (invalid_grant): the staff must reconnect. */
  readonly onNeedsReconnect?: () => void;
  /** Jitter source (default Math.random). */
  readonly random?: () => number;
  /** How back-off waits (default a timer); tests pass a fast one. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Default the platform fetch; tests pass a recording one. */
  readonly fetch?: typeof fetch;
  /** Most a single call may spend waiting between retries (default 3 s). */
  readonly maxRetryWaitMs?: number;
}

export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path under the API base, already encoded. */
  readonly path: string;
  readonly query?: ReadonlyArray<readonly [string, string]>;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Safe to repeat after a 5xx or a lost answer. */
  readonly idempotent: boolean;
}

/** A 2xx answer; `retried` says an earlier attempt may have been applied before its answer got lost. */
export interface ApiAnswer {
  readonly status: number;
  readonly json: unknown;
  readonly retried: boolean;
}

export interface ApiFailure {
  readonly reason: WriteFailure;
  readonly retried: boolean;
}

/** Every item of a paged list, and the list's own time zone (events.list reports the calendar's). */
export interface Listing {
  readonly items: readonly unknown[];
  readonly timeZone: string | undefined;
}

export interface GoogleClient {
  call(req: ApiRequest): Promise<Result<ApiAnswer, ApiFailure>>;
  /** Follows nextPageToken through a list; an incomplete or incoherent listing is a failure, never "empty". */
  list(path: string, query: ReadonlyArray<readonly [string, string]>): Promise<Result<Listing, CalendarFailure>>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RETRY_WAIT_MS = 3_000;
const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 1_500;
/** At most two retries after a 5xx or a network error, and only for idempotent calls. */
const SERVER_RETRIES = 2;
/** Refresh a little before Google's expiry so a token never dies in flight. */
const TOKEN_SKEW_MS = 60_000;
/** A page of 250 events is far below this; more is not a calendar answer we want to hold. */
const RESPONSE_CAP = 4 * 1024 * 1024;
/** 20 pages of 250: more than any calendar range Creneau asks for; beyond, refuse rather than truncate. */
export const MAX_PAGES = 20;
/** Google's page tokens are short opaque strings; anything longer is not one. */
const MAX_PAGE_TOKEN = 2048;
const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);
const QUOTA_REASONS = new Set(['quotaExceeded', 'dailyLimitExceeded']);

type TokenOutcome = Result<string, CalendarFailure>;

/** The client for one staff member's Google connection (one refresh token). */
export function createGoogleClient(opts: GoogleClientOptions): GoogleClient {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = opts.fetch ?? fetch;
  const baseUrl = opts.endpoints.apiUrl.replace(/\/+$/, '');
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const tokens = tokenCache(opts, timeoutMs, doFetch);
  const backoff = backoffPolicy(opts);

  /** The URL of an API path, or undefined when it would leave the configured API base. */
  function apiUrl(req: ApiRequest): URL | undefined {
    const url = new URL(`${baseUrl}${req.path}`);
    for (const [k, v] of req.query ?? []) url.searchParams.append(k, v);
    const inside = url.origin === base.origin && url.pathname.startsWith(`${basePath}/`);
    return inside && url.username === '' && url.password === '' ? url : undefined;
  }

  async function call(req: ApiRequest): Promise<Result<ApiAnswer, ApiFailure>> {
    const url = apiUrl(req);
    // The bearer token goes to the configured origin only, whatever path a caller builds.
    if (!url) return err({ reason: 'refused', retried: false });
    const budget = backoff.start();
    let retried = false;
    let refreshedAfter401 = false;
    let serverRetries = 0;
    let rateAttempts = 0;
    const retryServer = async (): Promise<boolean> => {
      if (!req.idempotent || serverRetries >= SERVER_RETRIES) return false;
      serverRetries += 1;
      retried = true;
      return budget.wait(serverRetries - 1, 0);
    };

    for (;;) {
      const tok = await tokens.get();
      if (!tok.ok) return err({ reason: tok.error, retried });
      const sent = await send(doFetch, url, req, tok.value, timeoutMs);
      if (!sent.ok) {
        if (sent.error !== 'timeout' && sent.error !== 'refused' && sent.error !== 'malformed' && (await retryServer())) continue;
        return err({ reason: sent.error, retried });
      }
      const { status, json, res } = sent.value;
      if (status >= 200 && status < 300) return ok({ status, json, retried });

      const reasons = errorReasons(json);
      if (status === 401) {
        // The cached token may have been revoked or expired early: refresh once, then give up.
        if (refreshedAfter401) return err({ reason: 'unauthorized', retried });
        refreshedAfter401 = true;
        tokens.forget();
        continue;
      }
      if (status === 429 || (status === 403 && reasons.some((r) => RATE_REASONS.has(r)))) {
        if (await budget.wait(rateAttempts, retryAfterMs(res, opts.clock.now()))) {
          rateAttempts += 1;
          continue;
        }
        return err({ reason: 'rate_limited', retried });
      }
      if (status === 403 && reasons.some((r) => QUOTA_REASONS.has(r))) return err({ reason: 'rate_limited', retried });
      if (status >= 500) {
        if (await retryServer()) continue;
        return err({ reason: 'unreachable', retried });
      }
      return err({ reason: statusFailure(status), retried });
    }
  }

  async function list(path: string, query: ReadonlyArray<readonly [string, string]>): Promise<Result<Listing, CalendarFailure>> {
    const items: unknown[] = [];
    const seen = new Set<string>();
    let timeZone: string | undefined;
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const q = pageToken === undefined ? query : [...query, ['pageToken', pageToken] as const];
      const res = await call({ method: 'GET', path, query: q, idempotent: true });
      if (!res.ok) return err(readFailure(res.error.reason));
      const body = listPage(res.value.json);
      if (!body.ok) return body;
      items.push(...body.value.items);
      if (page === 0) timeZone = body.value.timeZone;
      pageToken = body.value.nextPageToken;
      if (pageToken === undefined) return ok({ items, timeZone });
      // A token handed out twice would make the listing go round for ever.
      if (seen.has(pageToken)) return err('malformed');
      seen.add(pageToken);
    }
    // More pages than any real calendar has: refuse rather than answer with a partial list.
    return err('malformed');
  }

  return { call, list };
}

/** One page of a Google list: `items` must be there (Google always sends it, even empty). */
function listPage(json: unknown): Result<{ items: readonly unknown[]; nextPageToken?: string; timeZone?: string }, CalendarFailure> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return err('malformed');
  const o = json as Record<string, unknown>;
  if (!Array.isArray(o.items)) return err('malformed');
  const next = o.nextPageToken;
  if (next !== undefined && (typeof next !== 'string' || next === '' || next.length > MAX_PAGE_TOKEN)) return err('malformed');
  const tz = o.timeZone;
  if (tz !== undefined && typeof tz !== 'string') return err('malformed');
  return ok({ items: o.items as unknown[], nextPageToken: next, timeZone: tz });
}

type Sent = Result<{ status: number; json: unknown; res: Response }, WriteFailure>;

/** One HTTP exchange: the bearer token to the API URL, no redirect followed, time-out and size cap. */
async function send(doFetch: typeof fetch, url: URL, req: ApiRequest, token: string, timeoutMs: number): Promise<Sent> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json', ...(req.headers ?? {}) };
  if (req.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await doFetch(url, {
      method: req.method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      // A redirect could carry the bearer token to another host: it is answered, never followed.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    return err(isTimeout(e) ? 'timeout' : 'unreachable');
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => undefined);
    return err('refused');
  }
  const body = await readCapped(res, RESPONSE_CAP);
  if (!body.ok) return body;
  return ok({ status: res.status, json: parseJson(body.value), res });
}

/** The access token: cached in memory only, refreshed by one request at a time. */
function tokenCache(opts: GoogleClientOptions, timeoutMs: number, doFetch: typeof fetch) {
  let cached: { token: string; expiresAt: number } | undefined;
  let refreshing: Promise<TokenOutcome> | undefined;
  let grantGone = false;

  async function refresh(): Promise<TokenOutcome> {
    const res = await refreshAccessToken({
      tokenUrl: opts.endpoints.tokenUrl,
      refreshToken: opts.refreshToken,
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      timeoutMs,
      fetch: doFetch,
    });
    if (res.ok) {
      cached = { token: res.value.accessToken, expiresAt: opts.clock.now() + res.value.expiresInSeconds * 1000 };
      return ok(cached.token);
    }
    switch (res.error) {
      case 'invalid_grant':
        grantGone = true;
        cached = undefined;
        try {
          opts.onNeedsReconnect?.();
        } catch {
          // The callback's own failure must not turn a clear outcome into a crash.
        }
        return err('needs_reconnect');
      case 'invalid_client':
      case 'rejected':
        return err('unauthorized');
      default:
        return err(res.error);
    }
  }

  return {
    get(): Promise<TokenOutcome> {
      // invalid_grant never heals by itself: stop asking Google until the staff reconnects.
      if (grantGone) return Promise.resolve(err('needs_reconnect'));
      if (cached && cached.expiresAt - TOKEN_SKEW_MS > opts.clock.now()) return Promise.resolve(ok(cached.token));
      refreshing ??= refresh().finally(() => {
        refreshing = undefined;
      });
      return refreshing;
    },
    forget(): void {
      cached = undefined;
    },
  };
}

/** Exponential back-off with jitter, bounded by each call's total waiting budget. */
function backoffPolicy(opts: GoogleClientOptions) {
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const maxWait = opts.maxRetryWaitMs ?? DEFAULT_MAX_RETRY_WAIT_MS;
  return {
    start() {
      let waited = 0;
      return {
        async wait(attempt: number, atLeastMs: number): Promise<boolean> {
          const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
          const delay = Math.max(atLeastMs, Math.round(ceiling / 2 + (random() * ceiling) / 2));
          if (waited + delay > maxWait) return false;
          waited += delay;
          await sleep(delay);
          return true;
        },
      };
    },
  };
}

/** The `reason`s of a Calendar API error body. */
function errorReasons(json: unknown): string[] {
  if (typeof json !== 'object' || json === null) return [];
  const error = (json as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return [];
  const errors = (error as { errors?: unknown }).errors;
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((e: unknown) => {
    const reason = typeof e === 'object' && e !== null ? (e as { reason?: unknown }).reason : undefined;
    return typeof reason === 'string' ? [reason] : [];
  });
}

function retryAfterMs(res: Response, now: number): number {
  const v = res.headers.get('retry-after');
  if (v === null) return 0;
  const seconds = Number(v);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? 0 : Math.max(0, at - now);
}

function statusFailure(status: number): WriteFailure {
  switch (status) {
    case 400:
      return 'malformed';
    case 403:
      return 'unauthorized';
    case 404:
    case 410:
      return 'not_found';
    case 409:
      return 'conflict';
    case 412:
      return 'precondition_failed';
    default:
      return 'unreachable';
  }
}

/** Reads have no write outcomes: a missing calendar is a setup problem the staff must fix. */
export function readFailure(reason: WriteFailure): CalendarFailure {
  switch (reason) {
    case 'not_found':
      return 'unauthorized';
    case 'conflict':
    case 'precondition_failed':
      return 'malformed';
    default:
      return reason;
  }
}
