import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { findStaffByUsername, type StaffRow } from '../accounts/accounts.repo.js';
import type { AppContext } from '../app.js';
import { FIELD_NAMES, type ServiceRow } from '../catalog/catalog.js';
import { findService, listActiveServices } from '../catalog/catalog.repo.js';
import type { Connected } from '../calendars/connection.service.js';
import { addDays, allZones, dateIn, dayRange, formatDate, formatDayShort, formatTime, isZone, isoIn, parseInstant, zoneLabel } from '../lib/time.js';
import { AppError, notFound } from '../web/errors.js';
import { locals, rememberedT, render } from '../web/render.js';
import { mintFormToken, RateLimiter, verifyFormToken } from './booking.js';
import { parseClientDetails, type FormErrors } from './booking.form.js';
import { BookingDesk, type ManagedBooking } from './booking.service.js';

/**
 * The client's pages (DESIGN.md §3, §5): no cookie, no JavaScript needed, nothing stored.
 * Handlers stay thin; the use cases live in booking.service.ts.
 */

const DAY_WINDOW = 14;
const MAX_JSON_DAYS = 62;

interface PublicTarget {
  staff: StaffRow;
  service: ServiceRow;
}

/** Builds the public booking router. */
export function bookingRoutes(ctx: AppContext): Router {
  const desk = new BookingDesk(ctx, () => ctx.pageCache.clear());
  const postLimiter = new RateLimiter(20, 10 * 60_000);
  const router = Router();
  const body = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 40 });
  const t = (res: Response) => ctx.i18n.getFixedT(locals(res).lang);
  /** The BCP 47 code dates and times are formatted with (remembered per language). */
  const lng = (res: Response): string => rememberedT(ctx.i18n, locals(res).lang)('booking:locale_code');

  const findStaff = async (req: Request): Promise<StaffRow> => {
    const username = String(req.params.username ?? '').toLowerCase();
    const staff = /^[a-z0-9-]{1,32}$/.test(username) ? await findStaffByUsername(ctx.db, username) : undefined;
    if (!staff) throw notFound();
    return staff;
  };
  const findTarget = async (req: Request): Promise<PublicTarget> => {
    const staff = await findStaff(req);
    const slug = String(req.params.service ?? '');
    const service = /^[a-z0-9-]{1,48}$/.test(slug) ? await findService(ctx.db, staff.id, slug) : undefined;
    if (!service || !service.active) throw notFound();
    return { staff, service };
  };
  const clientZone = (req: Request, staff: StaffRow): string => {
    const tz = typeof req.query.tz === 'string' ? req.query.tz : typeof req.body?.tz === 'string' ? String(req.body.tz) : '';
    return tz && isZone(tz) ? tz : staff.timeZone;
  };
  const limited = (req: Request, res: Response, next: NextFunction) => {
    if (!postLimiter.hit(req.ip ?? 'unknown', ctx.clock.now())) {
      res.setHeader('Retry-After', '600');
      return next(new AppError(429, 'errors:too_many_requests'));
    }
    next();
  };

  /** Renders the day picker and slots (also the 409 and "unavailable" answers). */
  const renderPicker = async (req: Request, res: Response, target: PublicTarget, opts: { manage?: ManagedBooking; status?: number; notice?: string; taken?: number[]; tz?: string; date?: string } = {}) => {
    const { staff, service } = target;
    const tz = opts.tz ?? clientZone(req, staff);
    const now = ctx.clock.now();
    const lang = lng(res);
    const today = dateIn(now, tz);
    const lastDay = dateIn(now + service.rules.horizonDays * 86_400_000, tz);
    let from = typeof req.query.from === 'string' && dayRange(req.query.from, tz) ? req.query.from : today;
    if (from < today) from = today;
    if (from > lastDay) from = lastDay;
    const to = addDays(from, DAY_WINDOW - 1);
    const first = dayRange(from, tz);
    const last = dayRange(to, tz);
    const connected = await ctx.calendars.forStaff(staff.id, staff.timeZone);
    const exclude = opts.manage ? { id: opts.manage.event.id, start: opts.manage.event.start, end: opts.manage.event.end } : undefined;
    const result = connected && first && last ? await desk.offeredSlots(staff, service, connected, { start: first.start, end: last.end }, { live: false, ...(exclude ? { exclude } : {}) }) : { ok: false as const };
    // Group by the visitor's days using each day's bounds (one zone computation per day, not per slot).
    const windowDays = Array.from({ length: DAY_WINDOW }, (_, i) => addDays(from, i));
    const bounds = windowDays.map((d) => dayRange(d, tz) ?? { start: 0, end: 0 });
    const byDay = new Map<string, number[]>();
    if (result.ok) {
      let i = 0;
      for (const s of result.slots) {
        while (i < bounds.length && s >= (bounds[i] as { end: number }).end) i++;
        const day = windowDays[i];
        if (day === undefined) break;
        if (s >= (bounds[i] as { start: number }).start) byDay.set(day, [...(byDay.get(day) ?? []), s]);
      }
    }
    const dateParam = opts.date ?? req.query.date;
    const requested = typeof dateParam === 'string' && dayRange(dateParam, tz) ? dateParam : undefined;
    const selected = requested ?? windowDays.find((d) => byDay.has(d)) ?? from;
    const days = windowDays.map((d) => ({
      date: d,
      ...formatDayShort(d, tz, lang),
      count: byDay.get(d)?.length ?? 0,
      selected: d === selected,
    }));
    const basePath = opts.manage ? `/b/${opts.manage.token}/reschedule` : `/@${staff.username}/${service.slug}`;
    const slots = (byDay.get(selected) ?? []).map((s) => ({ iso: isoIn(s, tz), label: formatTime(s, tz, lang) }));
    const status = opts.status ?? (result.ok ? 200 : 503);
    render(
      ctx,
      req,
      res,
      'booking/service',
      {
        title: service.title,
        person: staff,
        service,
        tz,
        // The whole zone list only on request: tz.js fills it from the browser's own list, which
        // keeps the page small (the full list is two thirds of it).
        zones: req.query.zones === 'all' ? allZones() : [...new Set([tz, staff.timeZone])],
        allZones: req.query.zones === 'all',
        zoneLabel: zoneLabel(tz, now),
        days,
        selected,
        selectedLabel: formatDate(dayRange(selected, tz)?.start ?? now, tz, lang),
        slots,
        available: result.ok,
        connected: connected !== null,
        basePath,
        prevFrom: from > today ? (addDays(from, -DAY_WINDOW) < today ? today : addDays(from, -DAY_WINDOW)) : null,
        nextFrom: to < lastDay ? addDays(from, DAY_WINDOW) : null,
        manage: opts.manage ? { token: opts.manage.token } : null,
        notice: opts.notice ?? null,
        taken: (opts.taken ?? []).map((s) => ({ iso: isoIn(s, tz), label: `${formatDate(s, tz, lang)} ${formatTime(s, tz, lang)}`, date: dateIn(s, tz) })),
        scripts: ['js/tz.js'],
      },
      status,
    );
  };

  const renderForm = (req: Request, res: Response, target: PublicTarget, start: number, tz: string, formToken: string, values: Record<string, string>, errors: FormErrors, status = 200) => {
    const { staff, service } = target;
    const fields = FIELD_NAMES.filter((f) => service.fields[f] !== 'off').map((f) => ({ name: f, required: service.fields[f] === 'required', multiline: f === 'note' || f === 'address' }));
    render(
      ctx,
      req,
      res,
      'booking/form',
      {
        title: service.title,
        person: staff,
        service,
        tz,
        start: isoIn(start, tz),
        when: `${formatDate(start, tz, lng(res))}, ${formatTime(start, tz, lng(res))}`,
        zoneLabel: zoneLabel(tz, start),
        formToken,
        values,
        errors,
        errorList: Object.entries(errors).map(([field, key]) => ({ field, key })),
        fields,
        backHref: `/@${staff.username}/${service.slug}?date=${dateIn(start, tz)}&tz=${encodeURIComponent(tz)}`,
      },
      status,
    );
  };

  router.get('/@:username', async (req, res) => {
    ctx.pageCache.share(res);
    const staff = await findStaff(req);
    const services = await listActiveServices(ctx.db, staff.id);
    render(ctx, req, res, 'booking/staff', { title: staff.displayName, person: staff, services });
  });

  router.get('/@:username/:service/slots', async (req, res) => {
    ctx.pageCache.share(res);
    const { staff, service } = await findTarget(req);
    const tz = typeof req.query.tz === 'string' ? req.query.tz : staff.timeZone;
    const bad = (key: string) => {
      res.status(400).json({ error: t(res)(key) });
    };
    if (!isZone(tz)) return bad('booking:json_bad_tz');
    const today = dateIn(ctx.clock.now(), tz);
    const from = typeof req.query.from === 'string' ? req.query.from : today;
    const to = typeof req.query.to === 'string' ? req.query.to : addDays(from, 6);
    const first = dayRange(from, tz);
    const last = dayRange(to, tz);
    if (!first || !last) return bad('booking:json_bad_date');
    if (to < from) return bad('booking:json_bad_order');
    if ((last.end - first.start) / 86_400_000 > MAX_JSON_DAYS + 1) return bad('booking:json_too_long');
    const connected = await ctx.calendars.forStaff(staff.id, staff.timeZone);
    const result = connected ? await desk.offeredSlots(staff, service, connected, { start: first.start, end: last.end }, { live: false }) : { ok: false as const };
    if (!result.ok) {
      res.status(503).json({ error: t(res)('booking:unavailable') });
      return;
    }
    const json = JSON.stringify({ service: service.slug, timeZone: tz, durationMinutes: service.rules.durationMinutes, slots: result.slots.map((s) => isoIn(s, tz)) });
    res.type('json').send(json);
    ctx.pageCache.store(req, res, json);
  });

  router.get('/@:username/:service', async (req, res) => {
    const startText = typeof req.query.start === 'string' ? req.query.start : '';
    if (!startText) ctx.pageCache.share(res); // the picker is the same for everyone; the form is not
    const target = await findTarget(req);
    if (!startText) return renderPicker(req, res, target);
    const start = parseInstant(startText);
    const tz = clientZone(req, target.staff);
    const connected = await ctx.calendars.forStaff(target.staff.id, target.staff.timeZone);
    const offered = start !== null && connected ? await isOffered(target, connected, start) : false;
    if (!offered || start === null) return renderPicker(req, res, target, { notice: 'booking:slot_gone' });
    renderForm(req, res, target, start, tz, mintFormToken(ctx.keyring, target.staff.id, target.service.id, ctx.clock.now()), {}, {});
  });

  const isOffered = async (target: PublicTarget, connected: Connected, start: number) => {
    const r = await desk.offeredSlots(target.staff, target.service, connected, { start, end: start + 1 }, { live: false });
    return r.ok && r.slots.includes(start);
  };

  router.post('/@:username/:service/book', limited, body, async (req, res) => {
    const target = await findTarget(req);
    const { staff, service } = target;
    const form = (req.body ?? {}) as Record<string, unknown>;
    const tz = clientZone(req, staff);
    const start = typeof form.start === 'string' ? parseInstant(form.start) : null;
    const bookingId = typeof form.form_token === 'string' ? verifyFormToken(ctx.keyring, form.form_token, staff.id, service.id, ctx.clock.now()) : null;
    if (typeof form.website === 'string' && form.website !== '') throw new AppError(400, 'booking:rejected');
    if (!bookingId) throw new AppError(400, 'booking:form_expired');
    if (start === null) throw new AppError(400, 'booking:bad_start');
    const parsed = parseClientDetails(form, service.fields);
    if (!parsed.ok) return renderForm(req, res, target, start, tz, String(form.form_token), parsed.values, parsed.errors, 422);
    const connected = await ctx.calendars.forStaff(staff.id, staff.timeZone);
    if (!connected) throw new AppError(503, 'booking:unavailable');
    const outcome = await desk.book(staff, service, connected, start, parsed.value, bookingId, locals(res).lang);
    switch (outcome.kind) {
      case 'done':
        return res.redirect(303, `/b/${outcome.token}?tz=${encodeURIComponent(tz)}`);
      case 'taken':
        return renderPicker(req, res, target, { status: 409, notice: 'booking:slot_taken', taken: outcome.next, tz, date: dateIn(start, tz) });
      case 'client_cap':
        throw new AppError(429, 'booking:client_cap');
      default:
        throw new AppError(503, 'booking:unavailable');
    }
  });

  // Managing a booking: the token is the only key; nothing is cached by intermediaries.
  const noStore = (_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Robots-Tag', 'noindex');
    next();
  };
  const loadBooking = async (req: Request): Promise<ManagedBooking> => {
    const outcome = await desk.load(String(req.params.token ?? ''));
    if (outcome.kind === 'found') return outcome.booking;
    if (outcome.kind === 'gone') throw new AppError(404, 'booking:gone');
    if (outcome.kind === 'unavailable') throw new AppError(503, 'booking:unavailable');
    throw notFound();
  };
  const bookingModel = (req: Request, res: Response, b: ManagedBooking) => {
    const tz = clientZone(req, b.staff);
    const e = b.event;
    return {
      title: t(res)('booking:manage_title'),
      person: b.staff,
      token: b.token,
      tz,
      serviceTitle: b.service?.title ?? e.summary,
      when: `${formatDate(e.start, tz, lng(res))}, ${formatTime(e.start, tz, lng(res))} – ${formatTime(e.end, tz, lng(res))}`,
      zoneLabel: zoneLabel(tz, e.start),
      location: e.location,
      attendee: e.attendee,
      past: e.start <= ctx.clock.now(),
      canReschedule: b.service !== undefined && b.service.active,
      manageUrl: `${ctx.config.baseUrl.toString()}b/${b.token}`,
      rescheduleUrl: `${ctx.config.baseUrl.toString()}b/${b.token}/reschedule`,
    };
  };

  router.get('/b/:token', noStore, async (req, res) => {
    let b: ManagedBooking;
    try {
      b = await loadBooking(req);
    } catch (err) {
      if (err instanceof AppError && err.messageKey === 'booking:gone' && req.query.cancelled === '1') {
        // The event is gone; the public username in the link offers "book again" with the same person.
        const u = typeof req.query.u === 'string' && /^[a-z0-9-]{1,32}$/.test(req.query.u) ? req.query.u : '';
        const person = u ? await findStaffByUsername(ctx.db, u) : undefined;
        return render(ctx, req, res, 'booking/cancelled', { title: t(res)('booking:cancelled_title'), person: person ?? null });
      }
      throw err;
    }
    const confirmCancel = req.query.action === 'cancel';
    const flash = req.query.moved === '1' ? 'booking:moved_notice' : null;
    render(ctx, req, res, confirmCancel ? 'booking/cancel' : 'booking/manage', { ...bookingModel(req, res, b), flash });
  });

  router.get('/b/:token/ics', noStore, async (req, res) => {
    const b = await loadBooking(req);
    res.setHeader('Content-Disposition', 'attachment; filename="booking.ics"');
    res.type('text/calendar; charset=utf-8').send(desk.icsFor(b));
  });

  router.post('/b/:token/cancel', noStore, limited, body, async (req, res) => {
    let b: ManagedBooking;
    try {
      b = await loadBooking(req);
    } catch (err) {
      // Cancelling twice answers "already cancelled" (idempotent).
      if (err instanceof AppError && err.messageKey === 'booking:gone') return res.redirect(303, `/b/${String(req.params.token)}?cancelled=1`);
      throw err;
    }
    const outcome = await desk.cancel(b, locals(res).lang);
    if (outcome === 'unavailable') throw new AppError(503, 'booking:unavailable');
    res.redirect(303, `/b/${b.token}?cancelled=1&u=${b.staff.username}`);
  });

  router.get('/b/:token/reschedule', noStore, async (req, res) => {
    const b = await loadBooking(req);
    if (!b.service || !b.service.active) throw new AppError(409, 'booking:cannot_reschedule');
    await renderPicker(req, res, { staff: b.staff, service: b.service }, { manage: b });
  });

  router.post('/b/:token/reschedule', noStore, limited, body, async (req, res) => {
    const b = await loadBooking(req);
    if (!b.service || !b.service.active) throw new AppError(409, 'booking:cannot_reschedule');
    const form = (req.body ?? {}) as Record<string, unknown>;
    const start = typeof form.start === 'string' ? parseInstant(form.start) : null;
    if (start === null) throw new AppError(400, 'booking:bad_start');
    const tz = clientZone(req, b.staff);
    const outcome = await desk.reschedule(b, start, locals(res).lang);
    if (outcome.kind === 'done') return res.redirect(303, `/b/${b.token}?moved=1&tz=${encodeURIComponent(tz)}`);
    if (outcome.kind === 'taken') {
      return renderPicker(req, res, { staff: b.staff, service: b.service }, { manage: b, status: 409, notice: 'booking:slot_taken', taken: outcome.next, tz, date: dateIn(start, tz) });
    }
    throw new AppError(503, 'booking:unavailable');
  });

  return router;
}
