import type { Config } from '../config.js';
import { connectionSecretAad } from '../crypto/key.repo.js';
import type { Keyring } from '../crypto/keyring.js';
import { open, seal } from '../crypto/seal.js';
import type { Db } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { findStaffById } from '../accounts/accounts.repo.js';
import { sharedBusyPool } from './busy-pool.js';
import { createCaldavProvider, discoverCaldav } from './caldav/caldav.js';
import { authRefused, probeCaldav, type Finding } from './caldav/probe.js';
import { deleteConnection, findConnection, listConnections, replaceConnection, setStatus, updateCalendars, type ConnectionRow } from './connection.repo.js';
import { createGoogleProvider } from './google/google.js';
import { googleEndpoints, revokeToken } from './google/oauth.js';
import type { CalendarFailure, CalendarInfo, CalendarProvider } from './provider.js';
import { err, ok } from '../lib/result.js';
import type { Result } from '../lib/result.js';

export type { Finding } from './caldav/probe.js';
export { authRefused };

/**
 * Calendar connections: connect (CalDAV form, Google OAuth, CLI import), choose calendars,
 * disconnect-and-forget, and one live provider per connection kept in memory (its token cache
 * and ETag view survive between requests; nothing of the calendar is ever written to disk).
 */

export interface CalendarEnv {
  readonly config: Config;
  readonly db: Db;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface Connected {
  readonly connection: ConnectionRow;
  readonly provider: CalendarProvider;
}

/** Why connecting failed, as an i18n-able code (one uniform "could not connect" for refusals). */
export type ConnectFailure = CalendarFailure | 'no_writable_calendar' | 'unknown_calendar' | 'foreign_origin';

/** A failed connection: its code, and for `foreign_origin` the origin the server pointed to. */
export interface ConnectError {
  readonly code: ConnectFailure;
  readonly origin?: string;
}

const failure = (code: ConnectFailure): { readonly ok: false; readonly error: ConnectError } => err({ code });

export class CalendarDirectory {
  private readonly providers = new Map<number, { updatedAt: number; timeZone: string; provider: CalendarProvider }>();

  constructor(private readonly env: CalendarEnv) {}

  /** The staff member's connection and its provider (working in their time zone), or null when none is connected. */
  async forStaff(staffId: number, timeZone: string): Promise<Connected | null> {
    const connection = await findConnection(this.env.db, staffId);
    return connection ? { connection, provider: this.provider(connection, timeZone) } : null;
  }

  /** Every connection (to find which one a booking token belongs to). */
  async all(): Promise<ConnectionRow[]> {
    return listConnections(this.env.db);
  }

  /** The live provider for a connection, rebuilt when the row or the staff time zone changed. */
  provider(connection: ConnectionRow, timeZone: string): CalendarProvider {
    const cached = this.providers.get(connection.id);
    if (cached && cached.updatedAt === connection.updatedAt && cached.timeZone === timeZone) return cached.provider;
    const secret = open(this.env.keyring, connection.secretSealed, connectionSecretAad(connection.id));
    const conflicts = withBooking(connection.bookingCalendar, connection.conflictCalendars);
    const provider = connection.provider === 'caldav' ? this.caldav(connection, secret, conflicts, timeZone) : this.google(connection, secret, conflicts, timeZone);
    this.providers.set(connection.id, { updatedAt: connection.updatedAt, timeZone, provider });
    return provider;
  }

  private caldav(connection: ConnectionRow, password: string, conflicts: readonly string[], timeZone: string): CalendarProvider {
    return createCaldavProvider({
      username: connection.username,
      password,
      bookingCalendarUrl: connection.bookingCalendar,
      conflictCalendarUrls: conflicts,
      allowHosts: this.env.config.caldavAllowHosts,
      uidHost: this.env.config.baseUrl.hostname,
      serverSchedules: connection.serverSchedules,
      // Credentials go only to the origin the staff member entered (older rows: the booking calendar's).
      origin: new URL(connection.url ?? connection.bookingCalendar).origin,
      timeZone,
      clock: this.env.clock,
    });
  }

  private google(connection: ConnectionRow, refreshToken: string, conflicts: readonly string[], timeZone: string): CalendarProvider {
    const g = this.env.config.google;
    if (!g) return unavailableProvider('google');
    return createGoogleProvider({
      endpoints: googleEndpoints(g.oauthUrl ?? undefined, g.apiUrl ?? undefined),
      clientId: g.clientId,
      clientSecret: g.clientSecret,
      refreshToken,
      bookingCalendarId: connection.bookingCalendar,
      conflictCalendarIds: conflicts,
      clock: this.env.clock,
      timeZone,
      onNeedsReconnect: () => {
        this.providers.delete(connection.id);
        setStatus(this.env.db, connection.id, 'needs_reconnect', this.env.clock.now()).catch((err: unknown) => this.env.log.error(err, 'calendars.needs_reconnect'));
      },
    });
  }

