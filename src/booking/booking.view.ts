import type { StaffRow } from '../accounts/accounts.repo.js';
import { FIELD_NAMES, type ServiceRow } from '../catalog/catalog.js';
import type { Interval } from '../lib/interval.js';
import { addDays, allZones, dateIn, dayRange, formatDate, formatDateOnly, formatMonth, formatTime, friendlyZone, hourCycleOf, isoIn, parseInstant, weekdayIndex, weekdayNames, zoneLabel, utcStamp, type HourCycle } from '../lib/time.js';
import type { FormErrors } from './booking.form.js';
import { answerName } from './questions.js';
import type { ManagedBooking } from './booking.service.js';
import { bookingLink } from './booking.js';

/**
 * The client's pages as view models: pure functions from what the handler read (staff,
 * service, offered slots, the visitor's zone and language) to what the templates lay out.
 */

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/**
 * The month the picker shows: `?month=YYYY-MM`, else the month of `?date=` (or of the older
 * `?from=`), else this month — clamped to today … the horizon. Slots are read for its days
 * from today on.
 */
export interface PickerMonth {
  readonly today: string;
  readonly lastDay: string;
  /** YYYY-MM. */
  readonly month: string;
  /** Whether the visitor chose the month or a day (else the picker may move on to the next month). */
  readonly chosen: boolean;
  /** The days of the month that can have slots: max(1st, today) … min(last day, horizon). */
  readonly from: string;
  readonly to: string;
  /** The instants those days cover in the visitor's zone (null when there are none). */
  readonly range: Interval | null;
  readonly prevMonth: string | null;
  readonly nextMonth: string | null;
}

/** The last day of a YYYY-MM month. */
function monthEnd(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/** The month after (or before) a YYYY-MM month. */
function shiftMonth(month: string, by: 1 | -1): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1 + by, 1)).toISOString().slice(0, 7);
}

/** Which month the picker shows for the query's `month`, `date` or `from`. */
export function pickerMonth(query: { month?: unknown; date?: unknown; from?: unknown }, tz: string, now: number, horizonDays: number): PickerMonth {
  const today = dateIn(now, tz);
  const lastDay = dateIn(now + horizonDays * 86_400_000, tz);
  const monthOf = (v: unknown) => (typeof v === 'string' && dayRange(v, tz) ? v.slice(0, 7) : undefined);
  const asked = typeof query.month === 'string' && MONTH.test(query.month) ? query.month : (monthOf(query.date) ?? monthOf(query.from));
  let month = asked ?? today.slice(0, 7);
  if (month < today.slice(0, 7)) month = today.slice(0, 7);
  if (month > lastDay.slice(0, 7)) month = lastDay.slice(0, 7);
  const from = `${month}-01` < today ? today : `${month}-01`;
  const to = monthEnd(month) > lastDay ? lastDay : monthEnd(month);
  const first = dayRange(from, tz);
  const last = dayRange(to, tz);
  return {
    today,
    lastDay,
    month,
    chosen: asked !== undefined,
    from,
    to,
    range: first && last && from <= to ? { start: first.start, end: last.end } : null,
    prevMonth: month > today.slice(0, 7) ? shiftMonth(month, -1) : null,
    nextMonth: month < lastDay.slice(0, 7) ? shiftMonth(month, 1) : null,
  };
}

/** The next month, when the visitor chose none and nothing is free in this one any more. */
export function followingMonth(m: PickerMonth, tz: string, now: number, horizonDays: number): PickerMonth | null {
  return !m.chosen && m.nextMonth ? { ...pickerMonth({ month: m.nextMonth }, tz, now, horizonDays), chosen: false } : null;
}

/** The days of a month as weeks of seven cells (Monday first); null cells pad the first and last week. */
function monthWeeks(month: string): (string | null)[][] {
  const first = `${month}-01`;
  const cells: (string | null)[] = Array.from({ length: weekdayIndex(first) }, () => null);
  for (let d = first; d.startsWith(month); d = addDays(d, 1)) cells.push(d);
  while (cells.length % 7 !== 0) cells.push(null);
  return Array.from({ length: cells.length / 7 }, (_, i) => cells.slice(i * 7, i * 7 + 7));
}

