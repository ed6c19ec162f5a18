import type { Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import type { CalendarConnectionTable } from './connection.table.js';

/** SQL for calendar connections (one per staff member). */

export interface ConnectionRow {
  readonly id: number;
  readonly staffId: number;
  readonly provider: 'caldav' | 'google';
  readonly url: string | null;
  readonly username: string;
  readonly secretSealed: string;
  readonly bookingCalendar: string;
  readonly conflictCalendars: readonly string[];
  readonly status: 'ok' | 'needs_reconnect';
  readonly serverSchedules: boolean;
  readonly updatedAt: number;
}

function parseList(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** The staff member's connection, if any. */
export async function findConnection(db: Db, staffId: number): Promise<ConnectionRow | undefined> {
  const r = await db.selectFrom('calendar_connections').selectAll().where('staff_id', '=', staffId).executeTakeFirst();
  return r ? toRow(r) : undefined;
}

/** Every connection (booking tokens are checked against each). */
export async function listConnections(db: Db): Promise<ConnectionRow[]> {
  const rows = await db.selectFrom('calendar_connections').selectAll().orderBy('id').execute();
  return rows.map(toRow);
}

function toRow(r: Selectable<CalendarConnectionTable>): ConnectionRow {
  return {
    id: r.id,
    staffId: r.staff_id,
    provider: r.provider,
    url: r.url,
    username: r.username,
    secretSealed: r.secret_sealed,
    bookingCalendar: r.booking_calendar,
    conflictCalendars: parseList(r.conflict_calendars),
    status: r.status,
    serverSchedules: r.server_schedules === 1,
    updatedAt: r.updated_at,
  };
}

export interface ConnectionInsert {
  readonly staffId: number;
  readonly provider: 'caldav' | 'google';
  readonly url: string | null;
  readonly username: string;
  readonly bookingCalendar: string;
  readonly conflictCalendars: readonly string[];
  readonly serverSchedules: boolean;
}

/**
 * Replaces the staff member's connection in one transaction: the row is inserted, then its
 * secret sealed with the row id as associated data (`seal` is called with the new id).
 */
export async function replaceConnection(db: Db, c: ConnectionInsert, sealFor: (id: number) => string, now: number): Promise<number> {
  const run = async (trx: Db): Promise<number> => {
    await trx.deleteFrom('calendar_connections').where('staff_id', '=', c.staffId).execute();
    const inserted = await trx
      .insertInto('calendar_connections')
      .values({
        staff_id: c.staffId,
        provider: c.provider,
        url: c.url,
        username: c.username,
        secret_sealed: 'pending',
        booking_calendar: c.bookingCalendar,
        conflict_calendars: JSON.stringify(c.conflictCalendars),
        status: 'ok',
        server_schedules: c.serverSchedules ? 1 : 0,
        created_at: now,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.updateTable('calendar_connections').set({ secret_sealed: sealFor(inserted.id) }).where('id', '=', inserted.id).execute();
    return inserted.id;
  };
  // Inside a caller's transaction (creneau import) or in one of its own.
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/** Sets the booking and conflict calendars. */
export async function updateCalendars(db: Db, id: number, booking: string, conflicts: readonly string[], now: number): Promise<void> {
  await db
    .updateTable('calendar_connections')
    .set({ booking_calendar: booking, conflict_calendars: JSON.stringify(conflicts), updated_at: now })
    .where('id', '=', id)
    .execute();
}

/** Marks a connection as needing the staff member to reconnect (e.g. Google invalid_grant). */
export async function setStatus(db: Db, id: number, status: 'ok' | 'needs_reconnect', now: number): Promise<void> {
  await db.updateTable('calendar_connections').set({ status, updated_at: now }).where('id', '=', id).execute();
}

/** Forgets a connection (its sealed secret goes with it; secure_delete overwrites it). */
export async function deleteConnection(db: Db, staffId: number): Promise<void> {
  await db.deleteFrom('calendar_connections').where('staff_id', '=', staffId).execute();
}
