import type { Generated } from 'kysely';

/** One calendar connection per staff member; credentials sealed (crypto/seal.ts). */
export interface CalendarConnectionTable {
  id: Generated<number>;
  staff_id: number;
  provider: 'caldav' | 'google';
  /** CalDAV: the URL given; Google: null. */
  url: string | null;
  /** CalDAV username or the Google account e-mail, for display. */
  username: string;
  /** Sealed CalDAV password or Google refresh token (AAD "calendar_connections:<id>:secret"). */
  secret_sealed: string;
  booking_calendar: string;
  /** JSON array of calendar ids/URLs that count as busy. */
  conflict_calendars: string;
  status: 'ok' | 'needs_reconnect';
  server_schedules: number;
  created_at: number;
  updated_at: number;
}