export interface PickerFacts {
  readonly staff: StaffRow;
  readonly service: ServiceRow;
  readonly tz: string;
  readonly lang: string;
  readonly now: number;
  readonly window: PickerMonth;
  /** The offered slots in the month, or null when the calendar could not be read. */
  readonly slots: readonly number[] | null;
  readonly connected: boolean;
  /** The day asked for (`?date=`), if any. */
  readonly date: unknown;
  /** Whether the visitor asked for the whole zone list (`?zones=all`). */
  readonly allZones: boolean;
  /** The clock the visitor chose (`?hc=12|24`), else the language's. */
  readonly hourCycle?: unknown;
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

/** The month calendar and the chosen day's times (also the 409 and "unavailable" pages). */
export function pickerModel(f: PickerFacts) {
  const { staff, service, tz, lang, now, window: m } = f;
  const openDays: string[] = [];
  for (let d = m.from; d <= m.to; d = addDays(d, 1)) openDays.push(d);
  const byDay = slotsByDay(openDays, f.slots ?? [], tz);
  const requested = typeof f.date === 'string' && byDay.has(f.date) ? f.date : undefined;
  const selected = requested ?? openDays.find((d) => byDay.has(d)) ?? null;
  const basePath = f.manageToken !== null ? `/b/${f.manageToken}/reschedule` : `/@${staff.username}/${service.slug}`;
  const hc = hourCycleOf(f.hourCycle);
  // What every link of the picker carries: the zone, and the clock when the visitor chose one.
  const tzq = `tz=${encodeURIComponent(tz)}${hc ? `&hc=${hc}` : ''}`;
  const cell = (d: string | null) => {
    if (d === null) return null;
    const count = byDay.get(d)?.length ?? 0;
    return {
      date: d,
      day: Number(d.slice(8)),
      count,
      selected: d === selected,
      today: d === m.today,
      href: count > 0 ? `${basePath}?${tzq}&month=${m.month}&date=${d}` : null,
      label: formatDateOnly(d, lang),
    };
  };
  return {
    title: service.title,
    person: staff,
    service,
    tz,
    // The whole zone list only on request: tz.js fills it from the browser's own list, which
    // keeps the page small (the full list is two thirds of it).
    zones: (f.allZones ? allZones() : [...new Set([tz, staff.timeZone])]).map((z) => ({ id: z, label: `${friendlyZone(z, now, lang, hc)} (${z.replace(/_/g, ' ')})`, selected: z === tz })),
    allZones: f.allZones,
    zoneLabel: zoneLabel(tz, now),
    zoneName: friendlyZone(tz, now, lang, hc),
    hourCycle: hc ?? null,
    tzq,
    clocks: (['12', '24'] as const).map((c) => ({ value: c, href: `${basePath}?tz=${encodeURIComponent(tz)}&hc=${c}&month=${m.month}${selected ? `&date=${selected}` : ''}`, current: hc === c })),
    month: m.month,
    monthLabel: formatMonth(m.month, lang),
    weekdays: weekdayNames(lang),
    weeks: monthWeeks(m.month).map((w) => w.map(cell)),
    freeDays: byDay.size,
    selected,
    selectedLabel: selected ? formatDate(dayRange(selected, tz)?.start ?? now, tz, lang) : null,
    slots: selected ? (byDay.get(selected) ?? []).map((s) => ({ iso: isoIn(s, tz), label: formatTime(s, tz, lang, hc) })) : [],
    available: f.slots !== null,
    connected: f.connected,
    basePath,
    prevHref: m.prevMonth ? `${basePath}?${tzq}&month=${m.prevMonth}` : null,
    nextHref: m.nextMonth ? `${basePath}?${tzq}&month=${m.nextMonth}` : null,
    prevLabel: m.prevMonth ? formatMonth(m.prevMonth, lang) : null,
    nextLabel: m.nextMonth ? formatMonth(m.nextMonth, lang) : null,
    manage: f.manageToken !== null ? { token: f.manageToken } : null,
    notice: f.notice,
    taken: f.taken.map((s) => ({ iso: isoIn(s, tz), label: `${formatDate(s, tz, lang)} ${formatTime(s, tz, lang, hc)}`, date: dateIn(s, tz) })),
    scripts: ['js/tz.js', 'js/picker.js'],
  };
}

export interface FormFacts {
  readonly staff: StaffRow;
  readonly service: ServiceRow;
  readonly start: number;
  readonly tz: string;
  /** The visitor's clock, when they chose one in the picker. */
  readonly hc?: HourCycle | undefined;
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
    when: `${formatDate(start, tz, lang)}, ${formatTime(start, tz, lang, f.hc)}`,
    zoneLabel: zoneLabel(tz, start),
    hc: f.hc ?? null,
    formToken: f.formToken,
    values: f.values,
    errors: f.errors,
    errorList: Object.entries(f.errors).map(([field, key]) => ({ field, key, label: questionLabels.get(field) ?? null })),
    phone: service.fields.phone,
    fields: FIELD_NAMES.filter((n) => service.fields[n] !== 'off').map((n) => ({ name: n, required: service.fields[n] === 'required', multiline: n === 'note' || n === 'address' })),
    questions: service.questions.map((q) => ({ ...q, name: answerName(q) })),
    notice: f.notice ?? null,
    noticeParams: f.noticeParams ?? {},
    alternatives: (f.alternatives ?? []).map((s, i) => ({ iso: isoIn(s, tz), label: `${formatDate(s, tz, lang)}, ${formatTime(s, tz, lang, f.hc)}`, checked: i === 0 })),
    backHref: `/@${staff.username}/${service.slug}?date=${dateIn(start, tz)}&tz=${encodeURIComponent(tz)}`,
  };
}

