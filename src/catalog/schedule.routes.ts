import type { Request, Response } from 'express';
import type { Weekday } from '../availability/slots.js';
import { dateIn, formatDateOnly } from '../lib/time.js';
import { locals, type AppContext } from '../web/context.js';
import { bodyOf, formErrors, NO_ERRORS, text, type FieldError, type FormErrors } from '../web/forms.js';
import { signedIn } from '../web/guards.js';
import { render } from '../web/render.js';
import { DAYS, defaultSchedule, type WeeklySchedule } from './catalog.js';
import { hourValues, type RangeValues } from './catalog.form.js';
import { blankSpecialDay, checkSpecialDayForm, checkWeeklyForm, readSpecialDayForm, readWeeklyForm, type SpecialDayValues } from './schedule.form.js';
import { findSchedule, saveSchedule } from './schedule.repo.js';
import { monthOf, scheduleMonth, validDate } from './schedule.view.js';

/**
 * The staff member's weekly schedule: weekly hours (one form), special days (a list with a
 * remove button each, and a form to add one beside a small month calendar). Services use it
 * unless they set their own hours. Every route is for the signed-in staff member's own schedule.
 */

const DONE = ['hours', 'day_added', 'day_removed'] as const;

interface PageState {
  readonly hours?: Readonly<Record<Weekday, readonly RangeValues[]>>;
  readonly hoursErrors?: FormErrors;
  readonly day?: SpecialDayValues;
  readonly dayErrors?: FormErrors;
  readonly month?: string;
}

/** The schedule page's handlers. */
export function scheduleHandlers(ctx: AppContext) {
  const scheduleOf = async (staffId: number): Promise<WeeklySchedule> => (await findSchedule(ctx.db, staffId)) ?? defaultSchedule();

  async function renderPage(req: Request, res: Response, state: PageState, status = 200): Promise<void> {
    const me = signedIn(res);
    const lang = locals(res).lang;
    const schedule = await scheduleOf(me.id);
    const today = dateIn(ctx.clock.now(), me.timeZone);
    const day = state.day ?? blankSpecialDay(validDate(req.query.date) ?? '');
    const month = state.month ?? monthOf(req.query, today);
    const done = typeof req.query.done === 'string' && (DONE as readonly string[]).includes(req.query.done) ? req.query.done : '';
    const hoursErrors = state.hoursErrors ?? NO_ERRORS;
    const dayErrors = state.dayErrors ?? NO_ERRORS;
    render(
      ctx,
      req,
      res,
      'catalog/schedule',
      {
        days: DAYS,
        hours: state.hours ?? hourValues(schedule.hours),
        hoursErrors,
        day,
        dayErrors,
        // One summary for the page: the form that was posted is the one with errors.
        errors: hoursErrors.list.length > 0 ? hoursErrors : dayErrors,
        specialDays: schedule.overrides.map((o) => ({ date: o.date, label: formatDateOnly(o.date, lang), hours: o.hours, past: o.date < today })),
        calendar: scheduleMonth(month, today, day.date, schedule.overrides, lang),
        done,
      },
      status,
    );
  }

  async function showSchedule(req: Request, res: Response): Promise<void> {
    await renderPage(req, res, {});
  }

  async function saveWeeklyHours(req: Request, res: Response): Promise<void> {
    const me = signedIn(res);
    const rows = readWeeklyForm(req.body);
    const checked = checkWeeklyForm(rows, await scheduleOf(me.id), me.timeZone);
    if (!checked.ok) return renderPage(req, res, { hours: rows, hoursErrors: errorsOf(res, checked.error) }, 422);
    await saveSchedule(ctx.db, me.id, checked.value, ctx.clock.now());
    res.redirect(303, '/admin/schedule?done=hours');
  }

  async function addSpecialDay(req: Request, res: Response): Promise<void> {
    const me = signedIn(res);
    const values = readSpecialDayForm(req.body);
    const checked = checkSpecialDayForm(values, await scheduleOf(me.id), me.timeZone, dateIn(ctx.clock.now(), me.timeZone));
    const month = validDate(values.date)?.slice(0, 7);
    if (!checked.ok) return renderPage(req, res, { day: values, dayErrors: errorsOf(res, checked.error), ...(month ? { month } : {}) }, 422);
    await saveSchedule(ctx.db, me.id, checked.value, ctx.clock.now());
    res.redirect(303, `/admin/schedule?done=day_added&month=${month ?? ''}#special-days`);
  }

  async function removeSpecialDay(req: Request, res: Response): Promise<void> {
    const me = signedIn(res);
    const date = text(bodyOf(req.body), 'date');
    const schedule = await scheduleOf(me.id);
    const overrides = schedule.overrides.filter((o) => o.date !== date);
    if (overrides.length !== schedule.overrides.length) await saveSchedule(ctx.db, me.id, { hours: schedule.hours, overrides }, ctx.clock.now());
    res.redirect(303, '/admin/schedule?done=day_removed#special-days');
  }

  const errorsOf = (res: Response, errors: readonly FieldError[]) => formErrors(ctx.i18n.getFixedT(locals(res).lang), errors);

  return { showSchedule, saveWeeklyHours, addSpecialDay, removeSpecialDay };
}
