import ICAL from 'ical.js';

/**
 * What untrusted calendar data must satisfy before it is believed: every date field in range
 * (ical.js would roll month 13 or hour 99 over into another valid date), and recurrence rules
 * that can match at all (ical.js would loop on some, and invent dates for others). Runs in the
 * busy worker, like all parsing of calendar data.
 */

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:\d{2})?$/;

function leap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function validDay(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const max = m === 2 ? (leap(y) ? 29 : 28) : (DAYS_IN_MONTH[m - 1] as number);
  return d <= max;
}

/** A jCal date or date-time string with every field in range. */
export function validDateText(v: string): boolean {
  const dt = DATE_TIME.exec(v);
  if (dt) {
    const [, y, m, d, hh, mm, ss] = dt.map(Number) as [number, number, number, number, number, number, number];
    return validDay(y, m, d) && hh <= 23 && mm <= 59 && ss <= 60;
  }
  const date = DATE.exec(v);
  if (date) {
    const [, y, m, d] = date.map(Number) as [number, number, number, number];
    return validDay(y, m, d);
  }
  return false;
}

function validValue(type: string, v: unknown): boolean {
  switch (type) {
    case 'date':
    case 'date-time':
      return typeof v === 'string' && validDateText(v);
    case 'period': {
      if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || !validDateText(v[0])) return false;
      const end: unknown = v[1];
      return typeof end === 'string' && (end.startsWith('P') || end.startsWith('-P') || end.startsWith('+P') || validDateText(end));
    }
    case 'recur': {
      if (typeof v !== 'object' || v === null) return false;
      const until = (v as Record<string, unknown>)['until'];
      return until === undefined || (typeof until === 'string' && validDateText(until));
    }
    default:
      return true;
  }
}

/** Whether every date, date-time, period and UNTIL of a jCal component tree is a real date. */
export function datesInRange(jcal: unknown): boolean {
  if (!Array.isArray(jcal) || typeof jcal[0] !== 'string') return false;
  const props: unknown = jcal[1];
  const subs: unknown = jcal[2];
  if (!Array.isArray(props) || !Array.isArray(subs)) return false;
  for (const p of props) {
    if (!Array.isArray(p) || typeof p[2] !== 'string') return false;
    const type = p[2];
    for (let i = 3; i < p.length; i++) if (!validValue(type, p[i])) return false;
  }
  return subs.every(datesInRange);
}

function numbers(v: unknown): number[] {
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(Number);
}

/**
 * A rule that can never produce an occurrence (RFC 5545: its series is DTSTART alone). Known
 * shapes only: BYMONTHDAY beyond every BYMONTH's length (Feb 30, Apr 31), BYYEARDAY with an
 * empty set, BYSETPOS beyond what one period can hold. Others are bounded by the budget.
 */
export function neverMatches(rule: ICAL.Recur): boolean {
  const parts = rule.parts;
  const months = numbers(parts.BYMONTH);
  const monthDays = numbers(parts.BYMONTHDAY);
  if (monthDays.length > 0) {
    const lengths = (months.length > 0 ? months : [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]).map((m) => DAYS_IN_MONTH[m - 1] ?? 0);
    const longest = Math.max(...lengths);
    if (monthDays.every((d) => d === 0 || Math.abs(d) > longest)) return true;
  }
  const yearDays = numbers(parts.BYYEARDAY);
  if (yearDays.length > 0 && yearDays.every((d) => d === 0 || Math.abs(d) > 366)) return true;
  const setPos = numbers(parts.BYSETPOS);
  if (setPos.length > 0) {
    // The most candidates one period can hold, for the frequencies where it is small.
    const per: Record<string, number> = { SECONDLY: 1, MINUTELY: 60, HOURLY: 3600, DAILY: 86_400, WEEKLY: 7 * 86_400, MONTHLY: 31 * 86_400 };
    const byDay = Array.isArray(parts.BYDAY) ? parts.BYDAY.length : 0;
    const onlyDays = Object.keys(parts).every((k) => k === 'BYDAY' || k === 'BYSETPOS' || k === 'BYMONTH' || k === 'WKST');
    const cap = onlyDays && rule.freq === 'WEEKLY' ? byDay : onlyDays && rule.freq === 'MONTHLY' ? 5 * byDay : per[rule.freq];
    if (cap !== undefined && cap > 0 && setPos.every((p) => p === 0 || Math.abs(p) > cap)) return true;
  }
  return false;
}

const KEEP_PROPS = new Set(['uid', 'dtstart', 'dtend', 'duration', 'rrule', 'rdate', 'exdate', 'recurrence-id', 'transp', 'status', 'x-microsoft-cdo-intendedstatus', 'x-microsoft-cdo-busystatus']);

/**
 * Keeps only what busy time needs, so the in-memory view holds no names, notes or addresses;
 * null when the object does not parse or holds an impossible date.
 */
export function minimizeIcs(ics: string): string | null {
  try {
    const parsed: unknown = ICAL.parse(ics);
    if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || !datesInRange(parsed)) return null;
    const root = new ICAL.Component(parsed);
    if (root.name !== 'vcalendar') return null;
    // Copies of the lists: ical.js hands out its own arrays, and removing while walking one skips every other item.
    for (const sub of [...root.getAllSubcomponents()]) {
      if (sub.name === 'vtimezone') continue;
      if (sub.name !== 'vevent') {
        root.removeSubcomponent(sub);
        continue;
      }
      sub.removeAllSubcomponents();
      for (const p of [...sub.getAllProperties()]) {
        if (KEEP_PROPS.has(p.name)) continue;
        sub.removeProperty(p);
        // A declined invitation is free for the person who declined: keep who declined, nothing else of them.
        if (p.name === 'attendee' && String(p.getParameter('partstat') ?? '').toUpperCase() === 'DECLINED') {
          const declined = new ICAL.Property('attendee');
          declined.setValue(String(p.getFirstValue()));
          declined.setParameter('partstat', 'DECLINED');
          sub.addProperty(declined);
        }
      }
    }
    for (const p of [...root.getAllProperties()]) root.removeProperty(p);
    return root.toString();
  } catch {
    return null;
  }
}
