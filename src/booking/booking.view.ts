import type { StaffRow } from '../accounts/accounts.repo.js';
import { FIELD_NAMES, type ServiceRow } from '../catalog/catalog.js';
import type { Interval } from '../lib/interval.js';
import { addDays, allZones, dateIn, dayRange, formatDate, formatDayShort, formatTime, isoIn, zoneLabel } from '../lib/time.js';
import type { FormErrors } from './booking.form.js';
import { answerName } from './questions.js';
import type { ManagedBooking } from './booking.service.js';

/**
 * The client's pages as view models: pure functions from what the handler read (staff,
 * service, offered slots, the visitor's zone and language) to what the templates lay out.
 */

/** Days shown at once by the picker. */
export const DAY_WINDOW = 14;

/** The days the picker shows: from `from` (clamped to today … the horizon) for DAY_WINDOW days. */
export interface PickerWindow {
  readonly today: string;
  readonly lastDay: string;
  readonly from: string;
  readonly to: string;
  /** The instants those days cover in the visitor's zone (null for a date the zone cannot place). */
  readonly range: Interval | null;
}

/** Which days the picker shows for a requested `from` date. */
export function pickerWindow(fromParam: unknown, tz: string, now: number, horizonDays: number): PickerWindow {
  const today = dateIn(now, tz);
  const lastDay = dateIn(now + horizonDays * 86_400_000, tz);
  let from = typeof fromParam === 'string' && dayRange(fromParam, tz) ? fromParam : today;
  if (from < today) from = today;
  if (from > lastDay) from = lastDay;
  const to = addDays(from, DAY_WINDOW - 1);
  const first = dayRange(from, tz);
  const last = dayRange(to, tz);
  return { today, lastDay, from, to, range: first && last ? { start: first.start, end: last.end } : null };
}

export interface PickerFacts {
  readonly staff: StaffRow;
  readonly service: ServiceRow;
  readonly tz: string;
  readonly lang: string;
  readonly now: number;
  readonly window: PickerWindow;
  /** The offered slots in the window, or null when the calendar could not be read. */
  readonly slots: readonly number[] | null;
  readonly connected: boolean;
  /** The day asked for (`?date=`), if any. */
  readonly date: unknown;
  /** Whether the visitor asked for the whole zone list (`?zones=all`). */
  readonly allZones: boolean;
  /** Set when the picker reschedules a booking. */
  readonly manageToken: string | null;
  readonly notice: string | null;
  /** Other free times offered after a slot was taken. */
  readonly taken: readonly number[];
}

/** Groups slots by the visitor's days using each day's bounds (one zone computation per day, not per slot). */
function slotsByDay(days: readonly string[], slots: readonly number[], tz: string): Map<string, number[]> {
  const bounds = days.map((d) => dayRange(d, tz) ?? { start: 0, end: 0 });
  const byDay = new Map<string, number[]>();
  let i = 0;
  for (const s of slots) {
    while (i < bounds.length && s >= (bounds[i] as Interval).end) i++;
    const day = days[i];
    if (day === undefined) break;
    if (s >= (bounds[i] as Interval).start) byDay.set(day, [...(byDay.get(day) ?? []), s]);
  }
  return byDay;
}

