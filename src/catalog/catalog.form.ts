import { LIMITS, validateRules, type ServiceRules, type TimeRange, type Weekday } from '../availability/slots.js';
import { hasLineControl, hasTextControl } from '../lib/text.js';
import { err, ok, type Result } from '../lib/result.js';
import { bodyOf, checked, text, type FieldError } from '../web/forms.js';
import { DAYS, EXTRA_LIMITS, FIELD_MODES, FIELD_NAMES, SLUG_MAX, SLUG_RE, type FieldMode, type ServiceExtras, type ServiceFields, type ServiceRow, type WeeklySchedule } from './catalog.js';
import { checkExtrasForm, extrasValues, readExtrasForm, type ExtrasFormValues } from './extras.form.js';

/**
 * The service editor form: weekly hours as rows of time inputs (`hours[mon][0][from]`),
 * date overrides as rows (`overrides[0][date]`, `overrides[0][closed]`,
 * `overrides[0][1][from]`), everything usable without JavaScript. Reads only the listed
 * fields; per-field checks first, then the slot engine's own validateRules. The hours are
 * the service's own only when `own_hours` is ticked; else it uses the staff member's weekly
 * schedule and the hour rows are not read. An empty slug is made from the title.
 */

export const HOUR_ROWS = 3;
export const OVERRIDE_RANGE_ROWS = 2;
export const BLANK_OVERRIDE_ROWS = 3;
const MAX_OVERRIDE_ROWS = 120;

/** Slugs that would collide with the public URLs under /@username/. */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set(['picture', 'slots', 'book']);

export interface RangeValues {
  readonly from: string;
  readonly to: string;
}

export interface OverrideValues {
  readonly date: string;
  readonly closed: boolean;
  readonly ranges: readonly RangeValues[];
}

/** What the form shows: every value as the user typed it. */
export interface ServiceFormValues {
  readonly title: string;
  readonly slug: string;
  readonly description: string;
  readonly location: string;
  readonly duration: string;
  readonly step: string;
  readonly bufferBefore: string;
  readonly bufferAfter: string;
  readonly notice: string;
  readonly horizon: string;
  readonly dailyCap: string;
  readonly active: boolean;
  readonly fields: ServiceFields;
  /** "Set hours just for this service": the rows below are the service's own, not the schedule. */
  readonly ownHours: boolean;
  readonly hours: Readonly<Record<Weekday, readonly RangeValues[]>>;
  readonly overrides: readonly OverrideValues[];
  /** Questions, reminders, approval, … (extras.form.ts). */
  readonly extras: ExtrasFormValues;
}

/** A checked service, ready to store. */
export interface ServiceDraft extends ServiceExtras {
  readonly title: string;
  readonly slug: string;
  readonly description: string;
  readonly location: string;
  readonly active: boolean;
  readonly rules: ServiceRules;
  readonly fields: ServiceFields;
  readonly usesSchedule: boolean;
}

function pad<T>(list: readonly T[], min: number, blank: T): T[] {
  const out = [...list];
  while (out.length < min) out.push(blank);
  return out;
}

const BLANK_RANGE: RangeValues = { from: '', to: '' };

/** Form values showing a stored (or default) service, with blank rows to add more. */
export function valuesFromService(s: Pick<ServiceRow, 'title' | 'slug' | 'description' | 'location' | 'rules' | 'fields' | 'active' | 'usesSchedule' | keyof ServiceExtras>): ServiceFormValues {
  const r = s.rules;
  const overrides: OverrideValues[] = r.overrides.map((o) => ({
    date: o.date,
    closed: o.hours.length === 0,
    ranges: pad(o.hours.map(([from, to]) => ({ from, to })), OVERRIDE_RANGE_ROWS, BLANK_RANGE),
  }));
  for (let i = 0; i < BLANK_OVERRIDE_ROWS; i++) overrides.push({ date: '', closed: false, ranges: pad([], OVERRIDE_RANGE_ROWS, BLANK_RANGE) });
  return {
    title: s.title,
    slug: s.slug,
    description: s.description,
    location: s.location,
    duration: String(r.durationMinutes),
    step: String(r.stepMinutes),
    bufferBefore: String(r.bufferBeforeMinutes),
    bufferAfter: String(r.bufferAfterMinutes),
    notice: String(r.minimumNoticeMinutes),
    horizon: String(r.horizonDays),
    dailyCap: r.dailyCap === null ? '' : String(r.dailyCap),
    active: s.active,
    fields: s.fields,
    ownHours: !s.usesSchedule,
    hours: hourValues(r.hours),
    overrides,
    extras: extrasValues(s),
  };
}

