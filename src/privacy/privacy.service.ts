import type { Config, LogMode } from '../config.js';
import { smtpHost } from '../config.js';
import type { Db } from '../db/database.js';
import { googleEndpoints } from '../calendars/google/oauth.js';
import { cookieName } from '../web/cookies.js';
import { COOKIES, INVENTORY, type CookieEntry, type TableEntry } from './inventory.js';
import { err, ok, type Result } from '../lib/result.js';
import type { FieldError } from '../web/forms.js';
import type { Picture } from '../lib/picture-rules.js';
import { BRAND_SETTINGS, versionOf } from './brand.js';
import { brandErrors, contactHref, controllerErrors, type BrandInput, type ControllerInput } from './privacy.form.js';
import { findOwnerContact, findSetting, listConnectionTargets, readSchema, saveSettings } from './privacy.repo.js';

/**
 * What the privacy page and `creneau audit` say, computed from the inventory and the LIVE
 * configuration and database: who the controller is, which log mode is in force, which
 * outside hosts the server may contact. Hosts only, never a credential or a path.
 */

/** The settings key the owner can set to name the controller differently from the owner row: its contact (an e-mail or a web address). */
export const PRIVACY_CONTACT_SETTING = 'privacy_contact';
/** The controller's name beside that contact (plain text). */
export const PRIVACY_CONTROLLER_NAME_SETTING = 'privacy_controller_name';

export type Controller =
  /** `href` is null for a contact that is neither an e-mail nor a web address (shown as text); `name` may be absent. */
  | { readonly kind: 'setting'; readonly name: string | null; readonly contact: string; readonly href: string | null }
  | { readonly kind: 'owner'; readonly name: string; readonly email: string }
  | { readonly kind: 'unknown' };

export interface ThirdParties {
  /** Google: set when CRENEAU_GOOGLE_* is configured or a connection uses Google. */
  readonly google: { readonly configured: boolean; readonly connections: number; readonly hosts: readonly string[] } | null;
  readonly smtpHost: string | null;
  /** Distinct hosts of the CalDAV connections. */
  readonly caldavHosts: readonly string[];
  /** The OpenID Connect provider's host (discovery, tokens, keys), when single sign-on is configured. */
  readonly oidcHost: string | null;
}

export interface CookieFact extends CookieEntry {
  /** The name the browser sees (with __Host- over HTTPS). */
  readonly realName: string;
}

export interface PrivacyFacts {
  readonly controller: Controller;
  readonly log: LogMode;
  readonly cookies: readonly CookieFact[];
  readonly thirdParties: ThirdParties;
  readonly inventory: readonly TableEntry[];
}

/** Host names the server itself contacts for Google (the browser alone visits the authorize page). */
export function googleHosts(config: Config): string[] {
  const e = googleEndpoints(config.google?.oauthUrl ?? undefined, config.google?.apiUrl ?? undefined);
  return unique([e.tokenUrl, e.revokeUrl, e.userinfoUrl, e.apiUrl].map(hostOf));
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '(invalid URL)';
  }
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)].sort();
}

/** The controller shown on /privacy: the `privacy_contact` setting (with its name), else the owner row. */
export async function findController(db: Db): Promise<Controller> {
  const contact = await findSetting(db, PRIVACY_CONTACT_SETTING);
  if (contact) return { kind: 'setting', name: (await findSetting(db, PRIVACY_CONTROLLER_NAME_SETTING)) ?? null, contact, href: contactHref(contact) };
  const owner = await findOwnerContact(db);
  return owner ? { kind: 'owner', name: owner.displayName, email: owner.email } : { kind: 'unknown' };
}

/** The controller fields as stored, for the settings form ('' when unset). */
export async function readControllerSettings(db: Db): Promise<ControllerInput> {
  return {
    name: (await findSetting(db, PRIVACY_CONTROLLER_NAME_SETTING)) ?? '',
    contact: (await findSetting(db, PRIVACY_CONTACT_SETTING)) ?? '',
  };
}

/** Validates and stores the controller; both fields empty removes the settings (the owner is shown again). */
export async function saveController(db: Db, f: ControllerInput): Promise<Result<null, readonly FieldError[]>> {
  const errors = controllerErrors(f);
  if (errors.length > 0) return err(errors);
  const clear = f.name === '' && f.contact === '';
  await saveSettings(db, { [PRIVACY_CONTROLLER_NAME_SETTING]: clear ? null : f.name, [PRIVACY_CONTACT_SETTING]: clear ? null : f.contact });
  return ok(null);
}

