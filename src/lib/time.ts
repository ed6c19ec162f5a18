import { DateTime, IANAZone } from 'luxon';

/** Small time helpers for the edges (pages, e-mails): UTC instants inside, zones only here. */

const zoneValidity = new Map<string, boolean>();

/** Whether a string is an IANA zone name we can use (memoised: luxon builds a formatter per check). */
export function isZone(tz: string): boolean {
  if (tz.length > 64) return false;
  let ok = zoneValidity.get(tz);
  if (ok === undefined) {
    ok = IANAZone.isValidZone(tz);
    if (zoneValidity.size < 2000) zoneValidity.set(tz, ok);
  }
  return ok;
}

/** Every IANA zone the runtime knows, for zone pickers. */
export function allZones(): string[] {
  return Intl.supportedValuesOf('timeZone');
}

/** YYYY-MM-DD → [local midnight, next local midnight) in the zone, as epoch ms. */
export function dayRange(date: string, tz: string): { start: number; end: number } | null {
  const d = DateTime.fromISO(date, { zone: tz });
  if (!d.isValid || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return null;
  const start = d.startOf('day');
  return { start: start.toMillis(), end: start.plus({ days: 1 }).toMillis() };
}

/** The local date (YYYY-MM-DD) of an instant in a zone. */
export function dateIn(ms: number, tz: string): string {
  return DateTime.fromMillis(ms, { zone: tz }).toISODate() ?? '';
}

/** An instant as ISO 8601 with the zone's offset, as the slots JSON lists it. */
export function isoIn(ms: number, tz: string): string {
  return DateTime.fromMillis(ms, { zone: tz }).toISO({ suppressMilliseconds: true }) ?? '';
}

/** Parses an ISO instant with an explicit offset or Z; null otherwise. */
export function parseInstant(s: string): number | null {
  if (s.length > 40 || !/(Z|[+-]\d{2}:\d{2})$/.test(s)) return null;
  const d = DateTime.fromISO(s, { setZone: true });
  return d.isValid ? d.toMillis() : null;
}

/** "Tuesday 1 December 2026" in the visitor's language. */
export function formatDate(ms: number, tz: string, lang: string): string {
  return DateTime.fromMillis(ms, { zone: tz }).setLocale(lang).toLocaleString({ weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
}

/** "09:30" in the visitor's language. */
export function formatTime(ms: number, tz: string, lang: string): string {
  return DateTime.fromMillis(ms, { zone: tz }).setLocale(lang).toLocaleString(DateTime.TIME_SIMPLE);
}

/** Short weekday + day for the day picker: "Tue 1". */
export function formatDayShort(date: string, tz: string, lang: string): { weekday: string; day: string; month: string } {
  const d = DateTime.fromISO(date, { zone: tz }).setLocale(lang);
  return { weekday: d.toFormat('ccc'), day: d.toFormat('d'), month: d.toFormat('LLL') };
}

/** Adds whole days to a YYYY-MM-DD date. */
export function addDays(date: string, days: number): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days }).toISODate() ?? date;
}

/** The zone's name for display next to times, e.g. "Europe/Paris (UTC+01:00)". */
export function zoneLabel(tz: string, at: number): string {
  return `${tz.replace(/_/g, ' ')} (UTC${DateTime.fromMillis(at, { zone: tz }).toFormat('ZZ')})`;
}