/** Rows of time inputs showing weekly hours, with blank rows to add more. */
export function hourValues(hours: ServiceRules['hours']): Record<Weekday, RangeValues[]> {
  const out = {} as Record<Weekday, RangeValues[]>;
  for (const d of DAYS) out[d] = pad(hours[d].map(([from, to]) => ({ from, to })), HOUR_ROWS, BLANK_RANGE);
  return out;
}

/** Reads the weekly hour rows `hours[mon][0][from]` … of a urlencoded body. */
export function readHourRows(b: Readonly<Record<string, unknown>>): Record<Weekday, RangeValues[]> {
  const hours = {} as Record<Weekday, RangeValues[]>;
  for (const d of DAYS) {
    const rows: RangeValues[] = [];
    for (let i = 0; i < LIMITS.maxRangesPerDay; i++) {
      if (b[`hours[${d}][${i}][from]`] === undefined && b[`hours[${d}][${i}][to]`] === undefined) continue;
      rows.push(rangeFrom(b, `hours[${d}][${i}]`));
    }
    hours[d] = pad(rows, HOUR_ROWS, BLANK_RANGE);
  }
  return hours;
}

/** Weekly hour rows → ranges, remembering which row each range came from (to point messages at it). */
export function checkHourRows(rows: Readonly<Record<Weekday, readonly RangeValues[]>>, errors: FieldError[]): { hours: Record<Weekday, TimeRange[]>; hourRows: Record<Weekday, number[]> } {
  const hours = {} as Record<Weekday, TimeRange[]>;
  const hourRows = {} as Record<Weekday, number[]>;
  for (const d of DAYS) {
    hours[d] = [];
    hourRows[d] = [];
    rows[d].forEach((row, i) => {
      if (row.from === '' && row.to === '') return;
      if (row.from === '' || row.to === '') {
        errors.push({ field: `hours-${d}-${i}-${row.from === '' ? 'from' : 'to'}`, key: 'admin:services.errors.range_incomplete' });
        return;
      }
      hours[d].push([time(row.from), time(row.to)]);
      hourRows[d].push(i);
    });
  }
  return { hours, hourRows };
}

/** A slug made from a title: "Coupe & brushing" → "coupe-brushing" (empty when nothing is left). */
export function slugFromTitle(title: string): string {
  return title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, SLUG_MAX)
    .replace(/^-+|-+$/g, '');
}

function rangeFrom(b: Readonly<Record<string, unknown>>, prefix: string): RangeValues {
  return { from: text(b, `${prefix}[from]`), to: text(b, `${prefix}[to]`) };
}

/** Reads the editor's fields from a urlencoded body (extended: false, so names stay flat). */
export function readServiceForm(body: unknown): ServiceFormValues {
  const b = bodyOf(body);
  const hours = readHourRows(b);
  const overrides: OverrideValues[] = [];
  for (let i = 0; i < MAX_OVERRIDE_ROWS; i++) {
    if (b[`overrides[${i}][date]`] === undefined) continue;
    const ranges: RangeValues[] = [];
    for (let j = 0; j < OVERRIDE_RANGE_ROWS; j++) ranges.push(rangeFrom(b, `overrides[${i}][${j}]`));
    overrides.push({ date: text(b, `overrides[${i}][date]`), closed: checked(b, `overrides[${i}][closed]`), ranges });
  }
  const extras = readExtrasForm(b);
  const fields: Record<(typeof FIELD_NAMES)[number], FieldMode> & { phone: FieldMode } = { note: 'off', address: 'off', company: 'off', job_title: 'off', conference: 'off', phone: extras.phone };
  for (const f of FIELD_NAMES) {
    const v = text(b, `fields[${f}]`);
    fields[f] = (FIELD_MODES as readonly string[]).includes(v) ? (v as FieldMode) : 'off';
  }
  return {
    title: text(b, 'title').normalize('NFC'),
    slug: text(b, 'slug'),
    description: (typeof b['description'] === 'string' ? b['description'] : '').replace(/\r\n/g, '\n').trim().normalize('NFC'),
    location: text(b, 'location').normalize('NFC'),
    duration: text(b, 'duration'),
    step: text(b, 'step'),
    bufferBefore: text(b, 'buffer_before'),
    bufferAfter: text(b, 'buffer_after'),
    notice: text(b, 'notice'),
    horizon: text(b, 'horizon'),
    dailyCap: text(b, 'daily_cap'),
    active: checked(b, 'active'),
    fields,
    ownHours: checked(b, 'own_hours'),
    hours,
    overrides,
    extras,
  };
}