/** The brand fields as stored, for the settings form ('' when unset). */
export async function readBrandSettings(db: Db): Promise<BrandInput> {
  return { name: (await findSetting(db, BRAND_SETTINGS.name)) ?? '', accent: (await findSetting(db, BRAND_SETTINGS.accent)) ?? '' };
}

/**
 * Validates and stores the business's name and accent colour; an empty field goes back to the
 * default. The write itself ages the public pages' micro-cache and the brand (total_changes).
 */
export async function saveBrand(db: Db, f: BrandInput): Promise<Result<null, readonly FieldError[]>> {
  const errors = brandErrors(f);
  if (errors.length > 0) return err(errors);
  await saveSettings(db, { [BRAND_SETTINGS.name]: f.name === '' ? null : f.name, [BRAND_SETTINGS.accent]: f.accent === '' ? null : f.accent });
  return ok(null);
}

/** Stores a logo already cleaned by lib/picture.ts (or with null, removes it). */
export async function saveLogo(db: Db, logo: Picture | null): Promise<void> {
  await saveSettings(db, {
    [BRAND_SETTINGS.logo]: logo ? logo.body.toString('base64') : null,
    [BRAND_SETTINGS.logoType]: logo ? logo.type : null,
    [BRAND_SETTINGS.logoVersion]: logo ? versionOf(logo.body) : null,
  });
}

/** The logo's bytes and type, for its route. */
export async function findLogo(db: Db): Promise<{ type: string; body: Buffer; version: string } | undefined> {
  const [data, type, version] = await Promise.all([findSetting(db, BRAND_SETTINGS.logo), findSetting(db, BRAND_SETTINGS.logoType), findSetting(db, BRAND_SETTINGS.logoVersion)]);
  if (data === undefined || version === undefined || (type !== 'image/png' && type !== 'image/jpeg')) return undefined;
  return { type, body: Buffer.from(data, 'base64'), version };
}

/** The outside parties configured right now. */
export async function findThirdParties(config: Config, db: Db): Promise<ThirdParties> {
  const targets = await listConnectionTargets(db);
  const googleConnections = targets.filter((c) => c.provider === 'google').length;
  const caldavHosts = unique(targets.filter((c) => c.provider === 'caldav' && c.url).map((c) => hostOf(c.url ?? '')));
  return {
    google: config.google || googleConnections > 0 ? { configured: config.google !== null, connections: googleConnections, hosts: googleHosts(config) } : null,
    smtpHost: config.smtp ? smtpHost(config.smtp.url) : null,
    caldavHosts,
    oidcHost: config.oidc ? config.oidc.issuer.hostname : null,
  };
}

/** Every host name the server may open a connection to, sorted (Google only when configured). */
export function outboundHosts(config: Config, parties: ThirdParties): string[] {
  const hosts = [...parties.caldavHosts];
  if (config.google) hosts.push(...googleHosts(config));
  if (parties.smtpHost) hosts.push(parties.smtpHost);
  if (parties.oidcHost) hosts.push(parties.oidcHost);
  return unique(hosts);
}

/** Everything the page and the audit print. */
export async function privacyFacts(config: Config, db: Db): Promise<PrivacyFacts> {
  return {
    controller: await findController(db),
    log: config.log,
    cookies: COOKIES.map((c) => ({ ...c, realName: cookieName(config, c.name) })),
    thirdParties: await findThirdParties(config, db),
    inventory: INVENTORY,
  };
}

/** Schema tables or columns the inventory does not classify, and inventory entries the schema lacks. */
export async function schemaDrift(db: Db): Promise<{ unclassified: string[]; missing: string[] }> {
  const live = await readSchema(db);
  const unclassified: string[] = [];
  const missing: string[] = [];
  for (const t of live) {
    const entry = INVENTORY.find((e) => e.table === t.table);
    for (const c of t.columns) if (!entry || !(c in entry.columns)) unclassified.push(`${t.table}.${c}`);
  }
  for (const e of INVENTORY) {
    const t = live.find((l) => l.table === e.table);
    for (const c of Object.keys(e.columns)) if (!t || !t.columns.includes(c)) missing.push(`${e.table}.${c}`);
  }
  return { unclassified, missing };
}
