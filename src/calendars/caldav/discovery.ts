import { err, ok } from '../../lib/result.js';
import type { Result } from '../../lib/result.js';
import type { CalendarFailure, CalendarInfo } from '../provider.js';
import { propfind } from './dav.js';
import type { DavResult } from './dav.js';
import { createTransport } from './http.js';
import type { Transport } from './http.js';
import { calendarInfoOf, hrefsOf } from './map.js';
import { mailtoAddresses } from './scheduling.js';

/**
 * Finding a user's calendars from what the staff member typed: a server root,
 * /.well-known/caldav, a principal or a calendar URL. Credentials go to that URL's origin only:
 * a principal, calendar home or calendar on any other origin is refused, naming the origin, so
 * the staff member can enter it directly if they trust it.
 */

export interface DiscoverOptions {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly allowHosts: readonly string[];
  readonly timeoutMs?: number;
}

export interface Discovered {
  readonly calendars: CalendarInfo[];
  readonly serverSchedules: boolean;
}

/** Why discovery failed: a calendar failure, or an href on another origin (named). */
export type DiscoverFailure = CalendarFailure | { readonly foreignOrigin: string };

export const CALENDAR_PROPS = '<d:resourcetype/><d:displayname/><c:supported-calendar-component-set/><d:current-user-privilege-set/>';

/** Finds the user's calendars; every href the server names must be on the entered origin. */
export async function discoverCaldav(opts: DiscoverOptions): Promise<Result<Discovered, DiscoverFailure>> {
  let start: URL;
  try {
    start = new URL(opts.url);
  } catch {
    return err('refused');
  }
  const t = createTransport({ ...opts, origin: start.origin });
  /** An href resolved against `base`, or the foreign origin it points to. */
  const resolve = (href: string, base: string): Result<string, DiscoverFailure> => {
    let u: URL;
    try {
      u = new URL(href, base);
    } catch {
      return err('malformed');
    }
    return u.origin === start.origin ? ok(u.href) : err({ foreignOrigin: u.origin });
  };
  const resolveAll = (hrefs: readonly string[], base: string): Result<string[], DiscoverFailure> => {
    const out: string[] = [];
    for (const h of hrefs) {
      const r = resolve(h, base);
      if (!r.ok) return r;
      out.push(r.value);
    }
    return ok(out);
  };

  const probeProps = `<d:current-user-principal/><c:calendar-home-set/>${CALENDAR_PROPS}`;
  let probe = await propfind(t, start.href, '0', probeProps);
  const principalOf = (r: DavResult): string | undefined => (r.ok ? hrefsOf(r.value.items[0]?.props['currentUserPrincipal'])[0] : undefined);
  if (!principalOf(probe) && !(probe.ok && hrefsOf(probe.value.items[0]?.props['calendarHomeSet']).length)) {
    if (!probe.ok && probe.error.reason !== 'malformed') {
      // 404/405 etc. mean "not here", anything else (auth, network, policy) is the answer.
      if (probe.error.status === undefined || ![404, 405, 400, 501].includes(probe.error.status)) return err(probe.error.reason);
    }
    const wellKnown = await propfind(t, new URL('/.well-known/caldav', start).href, '0', probeProps);
    if (!wellKnown.ok) return err(wellKnown.error.reason === 'malformed' && !probe.ok ? probe.error.reason : wellKnown.error.reason);
    probe = wellKnown;
  }
  if (!probe.ok) return err(probe.error.reason);
  const base = probe.value.url;
  const first = probe.value.items[0];
  const given = first ? calendarInfoOf(first, base) : null;
  if (given && new URL(given.id).origin !== start.origin) return err({ foreignOrigin: new URL(given.id).origin });
  const probeHomes = resolveAll(hrefsOf(first?.props['calendarHomeSet']), base);
  if (!probeHomes.ok) return probeHomes;
  let homes = probeHomes.value;
  const principalHref = principalOf(probe);
  if (principalHref) {
    const principal = resolve(principalHref, base);
    if (!principal.ok) return principal;
    const p = await propfind(t, principal.value, '0', '<c:calendar-home-set/>');
    if (!p.ok) return err(p.error.reason);
    const found = resolveAll(hrefsOf(p.value.items[0]?.props['calendarHomeSet']), principal.value);
    if (!found.ok) return found;
    if (found.value.length) homes = found.value;
  }
  if (homes.length === 0 && !given) return err('malformed');
  const calendars = new Map<string, CalendarInfo>();
  for (const home of homes) {
    const r = await propfind(t, home, '1', CALENDAR_PROPS);
    if (!r.ok) return err(r.error.reason);
    for (const item of r.value.items) {
      const info = item.status >= 200 && item.status < 300 ? calendarInfoOf(item, home) : null;
      if (!info) continue;
      const origin = new URL(info.id).origin;
      if (origin !== start.origin) return err({ foreignOrigin: origin });
      calendars.set(info.id, info);
    }
  }
  if (given && !calendars.has(given.id)) calendars.set(given.id, given);
  const all = [...calendars.values()];
  let serverSchedules = false;
  const target = all[0]?.id ?? homes[0];
  if (target) {
    const o = await t.request({ method: 'OPTIONS', url: target });
    if (o.ok) serverSchedules = /(^|,)\s*calendar-auto-schedule\s*(,|$)/i.test(o.value.headers['dav'] ?? '');
  }
  return ok({ calendars: all, serverSchedules });
}

/**
 * The account's calendar-user addresses (RFC 6638 calendar-user-address-set of its principal),
 * lower-case, mailto: only; null when they cannot be read or the principal is on another origin
 * (then Creneau invites itself, which never leads to two invitations).
 */
export async function calendarUserAddresses(t: Transport, url: string): Promise<string[] | null> {
  const r = await propfind(t, url, '0', '<d:current-user-principal/>');
  const href = r.ok ? hrefsOf(r.value.items[0]?.props['currentUserPrincipal'])[0] : undefined;
  if (!href) return null;
  let principal: URL;
  try {
    principal = new URL(href, url);
  } catch {
    return null;
  }
  if (principal.origin !== new URL(url).origin) return null;
  const p = await propfind(t, principal.href, '0', '<c:calendar-user-address-set/>');
  if (!p.ok) return null;
  return mailtoAddresses(hrefsOf(p.value.items[0]?.props['calendarUserAddressSet']));
}