const TIME_INPUT = /^(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?$/;

/** "09:00" from a time input (which may add seconds); the engine checks the value itself. */
export function time(v: string): string {
  return TIME_INPUT.exec(v)?.[1] ?? v;
}

function int(v: string, field: string, errors: FieldError[], fallback: number): number {
  if (!/^\d{1,7}$/.test(v)) {
    errors.push({ field, key: v === '' ? 'admin:errors.required' : 'admin:errors.whole_number' });
    return fallback;
  }
  return Number(v);
}

const RULE_FIELDS: Readonly<Record<string, string>> = {
  durationMinutes: 'duration',
  stepMinutes: 'step',
  bufferBeforeMinutes: 'buffer_before',
  bufferAfterMinutes: 'buffer_after',
  minimumNoticeMinutes: 'notice',
  horizonDays: 'horizon',
  dailyCap: 'daily_cap',
};

const LIMIT_PARAMS: Readonly<Record<string, readonly [number, number]>> = {
  duration: LIMITS.durationMinutes,
  step: LIMITS.stepMinutes,
  buffer_before: LIMITS.bufferMinutes,
  buffer_after: LIMITS.bufferMinutes,
  notice: LIMITS.minimumNoticeMinutes,
  horizon: LIMITS.horizonDays,
  daily_cap: LIMITS.dailyCap,
};

const TEXT_LIMITS = { title: 120, description: 4000, location: 300 } as const;

/** The editor's length limits, checked here and given to the template's `maxlength`. */
export const SERVICE_LIMITS = { ...TEXT_LIMITS, slug: SLUG_MAX, ...EXTRA_LIMITS } as const;

/**
 * Checks the values; a draft when they are good, else per-field errors (ids of the inputs).
 * `schedule` is the staff member's, which the service follows unless it has its own hours.
 */
export function checkServiceForm(v: ServiceFormValues, timeZone: string, schedule: WeeklySchedule): Result<ServiceDraft, readonly FieldError[]> {
  const errors: FieldError[] = [];
  if (v.title === '') errors.push({ field: 'title', key: 'admin:errors.required' });
  for (const [k, max] of Object.entries(TEXT_LIMITS)) {
    const value = v[k as keyof typeof TEXT_LIMITS];
    if ([...value].length > max) errors.push({ field: k, key: 'admin:errors.too_long', params: { max } });
    // The title and the place go into invitations' subject lines and iCalendar properties.
    else if (k === 'description' ? hasTextControl(value) : hasLineControl(value)) {
      errors.push({ field: k, key: k === 'description' ? 'admin:errors.control_characters_text' : 'admin:errors.control_characters' });
    }
  }
  const slug = v.slug === '' ? slugFromTitle(v.title) : v.slug.normalize('NFKC').toLowerCase();
  if (slug === '') errors.push({ field: 'slug', key: v.title === '' ? 'admin:services.errors.slug_needs_title' : 'admin:errors.required' });
  else if (!SLUG_RE.test(slug)) errors.push({ field: 'slug', key: 'admin:services.errors.slug_format' });
  else if (RESERVED_SLUGS.has(slug)) errors.push({ field: 'slug', key: 'admin:services.errors.slug_reserved' });

  const duration = int(v.duration, 'duration', errors, 30);
  const step = v.step === '' ? duration : int(v.step, 'step', errors, duration);
  const dailyCap = v.dailyCap === '' ? null : int(v.dailyCap, 'daily_cap', errors, 1);

  // The hour rows are read only when the service has its own hours (else they are the schedule's, shown folded).
  const { hours, hourRows } = v.ownHours ? checkHourRows(v.hours, errors) : { hours: schedule.hours, hourRows: noRows() };
  const overrides: { date: string; hours: readonly TimeRange[] }[] = v.ownHours ? [] : [...schedule.overrides];
  const overrideRows: { row: number; ranges: number[] }[] = [];
  if (v.ownHours) v.overrides.forEach((o, i) => {
    const used = o.ranges.map((r, j) => ({ r, j })).filter(({ r }) => r.from !== '' || r.to !== '');
    if (o.date === '') {
      if (o.closed || used.length > 0) errors.push({ field: `override-${i}-date`, key: 'admin:errors.required' });
      return;
    }
    if (!o.closed && used.length === 0) {
      errors.push({ field: `override-${i}-0-from`, key: 'admin:services.errors.override_empty' });
      return;
    }
    const ranges: TimeRange[] = [];
    const rows: number[] = [];
    if (!o.closed) {
      for (const { r, j } of used) {
        if (r.from === '' || r.to === '') {
          errors.push({ field: `override-${i}-${j}-${r.from === '' ? 'from' : 'to'}`, key: 'admin:services.errors.range_incomplete' });
          continue;
        }
        ranges.push([time(r.from), time(r.to)]);
        rows.push(j);
      }
    }
    overrides.push({ date: o.date, hours: ranges });
    overrideRows.push({ row: i, ranges: rows });
  });

  const rules: ServiceRules = {
    durationMinutes: duration,
    stepMinutes: step,
    bufferBeforeMinutes: int(v.bufferBefore === '' ? '0' : v.bufferBefore, 'buffer_before', errors, 0),
    bufferAfterMinutes: int(v.bufferAfter === '' ? '0' : v.bufferAfter, 'buffer_after', errors, 0),
    minimumNoticeMinutes: int(v.notice === '' ? '0' : v.notice, 'notice', errors, 0),
    horizonDays: int(v.horizon === '' ? '60' : v.horizon, 'horizon', errors, 60),
    dailyCap,
    hours,
    overrides,
  };

  for (const e of validateRules(rules, timeZone)) {
    // A range whose end is not after its start is the end's fault (the input the owner changes).
    const field = ruleField(e.code === 'end_before_start' ? `${e.field}.end` : e.field, hourRows, overrideRows);
    errors.push({ field, key: `admin:services.errors.${e.code}`, params: limitParams(field) });
  }
  const extras = checkExtrasForm(v.extras);
  if (!extras.ok) errors.push(...extras.error);
  if (errors.length > 0 || !extras.ok) return err(errors);
  const { phone, ...rest } = extras.value;
  return ok({ title: v.title, slug, description: v.description, location: v.location, active: v.active, rules, fields: { ...v.fields, phone }, usesSchedule: !v.ownHours, ...rest });
}

function noRows(): Record<Weekday, number[]> {
  const rows = {} as Record<Weekday, number[]>;
  for (const d of DAYS) rows[d] = [];
  return rows;
}

function limitParams(field: string): Record<string, number> {
  const l = LIMIT_PARAMS[field];
  return l ? { min: l[0], max: l[1] } : { min: 0, max: 0 };
}

/** Maps the engine's field path ("hours.mon[1].end", "overrides[0].hours[1].start") to an input id. */
export function ruleField(path: string, hourRows: Record<Weekday, number[]>, overrideRows: { row: number; ranges: number[] }[]): string {
  const simple = RULE_FIELDS[path];
  if (simple) return simple;
  const h = /^hours\.(mon|tue|wed|thu|fri|sat|sun)(?:\[(\d+)\](?:\.(start|end))?)?$/.exec(path);
  if (h) {
    const day = h[1] as Weekday;
    const row = h[2] === undefined ? 0 : (hourRows[day][Number(h[2])] ?? 0);
    return `hours-${day}-${row}-${h[3] === 'end' ? 'to' : 'from'}`;
  }
  const o = /^overrides\[(\d+)\](?:\.(date|hours)(?:\[(\d+)\](?:\.(start|end))?)?)?$/.exec(path);
  if (o) {
    const entry = overrideRows[Number(o[1])];
    const row = entry?.row ?? 0;
    if (o[2] !== 'hours') return `override-${row}-date`;
    const j = o[3] === undefined ? 0 : (entry?.ranges[Number(o[3])] ?? 0);
    return `override-${row}-${j}-${o[4] === 'end' ? 'to' : 'from'}`;
  }
  return 'title';
}

/** The {min, max} of a rule by the engine's field path, for messages outside the editor. */
export function ruleLimitParams(path: string): Record<string, number> {
  return limitParams(RULE_FIELDS[path] ?? '');
}