  /** Discovers a CalDAV account and stores it (password sealed); the first writable calendar receives bookings. */
  async connectCaldav(
    staffId: number,
    input: { url: string; username: string; password: string; booking?: string; conflicts?: readonly string[] },
  ): Promise<Result<CalendarInfo[], ConnectError>> {
    const prepared = await this.prepareCaldav(input);
    if (!prepared.ok) return prepared;
    await prepared.value.save(staffId);
    return ok(prepared.value.calendars);
  }

  /**
   * Discovery and calendar choice without writing anything, then a `save` step: `creneau import`
   * talks to the server first and writes the connection only once everything else succeeded.
   */
  async prepareCaldav(input: {
    url: string;
    username: string;
    password: string;
    booking?: string;
    conflicts?: readonly string[];
  }): Promise<Result<{ calendars: CalendarInfo[]; save: (staffId: number, db?: Db) => Promise<void> }, ConnectError>> {
    const found = await discoverCaldav({ url: input.url, username: input.username, password: input.password, allowHosts: this.env.config.caldavAllowHosts });
    if (!found.ok) return err(typeof found.error === 'string' ? { code: found.error } : { code: 'foreign_origin', origin: found.error.foreignOrigin });
    const calendars = found.value.calendars;
    const chosen = resolveChoice(calendars, input.booking, input.conflicts);
    if (!chosen.ok) return failure(chosen.error);
    const save = async (staffId: number, db: Db = this.env.db) => {
      await replaceConnection(
        db,
        {
          staffId,
          provider: 'caldav',
          url: input.url,
          username: input.username,
          bookingCalendar: chosen.value.booking,
          conflictCalendars: chosen.value.conflicts,
          serverSchedules: found.value.serverSchedules,
        },
        (id) => seal(this.env.keyring, input.password, connectionSecretAad(id)),
        this.env.clock.now(),
      );
    };
    return ok({ calendars, save });
  }

  /** Stores a Google connection after OAuth (refresh token sealed), booking into a chosen or the primary calendar. */
  async connectGoogle(
    staffId: number,
    input: { refreshToken: string; email: string; booking?: string; conflicts?: readonly string[] },
  ): Promise<Result<CalendarInfo[], ConnectError>> {
    const g = this.env.config.google;
    if (!g) return failure('refused');
    const probe = createGoogleProvider({
      endpoints: googleEndpoints(g.oauthUrl ?? undefined, g.apiUrl ?? undefined),
      clientId: g.clientId,
      clientSecret: g.clientSecret,
      refreshToken: input.refreshToken,
      bookingCalendarId: 'primary',
      conflictCalendarIds: [],
      clock: this.env.clock,
    });
    const listed = await probe.listCalendars();
    if (!listed.ok) return failure(listed.error);
    const chosen = resolveChoice(listed.value, input.booking, input.conflicts);
    if (!chosen.ok) return failure(chosen.error);
    await replaceConnection(
      this.env.db,
      { staffId, provider: 'google', url: null, username: input.email, bookingCalendar: chosen.value.booking, conflictCalendars: chosen.value.conflicts, serverSchedules: true },
      (id) => seal(this.env.keyring, input.refreshToken, connectionSecretAad(id)),
      this.env.clock.now(),
    );
    return ok(listed.value);
  }

  /** Sets which calendar receives bookings and which count as busy (names or ids). */
  async chooseCalendars(staffId: number, timeZone: string, booking: string, conflicts: readonly string[]): Promise<Result<null, ConnectError>> {
    const c = await this.forStaff(staffId, timeZone);
    if (!c) return failure('unknown_calendar');
    const listed = await c.provider.listCalendars();
    if (!listed.ok) return failure(listed.error);
    const chosen = resolveChoice(listed.value, booking, conflicts);
    if (!chosen.ok) return failure(chosen.error);
    await updateCalendars(this.env.db, c.connection.id, chosen.value.booking, chosen.value.conflicts, this.env.clock.now());
    return ok(null);
  }

