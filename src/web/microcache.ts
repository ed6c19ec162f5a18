import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import type { Locale } from '../config.js';
import { negotiateLocale } from './i18n.js';

/**
 * A micro-cache for the public pages every visitor sees alike (the staff page, the slot picker
 * and the slots JSON): a 200 answer is replayed byte for byte, headers included, to the same URL
 * in the same language for at most `ttlMs`, and never after anything was written to the
 * database or booked, cancelled or moved through this process. A burst of visitors costs one
 * render per second instead of one per request, and the hit is answered before Express runs.
 *
 * It holds only what any anonymous visitor of those URLs gets: requests with a cookie (a
 * signed-in staff member, a chosen language) and every other method or page are never cached.
 */

/** When the route began reading what it renders: an answer is as old as its data. */
interface Stamp {
  readonly at: number;
  readonly generation: number;
  readonly version: number;
}

/** A 200 answer. */
interface Entry {
  /** Name, value, name, value… (the form node:http processes fastest). */
  readonly headers: string[];
  readonly body: Buffer;
  readonly expires: number;
  readonly generation: number;
  readonly version: number;
}

export interface MicroCacheOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly now: () => number;
  /** Changes whenever the database was written (entries stored before are stale). */
  readonly version: () => number;
  readonly defaultLocale: Locale;
}

const MAX_URL = 512;
const MAX_LANGUAGE_HEADERS = 200;

export class MicroCache {
  private readonly entries = new Map<string, Entry>();
  private readonly stamps = new WeakMap<Response, Stamp>();
  private readonly languages = new Map<string, Locale>();
  private generation = 0;
  /** Answers served from the cache (for tests and the benchmark). */
  hits = 0;

  constructor(private readonly opts: MicroCacheOptions) {}

  /** The cache key, or undefined when this request must not share an answer. */
  private key(req: IncomingMessage, url: string, lang: Locale): string | undefined {
    if (req.method !== 'GET' || req.headers.cookie !== undefined || url.length > MAX_URL || !url.startsWith('/@')) return undefined;
    return `${lang} ${url}`;
  }

  /** The language the app would pick for a visitor without a cookie (remembered per header). */
  private language(acceptLanguage: string | undefined): Locale {
    if (acceptLanguage === undefined) return this.opts.defaultLocale;
    let lang = this.languages.get(acceptLanguage);
    if (lang === undefined) {
      lang = negotiateLocale(undefined, acceptLanguage, this.opts.defaultLocale);
      if (this.languages.size >= MAX_LANGUAGE_HEADERS) this.languages.clear();
      this.languages.set(acceptLanguage, lang);
    }
    return lang;
  }

  /** Answers from the cache before Express runs; false when the app must answer. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url;
    if (this.entries.size === 0 || url === undefined || !url.startsWith('/@')) return false;
    const key = this.key(req, url, this.language(req.headers['accept-language']));
    const entry = key === undefined ? undefined : this.entries.get(key);
    if (!entry || key === undefined) return false;
    if (entry.expires <= this.opts.now() || entry.generation !== this.generation || entry.version !== this.opts.version()) {
      this.entries.delete(key);
      return false;
    }
    this.hits++;
    res.writeHead(200, entry.headers);
    res.end(entry.body);
    return true;
  }

  /**
   * Marks this request's answer as the same for every anonymous visitor; called by the route
   * before it reads anything, so a write or a booking while it renders makes the answer stale.
   */
  share(res: Response): void {
    this.stamps.set(res, { at: this.opts.now(), generation: this.generation, version: this.opts.version() });
  }

  /** Keeps the answer Express just sent, when the route called `share(res)` first. */
  store(req: Request, res: Response, body: string, lang: Locale): void {
    const stamp = this.stamps.get(res);
    if (!stamp || res.statusCode !== 200 || res.hasHeader('set-cookie')) return;
    const key = this.key(req, req.originalUrl, lang);
    if (key === undefined) return;
    if (this.entries.size >= this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, {
      headers: flatHeaders(res.getHeaders()),
      body: Buffer.from(body),
      expires: stamp.at + this.opts.ttlMs,
      generation: stamp.generation,
      version: stamp.version,
    });
  }

  /** Forgets everything (a booking was made, cancelled or moved). */
  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}

/** Name, value, name, value… */
function flatHeaders(headers: OutgoingHttpHeaders): string[] {
  const flat: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) flat.push(name, String(v));
  }
  return flat;
}
