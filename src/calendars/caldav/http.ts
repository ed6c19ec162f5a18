import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { mayConnect, parseAllowList } from './net-guard.js';
import type { AllowList } from './net-guard.js';
import { err, ok } from '../../lib/result.js';
import type { Result } from '../../lib/result.js';

/**
 * The only way CalDAV code reaches the network. Every connection goes through the SSRF policy
 * on the address actually connected to (custom `lookup`, so DNS rebinding does not pass), with
 * a connect timeout, a whole-request deadline, a response size cap, Basic auth only over HTTPS
 * (or to allow-listed hosts), and credentials sent to one origin only: the one the staff member
 * entered. A request or a redirect to any other origin is refused before anything is sent.
 */

export type TransportFailure = 'refused' | 'timeout' | 'unreachable' | 'malformed';

export interface TransportOptions {
  readonly username: string;
  readonly password: string;
  readonly allowHosts: readonly string[];
  /** The only origin (scheme, host, port) credentials are sent to: the one the staff member entered. */
  readonly origin: string;
  /** Whole request deadline, redirects included. */
  readonly timeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly maxBytes?: number;
}

export interface HttpResponse {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Final URL after same-origin redirects. */
  readonly url: string;
}

export type TransportResult = Result<HttpResponse, TransportFailure>;

export interface RequestInput {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Epoch ms after which the request fails with `timeout` (a read made of several requests shares one). */
  readonly deadline?: number;
}

/** Thrown by `fetch` (the tsdav adapter) so the failure kind survives tsdav. */
export class TransportError extends Error {
  constructor(readonly reason: TransportFailure) {
    super(`caldav transport: ${reason}`);
    this.name = 'TransportError';
  }
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
const MAX_REDIRECTS = 5;

class Failure extends Error {
  constructor(readonly reason: TransportFailure) {
    super(reason);
  }
}

/** The server closed a kept-alive connection as we reused it: safe to send again on a new one. */
class StaleConnection extends Error {}

/**
 * Idle kept-alive connections are closed after this long, before common servers close theirs
 * (Apache's default is 5 s), so a reused connection is rarely one the server is closing.
 */
const IDLE_CONNECTION_MS = 4_000;

/**
 * Reads go over kept-alive connections and are sent again when the server dropped one as it was
 * reused. Writes (PUT, DELETE…) always take a new connection: a conditional write sent twice
 * could report a conflict with itself.
 */
const READS = new Set(['GET', 'HEAD', 'OPTIONS', 'PROPFIND', 'REPORT']);

export interface Transport {
  request(input: RequestInput): Promise<TransportResult>;
  /**
   * A `fetch` for tsdav: same guard; throws TransportError on failure. `check` sees the body
   * before tsdav parses it and may refuse it (`malformed`); `deadline` bounds the exchange.
   */
  fetchWith(check: (body: Buffer) => boolean, deadline?: number): typeof fetch;
}

/** A guarded HTTP client bound to one set of credentials and one allow list. */
export function createTransport(opts: TransportOptions): Transport {
  const allow = parseAllowList(opts.allowHosts);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const connectTimeoutMs = Math.min(opts.connectTimeoutMs ?? 5_000, timeoutMs);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const origin = originOf(opts.origin);
  const auth = `Basic ${Buffer.from(`${opts.username}:${opts.password}`, 'utf8').toString('base64')}`;
  // Connections are kept alive per transport (one calendar account) for reads: a busy read after
  // another skips the TCP and TLS handshakes. Every new connection still goes through the guarded lookup.
  const agentOptions = { keepAlive: true, maxSockets: 6, maxFreeSockets: 2, timeout: IDLE_CONNECTION_MS, scheduling: 'lifo' as const };
  const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };

