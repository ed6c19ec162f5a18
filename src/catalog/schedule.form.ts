import { validateRules, type TimeRange, type Weekday } from '../availability/slots.js';
import { err, ok, type Result } from '../lib/result.js';
import { bodyOf, checked, text, type FieldError } from '../web/forms.js';
import { defaultRules, MAX_OVERRIDES, type WeeklySchedule } from './catalog.js';
import { checkHourRows, readHourRows, ruleField, time, type RangeValues } from './catalog.form.js';

/**
 * The staff schedule's two forms: the weekly hours (rows `hours[mon][0][from]`, as in the
 * service editor) and one special day (`date`, `closed`, `day[0][from]` … two ranges). Both
 * are checked by the slot engine's validateRules in the staff member's zone; messages point
 * at the input ids (`hours-mon-0-to`, `day-date`, `day-1-from`).
 */

export const SPECIAL_DAY_ROWS = 2;

export interface SpecialDayValues {
  readonly date: string;
  readonly closed: boolean;
  readonly ranges: readonly RangeValues[];
}

export function blankSpecialDay(date = ''): SpecialDayValues {
  return { date, closed: false, ranges: Array.from({ length: SPECIAL_DAY_ROWS }, () => ({ from: '', to: '' })) };
}

/** Reads the weekly hour rows of the schedule form. */
export function readWeeklyForm(body: unknown): Record<Weekday, RangeValues[]> {
  return readHourRows(bodyOf(body));
}

/** Reads the special-day form. */
export function readSpecialDayForm(body: unknown): SpecialDayValues {
  const b = bodyOf(body);
  return {
    date: text(b, 'date'),
    closed: checked(b, 'closed'),
    ranges: Array.from({ length: SPECIAL_DAY_ROWS }, (_, j) => ({ from: text(b, `day[${j}][from]`), to: text(b, `day[${j}][to]`) })),
  };
}


/** Checks new weekly hours; the special days are kept as they are. */
export function checkWeeklyForm(rows: Readonly<Record<Weekday, readonly RangeValues[]>>, current: WeeklySchedule, timeZone: string): Result<WeeklySchedule, readonly FieldError[]> {
  const errors: FieldError[] = [];
  const { hours, hourRows } = checkHourRows(rows, errors);
  for (const e of validateRules({ ...defaultRules(), hours, overrides: [] }, timeZone)) {
    const field = ruleField(e.code === 'end_before_start' ? `${e.field}.end` : e.field, hourRows, []);
    errors.push({ field, key: `admin:services.errors.${e.code}` });
  }
  return errors.length > 0 ? err(errors) : ok({ hours, overrides: current.overrides });
}

/**
 * Adds a special day to the schedule (replacing one on the same date); days stay in date order.
 * `today` is the staff member's date: a day before it is refused, and the days already past are
 * dropped (they change no slot, and would count against MAX_OVERRIDES for ever).
 */
export function checkSpecialDayForm(v: SpecialDayValues, current: WeeklySchedule, timeZone: string, today: string): Result<WeeklySchedule, readonly FieldError[]> {
  const errors: FieldError[] = [];
  if (v.date === '') errors.push({ field: 'day-date', key: 'admin:errors.required' });
  else if (/^\d{4}-\d{2}-\d{2}$/.test(v.date) && v.date < today) errors.push({ field: 'day-date', key: 'admin:schedule.errors.past_day' });
  const used = v.ranges.map((r, j) => ({ r, j })).filter(({ r }) => r.from !== '' || r.to !== '');
  const ranges: TimeRange[] = [];
  const rows: number[] = [];
  if (!v.closed) {
    if (used.length === 0) errors.push({ field: 'day-0-from', key: 'admin:services.errors.override_empty' });
    for (const { r, j } of used) {
      if (r.from === '' || r.to === '') {
        errors.push({ field: `day-${j}-${r.from === '' ? 'from' : 'to'}`, key: 'admin:services.errors.range_incomplete' });
        continue;
      }
      ranges.push([time(r.from), time(r.to)]);
      rows.push(j);
    }
  }
  if (errors.length > 0) return err(errors);
  const others = current.overrides.filter((o) => o.date !== v.date && o.date >= today);
  if (others.length >= MAX_OVERRIDES) return err([{ field: 'day-date', key: 'admin:schedule.errors.too_many_days', params: { max: MAX_OVERRIDES } }]);
  for (const e of validateRules({ ...defaultRules(), overrides: [{ date: v.date, hours: ranges }] }, timeZone)) {
    const m = /^overrides\[0\]\.hours\[(\d+)\](?:\.(start|end))?/.exec(e.code === 'end_before_start' ? `${e.field}.end` : e.field);
    const field = m ? `day-${rows[Number(m[1])] ?? 0}-${m[2] === 'end' ? 'to' : 'from'}` : 'day-date';
    errors.push({ field, key: `admin:services.errors.${e.code}` });
  }
  if (errors.length > 0) return err(errors);
  const overrides = [...others, { date: v.date, hours: ranges }].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return ok({ hours: current.hours, overrides });
}
