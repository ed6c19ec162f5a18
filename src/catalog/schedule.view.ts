import { addDays, formatDateOnly, formatMonth, weekdayIndex, weekdayNames } from '../lib/time.js';
import type { ServiceRules } from '../availability/slots.js';

/**
 * The small month calendar of the schedule page: every day a link that puts its date in the
 * special-day form (`?month=…&date=…#day-date`), the special days marked. Pure: the caller
 * gives today's date in the staff member's zone.
 */

const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;
const DATE_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

export interface CalendarDay {
  readonly date: string;
  readonly day: number;
  readonly href: string;
  readonly label: string;
  readonly today: boolean;
  readonly chosen: boolean;
  /** 'closed', 'hours' (other hours) or '' for an ordinary day. */
  readonly special: '' | 'closed' | 'hours';
}

export interface ScheduleMonth {
  readonly month: string;
  readonly label: string;
  readonly weekdays: readonly { readonly short: string; readonly long: string }[];
  readonly weeks: readonly (readonly (CalendarDay | null)[])[];
  readonly prevHref: string;
  readonly prevLabel: string;
  readonly nextHref: string;
  readonly nextLabel: string;
}

function shiftMonth(month: string, by: 1 | -1): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const d = new Date(Date.UTC(y, m - 1 + by, 1));
  return d.toISOString().slice(0, 7);
}

/** A real YYYY-MM-DD date or undefined. */
export function validDate(v: unknown): string | undefined {
  if (typeof v !== 'string' || !DATE_RE.test(v)) return undefined;
  const ms = Date.parse(`${v}T12:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === v ? v : undefined;
}

/** The month asked for (`?month=`), else the month of the chosen date, else today's. */
export function monthOf(query: { month?: unknown; date?: unknown }, today: string): string {
  if (typeof query.month === 'string' && MONTH_RE.test(query.month)) return query.month;
  return (validDate(query.date) ?? today).slice(0, 7);
}

/** The month grid (Monday first) with the special days of `overrides` marked. */
export function scheduleMonth(month: string, today: string, chosen: string, overrides: ServiceRules['overrides'], lang: string): ScheduleMonth {
  const special = new Map(overrides.map((o) => [o.date, o.hours.length === 0 ? ('closed' as const) : ('hours' as const)]));
  const first = `${month}-01`;
  const cells: (CalendarDay | null)[] = Array.from({ length: weekdayIndex(first) }, () => null);
  for (let d = first; d.startsWith(month); d = addDays(d, 1)) {
    cells.push({
      date: d,
      day: Number(d.slice(8)),
      href: `/admin/schedule?month=${month}&date=${d}#day-date`,
      label: formatDateOnly(d, lang),
      today: d === today,
      chosen: d === chosen,
      special: special.get(d) ?? '',
    });
  }
  while (cells.length % 7 !== 0) cells.push(null);
  const prev = shiftMonth(month, -1);
  const next = shiftMonth(month, 1);
  return {
    month,
    label: formatMonth(month, lang),
    weekdays: weekdayNames(lang),
    weeks: Array.from({ length: cells.length / 7 }, (_, i) => cells.slice(i * 7, i * 7 + 7)),
    prevHref: `/admin/schedule?month=${prev}#calendar`,
    prevLabel: formatMonth(prev, lang),
    nextHref: `/admin/schedule?month=${next}#calendar`,
    nextLabel: formatMonth(next, lang),
  };
}