/** The day picker and the chosen day's slots (also the 409 and "unavailable" pages). */
export function pickerModel(f: PickerFacts) {
  const { staff, service, tz, lang, now, window: w } = f;
  const windowDays = Array.from({ length: DAY_WINDOW }, (_, i) => addDays(w.from, i));
  const byDay = slotsByDay(windowDays, f.slots ?? [], tz);
  const requested = typeof f.date === 'string' && dayRange(f.date, tz) ? f.date : undefined;
  const selected = requested ?? windowDays.find((d) => byDay.has(d)) ?? w.from;
  return {
    title: service.title,
    person: staff,
    service,
    tz,
    // The whole zone list only on request: tz.js fills it from the browser's own list, which
    // keeps the page small (the full list is two thirds of it).
    zones: f.allZones ? allZones() : [...new Set([tz, staff.timeZone])],
    allZones: f.allZones,
    zoneLabel: zoneLabel(tz, now),
    days: windowDays.map((d) => ({ date: d, ...formatDayShort(d, tz, lang), count: byDay.get(d)?.length ?? 0, selected: d === selected })),
    selected,
    selectedLabel: formatDate(dayRange(selected, tz)?.start ?? now, tz, lang),
    slots: (byDay.get(selected) ?? []).map((s) => ({ iso: isoIn(s, tz), label: formatTime(s, tz, lang) })),
    available: f.slots !== null,
    connected: f.connected,
    basePath: f.manageToken !== null ? `/b/${f.manageToken}/reschedule` : `/@${staff.username}/${service.slug}`,
    prevFrom: w.from > w.today ? (addDays(w.from, -DAY_WINDOW) < w.today ? w.today : addDays(w.from, -DAY_WINDOW)) : null,
    nextFrom: w.to < w.lastDay ? addDays(w.from, DAY_WINDOW) : null,
    manage: f.manageToken !== null ? { token: f.manageToken } : null,
    notice: f.notice,
    taken: f.taken.map((s) => ({ iso: isoIn(s, tz), label: `${formatDate(s, tz, lang)} ${formatTime(s, tz, lang)}`, date: dateIn(s, tz) })),
    scripts: ['js/tz.js'],
  };
}

export interface FormFacts {
  readonly staff: StaffRow;
  readonly service: ServiceRow;
  readonly start: number;
  readonly tz: string;
  readonly lang: string;
  readonly formToken: string;
  readonly values: Readonly<Record<string, string>>;
  readonly errors: FormErrors;
  /** Why the form is shown again (slot taken, limit reached), as an i18n key. */
  readonly notice?: string;
  /** Values the notice's text interpolates (e.g. the minutes before a retry). */
  readonly noticeParams?: Readonly<Record<string, unknown>>;
  /** Other free times offered when the chosen one was taken (the form posts one of them). */
  readonly alternatives?: readonly number[];
}

/** The client's details form for one chosen slot. */
export function bookingFormModel(f: FormFacts) {
  const { staff, service, start, tz, lang } = f;
  const questionLabels = new Map(service.questions.map((q) => [answerName(q), q.label]));
  return {
    title: service.title,
    person: staff,
    service,
    tz,
    start: isoIn(start, tz),
    when: `${formatDate(start, tz, lang)}, ${formatTime(start, tz, lang)}`,
    zoneLabel: zoneLabel(tz, start),
    formToken: f.formToken,
    values: f.values,
    errors: f.errors,
    errorList: Object.entries(f.errors).map(([field, key]) => ({ field, key, label: questionLabels.get(field) ?? null })),
    phone: service.fields.phone,
    fields: FIELD_NAMES.filter((n) => service.fields[n] !== 'off').map((n) => ({ name: n, required: service.fields[n] === 'required', multiline: n === 'note' || n === 'address' })),
    questions: service.questions.map((q) => ({ ...q, name: answerName(q) })),
    notice: f.notice ?? null,
    noticeParams: f.noticeParams ?? {},
    alternatives: (f.alternatives ?? []).map((s, i) => ({ iso: isoIn(s, tz), label: `${formatDate(s, tz, lang)}, ${formatTime(s, tz, lang)}`, checked: i === 0 })),
    backHref: `/@${staff.username}/${service.slug}?date=${dateIn(start, tz)}&tz=${encodeURIComponent(tz)}`,
  };
}

/** The manage page (and the cancel confirmation) of one booking. */
export function manageModel(b: ManagedBooking, m: { readonly title: string; readonly tz: string; readonly lang: string; readonly now: number; readonly baseUrl: string }) {
  const { tz, lang } = m;
  const e = b.event;
  return {
    title: m.title,
    person: b.staff,
    token: b.token,
    tz,
    serviceTitle: b.service?.title ?? e.summary,
    when: `${formatDate(e.start, tz, lang)}, ${formatTime(e.start, tz, lang)} – ${formatTime(e.end, tz, lang)}`,
    zoneLabel: zoneLabel(tz, e.start),
    location: e.location,
    attendee: e.attendee,
    past: e.start <= m.now,
    canReschedule: b.service !== undefined && b.service.active,
    manageUrl: `${m.baseUrl}b/${b.token}`,
    rescheduleUrl: `${m.baseUrl}b/${b.token}/reschedule`,
  };
}
