import { createHash } from 'node:crypto';
import type SQLite from 'better-sqlite3';
import { accentStyleSheet } from '../web/colour.js';
import { changeCounter, settingsReader } from './privacy.repo.js';

/**
 * The business's own look (DESIGN.md "Branding"): its name in the header, the `<title>` and the
 * e-mails, its accent colour and its logo, all set by the owner on /admin/settings and kept in the
 * `settings` table. Pages render synchronously, so the brand is read with a prepared statement
 * and kept until the database changes: the same signal (SQLite's total_changes) that ages the
 * public pages' micro-cache, so a saved brand shows on the very next page.
 */

/** What the instance is called until the owner names it. */
export const DEFAULT_BRAND_NAME = 'Creneau';

/** The settings keys (the logo's bytes are read only by its own route). */
export const BRAND_SETTINGS = {
  name: 'brand_name',
  accent: 'brand_accent',
  /** The logo, base64 (a re-encoded PNG or JPEG of at most ~100 KB). */
  logo: 'brand_logo',
  logoType: 'brand_logo_type',
  /** A hash of the logo's bytes: its URL changes with it, so it can be cached for a year. */
  logoVersion: 'brand_logo_version',
} as const;

export interface Brand {
  /** The business name, or "Creneau". */
  readonly name: string;
  /** Whether the owner named the business (e-mails then say so in their From). */
  readonly named: boolean;
  /** `#rrggbb`, or null for the built-in colours. */
  readonly accent: string | null;
  /** The accent's style sheet, its version and its URL (the layout links it after app.css), when an accent is set. */
  readonly style: { readonly css: string; readonly version: string; readonly url: string } | null;
  /** The logo's version, when a logo is set. */
  readonly logoVersion: string | null;
  /** The logo's URL for the header, when a logo is set. */
  readonly logoUrl: string | null;
}

/** The URLs the layout links to (a version in each, so they are cached for a year). */
export const BRAND_STYLE_PATH = '/brand/style.css';
export const BRAND_LOGO_PATH = '/brand/logo';

/** A short content hash for URLs. */
export function versionOf(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('base64url').slice(0, 16);
}

/** The brand as stored right now, read again only after a write. */
export class BrandSource {
  private readonly read: () => ReadonlyMap<string, string>;
  private readonly changes: () => number;
  private known: { readonly at: number; readonly brand: Brand } | null = null;

  constructor(sqlite: SQLite.Database) {
    this.read = settingsReader(sqlite, [BRAND_SETTINGS.name, BRAND_SETTINGS.accent, BRAND_SETTINGS.logoVersion]);
    this.changes = changeCounter(sqlite);
  }

  current(): Brand {
    const at = this.changes();
    if (this.known?.at === at) return this.known.brand;
    const brand = brandFrom(this.read());
    this.known = { at, brand };
    return brand;
  }
}

function brandFrom(s: ReadonlyMap<string, string>): Brand {
  const name = s.get(BRAND_SETTINGS.name);
  const accent = s.get(BRAND_SETTINGS.accent) ?? null;
  let style: Brand['style'] = null;
  if (accent !== null) {
    try {
      const css = accentStyleSheet(accent);
      const version = versionOf(css);
      style = { css, version, url: `${BRAND_STYLE_PATH}?v=${version}` };
    } catch {
      // Not #rrggbb (written by hand?): the built-in colours.
    }
  }
  const logoVersion = s.get(BRAND_SETTINGS.logoVersion) ?? null;
  return {
    name: name ?? DEFAULT_BRAND_NAME,
    named: name !== undefined,
    accent: style ? accent : null,
    style,
    logoVersion,
    logoUrl: logoVersion === null ? null : `${BRAND_LOGO_PATH}?v=${logoVersion}`,
  };
}
