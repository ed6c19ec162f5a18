import type { Response } from 'express';
import type { Eta } from 'eta';
import type { Config, Locale } from '../config.js';
import type { Deps } from '../deps.js';
import type { StaticFile } from './assets.js';
import type { MicroCache } from './microcache.js';

/**
 * What every handler module is given: the dependency bag plus the rendering context, and the
 * per-request values middleware leaves on res.locals. Route modules import these from here,
 * never from app.ts (which imports them: no cycle).
 */

/** What rendering a page needs besides the request. */
export interface RenderContext {
  readonly config: Config;
  readonly i18n: Deps['i18n'];
  readonly views: Eta;
  readonly staticFiles: ReadonlyMap<string, StaticFile>;
  /** The business's name, accent and logo (read again after any write). */
  readonly brand: Deps['brand'];
  /** Public pages every anonymous visitor sees alike, replayed for a moment. */
  readonly pageCache: MicroCache;
}

/** Everything the handler modules need: the deps plus the rendering context. */
export interface AppContext extends Deps, RenderContext {}

/** The signed-in staff member as the request sees it. */
export interface SignedInStaff {
  readonly id: number;
  readonly username: string;
  readonly displayName: string;
  readonly isOwner: boolean;
  readonly timeZone: string;
}

/** Per-request values the base model needs, set by middleware on res.locals. */
export interface RequestLocals {
  lang: Locale;
  csrf: string;
  nonce: string;
  staff: SignedInStaff | null;
  /** The hash of this request's session id, when signed in (to keep it when ending the others). */
  sessionHash: string | null;
  /** Whether this page may be framed by CRENEAU_EMBED_ORIGINS (public booking pages). */
  embeddable: boolean;
}

export function locals(res: Response): RequestLocals {
  return res.locals as RequestLocals;
}

/** A local path to go back to after a form, never another site. */
export function safeBack(value: unknown): string {
  const s = typeof value === 'string' ? value : '';
  return /^\/(?![/\\])[^\s\\]*$/.test(s) ? s : '/';
}
