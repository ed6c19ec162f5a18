// A real OpenID provider for the single sign-on tests: oidc-provider (OpenID-certified), in the
// test process on 127.0.0.1, with its development login and consent pages, driven over HTTP the
// way a browser would (a cookie jar per origin, forms posted as they are).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { Browser, Page } from './app.js';

export interface OidcAccount {
  readonly email: string;
  readonly email_verified: boolean;
  readonly name?: string;
  readonly preferred_username?: string;
}

export interface TestProvider {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** CRENEAU_* variables pointing the app at this provider. */
  env(overrides?: Record<string, string>): Record<string, string>;
  /** Adds (or replaces) the person signing in as `id` (the subject). */
  setAccount(id: string, account: OidcAccount): void;
  stop(): Promise<void>;
}

/**
 * Starts the provider for an app whose base URL is `appUrl`. With `idTokenClaims` false the
 * e-mail is only given by the userinfo endpoint, as some providers do.
 */
export async function startOidcProvider(appUrl: string, opts: { idTokenClaims?: boolean } = {}): Promise<TestProvider> {
  const accounts = new Map<string, OidcAccount>();
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(503);
    res.end();
  };
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'creneau-test';
  const clientSecret = 'a-long-test-client-secret-0123456789';
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [`${appUrl}/auth/oidc/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    findAccount: (_ctx, id) => {
      const a = accounts.get(id);
      return a ? { accountId: id, claims: () => ({ sub: id, ...a }) } : undefined;
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    conformIdTokenClaims: opts.idTokenClaims === false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['creneau-test-provider-cookie-key'] },
  });
  // Provider errors are expected in the failure tests; keep them off the test output.
  provider.on('server_error', (_ctx: unknown, e: unknown) => { if (process.env.OIDC_DEBUG) console.error('PROVIDER', e); });
  handler = provider.callback();
  return {
    issuer,
    clientId,
    clientSecret,
    env: (overrides = {}) => ({ CRENEAU_OIDC_ISSUER: issuer, CRENEAU_OIDC_CLIENT_ID: clientId, CRENEAU_OIDC_CLIENT_SECRET: clientSecret, ...overrides }),
    setAccount: (id, account) => void accounts.set(id, account),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A cookie jar for the provider's origin (the app's cookies stay in the app Browser). */
class Jar {
  private readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(pair.slice(0, eq).trim());
      else this.cookies.set(pair.slice(0, eq).trim(), value);
    }
  }
}

function formOf(html: string, base: string): { action: string; fields: Record<string, string> } | null {
  const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
  if (!form?.[1]) return null;
  const fields: Record<string, string> = {};
  for (const [tag] of (form[2] ?? '').matchAll(/<input[^>]*>/g)) {
    const name = /name="([^"]+)"/.exec(tag)?.[1];
    if (name) fields[name] = /value="([^"]*)"/.exec(tag)?.[1] ?? '';
  }
  return { action: new URL(form[1].replace(/&amp;/g, '&'), base).toString(), fields };
}

export interface ProviderVisit {
  /** The app's answer to the callback (or to /auth/oidc when it did not redirect). */
  readonly page: Page;
  /** The authorization URL the app sent the browser to. */
  readonly authorizeUrl: string;
}

/**
 * Signs in at the provider as `login`: from `startPath` on the app (/auth/oidc…), through the
 * provider's login and consent pages, back to the app's callback. `cancel` presses the
 * provider's Cancel link; `tamper` may rewrite the authorization URL or the callback URL.
 */
export async function signInAtProvider(
  app: Browser,
  startPath: string,
  login: string,
  opts: { cancel?: boolean; tamperAuthorize?: (url: URL) => void; tamperCallback?: (url: URL) => void } = {},
): Promise<ProviderVisit> {
  const start = await app.get(startPath);
  if (start.status !== 303 || !start.location) return { page: start, authorizeUrl: '' };
  const authorize = new URL(start.location);
  opts.tamperAuthorize?.(authorize);
  const jar = new Jar();
  let url = authorize.toString();
  let init: RequestInit = {};
  for (let step = 0; step < 20; step++) {
    const target = new URL(url);
    if (target.origin === new URL(app.base).origin) {
      opts.tamperCallback?.(target);
      return { page: await app.get(target.pathname + target.search), authorizeUrl: authorize.toString() };
    }
    const res = await fetch(target, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string> | undefined), cookie: jar.header() } });
    jar.keep(res);
    init = {};
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, target).toString();
      continue;
    }
    const html = await res.text();
    if (opts.cancel) {
      const abort = /href="([^"]*\/abort)"/.exec(html)?.[1];
      if (abort) {
        url = new URL(abort, target).toString();
        continue;
      }
    }
    const form = formOf(html, target.toString());
    if (!form) throw new Error(`the provider answered ${res.status} without a form: ${html.slice(0, 300)}`);
    if ('login' in form.fields) Object.assign(form.fields, { login, password: 'any password' });
    url = form.action;
    init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form.fields).toString() };
  }
  throw new Error('too many steps at the provider');
}