/** The manage page (and the cancel confirmation) of one booking. */
export function manageModel(
  b: ManagedBooking,
  m: { readonly title: string; readonly tz: string; readonly hc?: HourCycle | undefined; readonly lang: string; readonly now: number; readonly baseUrl: string; readonly was?: unknown },
) {
  const { tz, lang } = m;
  const e = b.event;
  return {
    title: m.title,
    person: b.staff,
    token: b.token,
    tz,
    serviceTitle: b.service?.title ?? e.summary,
    when: `${formatDate(e.start, tz, lang)}, ${formatTime(e.start, tz, lang, m.hc)} – ${formatTime(e.end, tz, lang, m.hc)}`,
    // What the booking's own links carry: the zone, and the clock when the visitor chose one.
    clientQuery: `tz=${encodeURIComponent(tz)}${m.hc ? `&hc=${m.hc}` : ''}`,
    hc: m.hc ?? null,
    // Right after a move: the former time, shown struck through (`?was=`, only ever displayed).
    formerWhen: formerTime(m.was, e.start, tz, lang, m.hc),
    zoneLabel: zoneLabel(tz, e.start),
    location: e.location,
    attendee: e.attendee,
    past: e.start <= m.now,
    canReschedule: b.service !== undefined && b.service.active,
    manageUrl: bookingLink(m.baseUrl, b.token, tz),
    rescheduleUrl: bookingLink(m.baseUrl, b.token, tz, '/reschedule'),
    addTo: addToCalendarLinks({ title: `${b.service?.title ?? e.summary} — ${b.staff.displayName}`, start: e.start, end: e.end, location: e.location }),
  };
}

/** The time a booking was moved from, as the page says it; null when absent, unreadable or the same. */
function formerTime(was: unknown, start: number, tz: string, lang: string, hc?: HourCycle): string | null {
  const at = typeof was === 'string' ? parseInstant(was) : null;
  return at === null || at === start ? null : `${formatDate(at, tz, lang)}, ${formatTime(at, tz, lang, hc)}`;
}


/**
 * "Add to my calendar" links for Google Calendar and Outlook on the web: plain links the client
 * may follow (nothing is loaded from them). They carry the service, the person, the time and the
 * place — never the client's details nor the booking link, whose token is the key to the booking.
 */
export function addToCalendarLinks(ev: { readonly title: string; readonly start: number; readonly end: number; readonly location: string }) {
  const google = new URL('https://calendar.google.com/calendar/render');
  google.search = new URLSearchParams({ action: 'TEMPLATE', text: ev.title, dates: `${utcStamp(ev.start)}/${utcStamp(ev.end)}`, ...(ev.location ? { location: ev.location } : {}) }).toString();
  const outlook = new URL('https://outlook.live.com/calendar/0/deeplink/compose');
  outlook.search = new URLSearchParams({
    path: '/calendar/action/compose',
    rru: 'addevent',
    subject: ev.title,
    startdt: new Date(ev.start).toISOString(),
    enddt: new Date(ev.end).toISOString(),
    ...(ev.location ? { location: ev.location } : {}),
  }).toString();
  return { google: google.href, outlook: outlook.href };
}
