// A real Creneau for HTTP-level tests: real SQLite in a temp dir, the real app listening on
// 127.0.0.1 (random port, which is also CRENEAU_BASE_URL), plus a tiny cookie-jar browser.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.js';
import { boot } from '../../src/boot.js';
import { loadConfig } from '../../src/config.js';
import type { Deps } from '../../src/deps.js';
import type { Clock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/log.js';
import type { MicroCache } from '../../src/web/microcache.js';

export interface TestApp {
  /** The base URL without a trailing slash, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly deps: Deps;
  readonly dataDir: string;
  /** The public pages' micro-cache (its hit count shows what was replayed). */
  readonly pageCache: MicroCache;
  stop(): Promise<void>;
}

/** Starts the app with its own data directory; `env` adds or overrides CRENEAU_* variables. */
export async function startTestApp(
  env: Record<string, string> = {},
  opts: {
    clock?: Clock;
    /** Adjusts the deps before the app is built (e.g. to observe a hook). */
    deps?: (deps: Deps) => Deps;
    /** A port chosen beforehand (when another server must know the app's URL first); 0 by default. */
    port?: number;
  } = {},
): Promise<TestApp> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(503);
    res.end();
  };
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dataDir = env.CRENEAU_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'creneau-test-'));
  const config = loadConfig({ CRENEAU_LOG: 'off', ...env, CRENEAU_DATA_DIR: dataDir, CRENEAU_BASE_URL: env.CRENEAU_BASE_URL ?? url });
  const booted = await boot(config, { ...(opts.clock ? { clock: opts.clock } : {}), log: createLogger(config.log, () => undefined) });
  const deps = opts.deps ? opts.deps(booted) : booted;
  const built = createApp(deps);
  handler = built.handler;
  return {
    url,
    deps,
    dataDir,
    pageCache: built.ctx.pageCache,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await deps.db.destroy();
      if (!env.CRENEAU_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Page {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly location: string | null;
}

/** A browser stand-in: keeps cookies, never follows redirects, sends Origin on POST. */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const maxAge = attrs.map((a) => /^\s*max-age=(-?\d+)/i.exec(a)?.[1]).find((v) => v !== undefined);
      if (value === '' || maxAge === '0') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** Any request; `path` is relative to the app. */
  async request(path: string, init: RequestInit = {}): Promise<Page> {
    const headers = new Headers(init.headers);
    const jar = this.cookieHeader();
    if (jar && !headers.has('cookie')) headers.set('cookie', jar);
    const res = await fetch(new URL(path, this.base), { ...init, headers, redirect: 'manual' });
    this.keep(res);
    return { status: res.status, headers: res.headers, text: await res.text(), location: res.headers.get('location') };
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Page> {
    return this.request(path, { headers });
  }

  /** A urlencoded form POST (repeated keys allowed as [name, value] pairs). */
  post(path: string, form: Record<string, string> | [string, string][], headers: Record<string, string> = {}): Promise<Page> {
    return this.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.base, ...headers },
      body: new URLSearchParams(form).toString(),
    });
  }

  /** A multipart form POST. */
  postMultipart(path: string, form: FormData, headers: Record<string, string> = {}): Promise<Page> {
    return this.request(path, { method: 'POST', headers: { origin: this.base, ...headers }, body: form });
  }
}

/** The value of a hidden input in a page (e.g. `_csrf`, `_form`). */
export function hiddenValue(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!m?.[1]) throw new Error(`no hidden input ${name} in the page`);
  return m[1];
}