  async function request(input: RequestInput): Promise<TransportResult> {
    const deadline = Math.min(Date.now() + timeoutMs, input.deadline ?? Infinity);
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      return err('refused');
    }
    if (url.origin !== origin) return err('refused');
    let method = input.method;
    let body = input.body;
    try {
      for (let hop = 0; ; hop++) {
        let res: HttpResponse;
        const read = READS.has(method.toUpperCase());
        try {
          res = await once(url, method, input.headers ?? {}, body, deadline, read);
        } catch (err) {
          if (!(err instanceof StaleConnection)) throw err;
          res = await once(url, method, input.headers ?? {}, body, deadline, false);
        }
        const location = res.headers['location'];
        if ([301, 302, 303, 307, 308].includes(res.status) && location) {
          if (hop >= MAX_REDIRECTS) return err('unreachable');
          const next = new URL(location, url);
          // Credentials never follow a redirect to another origin.
          if (next.origin !== origin) return err('refused');
          if (res.status === 303) {
            method = 'GET';
            body = undefined;
          }
          url = next;
          continue;
        }
        return ok(res);
      }
    } catch (e) {
      return err(e instanceof Failure ? e.reason : 'unreachable');
    }
  }

  /** One HTTP exchange; `reuse` lets it take a kept-alive connection (else a new one). */
  function once(url: URL, method: string, headers: Readonly<Record<string, string>>, body: string | undefined, deadline: number, reuse: boolean): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      const secure = url.protocol === 'https:';
      if (!secure && url.protocol !== 'http:') return reject(new Failure('refused'));
      const host = url.hostname.replace(/^\[|\]$/g, '');
      // Basic auth in clear text only to a host the operator allow-listed (a LAN NAS, a test server).
      if (!secure && !allow.allowsHost(host)) return reject(new Failure('refused'));
      // Literal addresses skip `lookup`, so they are checked here.
      if (isIP(host) !== 0 && !mayConnect(host, host, allow)) return reject(new Failure('refused'));
      const remaining = deadline - Date.now();
      if (remaining <= 0) return reject(new Failure('timeout'));
      const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
      const reqHeaders: Record<string, string> = { ...headers, authorization: auth, 'user-agent': 'Creneau', 'accept-encoding': 'identity' };
      if (payload) reqHeaders['content-length'] = String(payload.length);
      const requestOptions: https.RequestOptions = {
        method,
        hostname: host,
        port: url.port || (secure ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        headers: reqHeaders,
        agent: reuse ? (secure ? agents.https : agents.http) : false,
        lookup: guardedLookup(host, allow),
        servername: isIP(host) === 0 ? host : undefined,
      };
      const req = secure ? https.request(requestOptions) : http.request(requestOptions);
      let settled = false;
      const fail = (reason: TransportFailure): void => {
        if (settled) return;
        settled = true;
        clearTimeout(whole);
        req.destroy();
        reject(new Failure(reason));
      };
      const whole = setTimeout(() => fail('timeout'), remaining);
      req.on('socket', (socket: Socket) => {
        if (!socket.connecting) return;
        const t = setTimeout(() => fail('timeout'), connectTimeoutMs);
        socket.once('connect', () => clearTimeout(t));
        socket.once('close', () => clearTimeout(t));
      });
      let answered = false;
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (!answered && !settled && req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
          settled = true;
          clearTimeout(whole);
          return reject(new StaleConnection());
        }
        fail(e instanceof Failure ? e.reason : 'unreachable');
      });
      req.on('response', (res) => {
        answered = true;
        const declared = Number(res.headers['content-length'] ?? 0);
        if (declared > maxBytes) return fail('malformed');
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) return fail('malformed');
          chunks.push(chunk);
        });
        res.on('error', () => fail('unreachable'));
        res.on('aborted', () => fail('unreachable'));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(whole);
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
          }
          resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks), url: url.href });
        });
      });
      req.end(payload);
    });
  }

  return { request, fetchWith: (check, deadline) => fetchOver(request, check, deadline) };
}

/** A `fetch` (for tsdav) over a guarded `request`; failures and refused bodies throw TransportError. */
function fetchOver(request: Transport['request'], check: (body: Buffer) => boolean, deadline?: number): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const body = typeof init?.body === 'string' ? init.body : undefined;
    const result = await request({ method: init?.method ?? 'GET', url, headers, body, ...(deadline === undefined ? {} : { deadline }) });
    if (!result.ok) throw new TransportError(result.error);
    const res = result.value;
    // tsdav parses only successful answers; an error page (Cyrus's 401 is HTML with a DOCTYPE)
    // must still report its status, so only those answers are checked.
    if (res.status >= 200 && res.status < 300 && !check(res.body)) throw new TransportError('malformed');
    const nullBody = res.status === 204 || res.status === 304 || res.status < 200;
    const response = new Response(nullBody ? null : res.body, { status: res.status < 200 ? 200 : res.status, headers: res.headers });
    Object.defineProperty(response, 'url', { value: res.url });
    return response;
  }) as typeof fetch;
}

/** The origin of a URL, or one no URL has (so that nothing is sent) when it does not parse. */
function originOf(u: string): string {
  try {
    return new URL(u).origin;
  } catch {
    return 'null:';
  }
}

/** dns.lookup that keeps only addresses the policy allows, refusing when none is left. */
function guardedLookup(host: string, allow: AllowList) {
  return (hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const ok = addresses.filter((a) => mayConnect(host, a.address, allow));
      if (ok.length === 0) return callback(new Failure('refused'), '');
      if (options.all) return callback(null, ok);
      const first = ok[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}
