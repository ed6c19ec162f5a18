import ICAL from 'ical.js';

/**
 * ical.js's recurrence iterator under a budget, and made cheaper: it counts the candidate dates
 * it tries against the budget of the read in progress (reads run one at a time in a worker),
 * and it clones its dates with FastTime.
 */

/** Over the budget of one read (busy.ts answers `too_costly`). */
export class TooCostly extends Error {}

/**
 * Candidate dates the recurrence iterator may try over one read (each is one test of the rule's
 * BYxxx parts): a rule that matches rarely or never costs this much at most.
 */
const CANDIDATE_CAP = 2_000_000;
/** The candidate budget of the read in progress (reads run one at a time in a worker). */
let candidates = CANDIDATE_CAP;

/** A new read starts with the whole candidate budget. */
export function resetCandidateBudget(): void {
  candidates = CANDIDATE_CAP;
}

/** ical.js's iterator, counting the candidate dates it tries against the budget of the read. */
class BudgetedIterator extends ICAL.RecurIterator {
  override check_contracting_rules(): boolean {
    if (--candidates < 0) throw new TooCostly('candidate cap');
    return super.check_contracting_rules();
  }
}

/** What ICAL.Time keeps privately, which `FastTime.clone` copies. */
interface TimeState {
  readonly _time: { year: number; month: number; day: number; hour: number; minute: number; second: number; isDate: boolean };
  _pendingNormalization: boolean;
  _cachedUnixTime: number | null;
}

/**
 * An ICAL.Time whose clone() copies its seven fields directly. ical.js's clone goes through
 * fromData (Object.entries and a setter per field), and its recurrence iterator clones its
 * current time at every step and candidate: that was half of a series' expansion. The copy
 * leaves the clone in the state fromData would: same fields and zone, the same normalization
 * (an all-day time is adjusted once before isDate is set, then normalized on first read).
 */
export class FastTime extends ICAL.Time {
  static copyOf(src: ICAL.Time): FastTime {
    const t = new FastTime({ isDate: false }, ICAL.Timezone.localTimezone);
    const from = (src as unknown as TimeState)._time;
    const state = t as unknown as TimeState;
    const to = state._time;
    to.year = from.year;
    to.month = from.month;
    to.day = from.day;
    to.hour = from.hour;
    to.minute = from.minute;
    to.second = from.second;
    if (from.isDate) t.adjust(0, 0, 0, 0);
    to.isDate = from.isDate;
    if (src.zone) t.zone = src.zone;
    state._pendingNormalization = true;
    state._cachedUnixTime = null;
    return t;
  }

  override clone(): FastTime {
    return FastTime.copyOf(this);
  }
}

/** The iterator clones its DTSTART, and every later time from that clone: all are FastTimes. */
export function iteratorOf(rule: ICAL.Recur, dtstart: ICAL.Time): ICAL.RecurIterator {
  return new BudgetedIterator({ rule, dtstart: FastTime.copyOf(dtstart) });
}