  /**
   * The connection check (issue #14.5): findings to show the staff member, or null when nothing
   * is connected. `write`: they agreed to a test event being written and removed (CalDAV).
   */
  async check(staffId: number, timeZone: string, write: boolean): Promise<Finding[] | null> {
    const connection = await findConnection(this.env.db, staffId);
    if (!connection) return null;
    const email = (await findStaffById(this.env.db, staffId))?.email ?? '';
    if (connection.provider === 'caldav') {
      return probeCaldav({
        url: connection.url ?? connection.bookingCalendar,
        username: connection.username,
        password: open(this.env.keyring, connection.secretSealed, connectionSecretAad(connection.id)),
        allowHosts: this.env.config.caldavAllowHosts,
        bookingCalendar: connection.bookingCalendar,
        conflictCalendars: connection.conflictCalendars,
        organizerEmail: email,
        timeZone,
        uidHost: this.env.config.baseUrl.hostname,
        write,
        engine: sharedBusyPool(),
        now: this.env.clock.now(),
      });
    }
    return checkProvider(this.provider(connection, timeZone), connection, this.env.clock.now());
  }

  /** Disconnect and forget: revoke at Google when it is Google, then delete the row and its secret. */
  async disconnect(staffId: number): Promise<void> {
    const connection = await findConnection(this.env.db, staffId);
    if (!connection) return;
    const g = this.env.config.google;
    if (connection.provider === 'google' && g) {
      const token = open(this.env.keyring, connection.secretSealed, connectionSecretAad(connection.id));
      // Best effort: the token is forgotten here whatever Google answers.
      await revokeToken({ revokeUrl: googleEndpoints(g.oauthUrl ?? undefined, g.apiUrl ?? undefined).revokeUrl, token }).catch(() => undefined);
    }
    this.providers.delete(connection.id);
    await deleteConnection(this.env.db, staffId);
  }
}

/** The check of a provider without a probe of its own (Google): password, calendars, busy read, invitations. */
async function checkProvider(provider: CalendarProvider, connection: ConnectionRow, now: number): Promise<Finding[]> {
  const listed = await provider.listCalendars();
  if (!listed.ok) return [listed.error === 'unauthorized' || listed.error === 'needs_reconnect' ? { key: 'access_revoked', level: 'error' } : { key: `failure_${listed.error}`, level: 'error' }];
  const findings: Finding[] = [{ key: 'access_ok', level: 'ok', params: { n: String(listed.value.length) } }];
  const target = listed.value.find((c) => c.id === connection.bookingCalendar);
  if (!target) findings.push({ key: 'booking_missing', level: 'error', params: { calendar: connection.bookingCalendar } });
  else findings.push(target.writable ? { key: 'writable', level: 'ok', params: { calendar: target.name } } : { key: 'read_only', level: 'error', params: { calendar: target.name } });
  findings.push(provider.serverSchedules ? { key: 'server_invites', level: 'ok' } : { key: 'creneau_invites', level: 'ok' });
  const days = 60;
  const busy = await provider.busy({ start: now, end: now + days * 86_400_000 });
  findings.push(busy.ok ? { key: 'busy_read', level: 'ok', params: { days: String(days) } } : { key: 'calendar_unreadable', level: 'error', params: { calendar: target?.name ?? '', reason: busy.error } });
  return findings;
}

/** The booking calendar always counts as busy, whatever else was chosen. */
function withBooking(booking: string, conflicts: readonly string[]): string[] {
  return conflicts.includes(booking) ? [...conflicts] : [booking, ...conflicts];
}

/** Resolves calendar names or ids against the account's calendars. */
function resolveChoice(
  calendars: readonly CalendarInfo[],
  booking: string | undefined,
  conflicts: readonly string[] | undefined,
): Result<{ booking: string; conflicts: string[] }, ConnectFailure> {
  const find = (ref: string) => calendars.find((c) => c.id === ref || c.name === ref);
  let target: CalendarInfo | undefined;
  if (booking !== undefined && booking !== '') {
    target = find(booking);
    if (!target) return err('unknown_calendar');
    if (!target.writable) return err('no_writable_calendar');
  } else {
    target = calendars.find((c) => c.writable && c.primary) ?? calendars.find((c) => c.writable);
    if (!target) return err('no_writable_calendar');
  }
  const ids: string[] = [];
  for (const ref of conflicts ?? []) {
    const c = find(ref);
    if (!c) return err('unknown_calendar');
    ids.push(c.id);
  }
  return ok({ booking: target.id, conflicts: withBooking(target.id, ids) });
}

/** A provider that fails closed (Google connection while Google is no longer configured). */
function unavailableProvider(kind: 'caldav' | 'google'): CalendarProvider {
  const fail = async () => err('unauthorized' as const);
  return { kind, serverSchedules: false, excludesFromBusy: false, listCalendars: fail, busy: fail, bookings: fail, upcoming: fail, createEvent: fail, getEvent: fail, moveEvent: fail, markReminded: fail, confirmEvent: fail, cancelEvent: fail };
}
