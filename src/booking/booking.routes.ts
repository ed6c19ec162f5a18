import { urlencoded, type NextFunction, type Request, type Response } from 'express';
import { findStaffById, findStaffByUsername, listPublicStaff, ownerExists, type StaffRow } from '../accounts/accounts.repo.js';
import type { ServiceRow } from '../catalog/catalog.js';
import { findService, findServiceById, listActiveServices } from '../catalog/catalog.repo.js';
import { addDays, dateIn, dayRange, hourCycleOf, isoIn, isZone, parseInstant, type HourCycle } from '../lib/time.js';
import { locals, type AppContext } from '../web/context.js';
import { AppError, notFound } from '../web/errors.js';
import { rememberedT, render } from '../web/render.js';
import { RateLimiter, type RateDecision } from '../lib/rate-limiter.js';
import { hasTextControl } from '../lib/text.js';
import { cancellationNoticeKey, invitationNoticeKey, mintFormToken, verifyFormToken } from './booking.js';
import { parseClientDetails, type FormErrors } from './booking.form.js';
import { BookingDesk, bookingZone, clientMayChangeBooking, invitedByFor, type ClientSide, type LoadError, type ManagedBooking } from './booking.service.js';
import { policyOf } from './policy.js';
import { OPT_IN_TTL_MS } from './opt-in.js';
import { bookingFormModel, followingMonth, manageModel, pickerModel, pickerMonth, type PickerMonth } from './booking.view.js';

/**
 * The client's pages (DESIGN.md §3, §5): no cookie, no JavaScript needed, nothing stored.
 * Named handlers for the route table in app.ts; the use cases live in booking.service.ts and
 * the view models in booking.view.ts.
 */

const MAX_JSON_DAYS = 62;
const TEN_MINUTES = 10 * 60_000;
/** The clock the visitor chose (`hc=12|24` in the query or a form), carried from the picker to the booking's pages. */
function clockOf(req: Request): HourCycle | undefined {
  return hourCycleOf(req.query.hc) ?? hourCycleOf((req.body as Record<string, unknown> | undefined)?.hc);
}

/** `&hc=…` for a link, when the visitor chose a clock. */
function clockQuery(req: Request): string {
  const hc = clockOf(req);
  return hc ? `&hc=${hc}` : '';
}

/** The longest message a client may leave when cancelling. */
const CANCEL_NOTE_MAX = 500;

/**
 * Per-address limits that count what costs (DESIGN.md §5): every post (an invalid form costs
 * little, so the bucket is wide), booking attempts that reach the calendar, and the cancels and
 * moves of valid booking links — their own bucket, so a burst of bookings from one address
 * never stops another client behind it from cancelling.
 */
const LIMITS = { posts: 120, bookings: 20, manage: 60 } as const;

interface PublicTarget {
  readonly staff: StaffRow;
  readonly service: ServiceRow;
}

interface PickerOptions {
  readonly manage?: ManagedBooking;
  readonly status?: number;
  readonly notice?: string;
  readonly taken?: readonly number[];
  readonly tz?: string;
  readonly date?: string;
}

/** The public booking handlers: the client's pages and the pages of a booking link. */
export function bookingHandlers(ctx: AppContext) {
  const kit = bookingKit(ctx);
  return { ...clientPages(ctx, kit), ...manageLinkPages(ctx, kit), ...requestPages(ctx, kit) };
}

type BookingKit = ReturnType<typeof bookingKit>;

/** What the handlers share: one booking desk, one rate limiter, and the look-ups and renderers of the pages. */
function bookingKit(ctx: AppContext) {
  // The e-mails are signed with the business name of the owner's settings (ctx.brand).
  const desk = new BookingDesk(ctx, () => ctx.pageCache.clear());
  const limits = {
    posts: new RateLimiter(LIMITS.posts, TEN_MINUTES),
    bookings: new RateLimiter(LIMITS.bookings, TEN_MINUTES),
    manage: new RateLimiter(LIMITS.manage, TEN_MINUTES),
  };
  /** Counts a hit in one bucket; when over, says when to retry (Retry-After) and returns false. */
  const within = (bucket: keyof typeof limits, req: Request, res: Response): RateDecision => {
    const d = limits[bucket].hit(req.ip ?? 'unknown', ctx.clock.now());
    if (!d.allowed) res.setHeader('Retry-After', String(d.retryAfterSeconds));
    return d;
  };
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

  const renderPicker = async (req: Request, res: Response, target: PublicTarget, opts: PickerOptions = {}) => {
    const { staff, service } = target;
    const tz = opts.tz ?? clientZone(req, staff);
    const now = ctx.clock.now();
    const connected = await ctx.calendars.forStaff(staff.id, staff.timeZone);
    const exclude = opts.manage ? { id: opts.manage.event.id, start: opts.manage.event.start, end: opts.manage.event.end } : undefined;
    const read = (m: PickerMonth) => (connected && m.range ? desk.offeredSlots(staff, service, connected, m.range, { live: false, ...(exclude ? { exclude } : {}) }) : Promise.resolve(null));
    let window = pickerMonth({ month: req.query.month, date: opts.date ?? req.query.date, from: req.query.from }, tz, now, service.rules.horizonDays);
    let result = await read(window);
    // Nothing free left this month and the visitor chose no month: show the next one.
    const next = result?.ok && result.value.length === 0 ? followingMonth(window, tz, now, service.rules.horizonDays) : null;
    if (next) {
      const later = await read(next);
      if (later?.ok && later.value.length > 0) [window, result] = [next, later];
    }
    const model = pickerModel({
      staff,
      service,
      tz,
      lang: lng(res),
      now,
      window,
      slots: result?.ok ? result.value : null,
      connected: connected !== null,
      date: opts.date ?? req.query.date,
      allZones: req.query.zones === 'all',
      hourCycle: req.query.hc,
      manageToken: opts.manage?.token ?? null,
      notice: opts.notice ?? null,
      taken: opts.taken ?? [],
    });
    render(ctx, req, res, 'booking/service', model, opts.status ?? (result?.ok ? 200 : 503));
  };

  const renderForm = (
    req: Request,
    res: Response,
    target: PublicTarget,
    start: number,
    tz: string,
    formToken: string,
    values: Record<string, string>,
    errors: FormErrors,
    status = 200,
    again: { notice?: string; noticeParams?: Record<string, unknown>; alternatives?: readonly number[] } = {},
  ) => render(ctx, req, res, 'booking/form', bookingFormModel({ ...target, start, tz, hc: clockOf(req), lang: lng(res), formToken, values, errors, ...again }), status);

  const isOffered = async (target: PublicTarget, start: number): Promise<boolean> => {
    const connected = await ctx.calendars.forStaff(target.staff.id, target.staff.timeZone);
    if (!connected) return false;
    const r = await desk.offeredSlots(target.staff, target.service, connected, { start, end: start + 1 }, { live: false });
    return r.ok && r.value.includes(start);
  };

  /** The error page for a link that finds no booking. */
  const noBooking = (error: LoadError): AppError =>
    error === 'gone' ? new AppError(404, 'booking:gone') : error === 'unavailable' ? new AppError(503, 'booking:unavailable') : notFound();
  /** The booking behind the link, for pages that have nothing else to say when there is none. */
  const loadBooking = async (req: Request): Promise<ManagedBooking> => {
    const loaded = await desk.load(String(req.params.token ?? ''));
    if (!loaded.ok) throw noBooking(loaded.error);
    return loaded.value;
  };

  /** The zone a booking is shown in: the link's `?tz=`, else the one the client booked from, else the staff member's. */
  const zoneOf = (req: Request, b: ManagedBooking): string => {
    const given = typeof req.query.tz === 'string' ? req.query.tz : typeof req.body?.tz === 'string' ? String(req.body.tz) : undefined;
    return bookingZone(given, b.event, b.staff.timeZone);
  };
  const bookingModel = (req: Request, res: Response, b: ManagedBooking) => ({
    ...manageModel(b, { title: t(res)('booking:manage_title'), tz: zoneOf(req, b), hc: clockOf(req), lang: lng(res), now: ctx.clock.now(), baseUrl: ctx.config.baseUrl.toString(), was: req.query.moved === '1' ? req.query.was : undefined }),
    // Who sent the invitation: the calendar server, Creneau by e-mail, or nobody (no SMTP).
    invitationKey: invitationNoticeKey(invitedByFor(b.connected.provider, b.event.invitedBy), ctx.mailer !== null),
    // A request awaiting the staff member's approval; inside the cut-off, no cancel or move.
    pending: b.event.status === 'TENTATIVE',
    mayChange: clientMayChangeBooking(b, ctx.clock.now()),
  });
  /** Refuses a cancel or move inside the service's cut-off (409, nothing changed), saying how to reach the staff member. */
  const refuseInsideCutoff = (b: ManagedBooking): void => {
    if (!clientMayChangeBooking(b, ctx.clock.now())) throw new AppError(409, 'booking:cutoff_notice', { staff: b.staff.displayName, email: b.staff.email });
  };
  /** The client's language and zone, as the booking's e-mails and links use them. */
  const who = (req: Request, res: Response, b: ManagedBooking): ClientSide => ({ lang: locals(res).lang, tz: zoneOf(req, b) });

  return { desk, within, t, lng, findStaff, findTarget, clientZone, renderPicker, renderForm, isOffered, noBooking, loadBooking, bookingModel, refuseInsideCutoff, who };
}

/** The public pages: landing, staff page, slot picker, slots JSON, the booking form. */
function clientPages(ctx: AppContext, kit: BookingKit) {
  const { desk, within, t, findStaff, findTarget, clientZone, renderPicker, renderForm, isOffered } = kit;
  return {
    /** The landing page: the instance's staff list (or the first-run wizard). */
    async showHome(req: Request, res: Response): Promise<void> {
      if (!(await ownerExists(ctx.db))) return res.redirect(303, '/setup');
      render(ctx, req, res, 'home', { people: await listPublicStaff(ctx.db) });
    },

    async showStaff(req: Request, res: Response): Promise<void> {
      ctx.pageCache.share(res);
      const staff = await findStaff(req);
      const services = await listActiveServices(ctx.db, staff.id);
      render(ctx, req, res, 'booking/staff', { title: staff.displayName, person: staff, services });
    },

    async showSlotsJson(req: Request, res: Response): Promise<void> {
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
      const result = connected ? await desk.offeredSlots(staff, service, connected, { start: first.start, end: last.end }, { live: false }) : null;
      if (!result?.ok) {
        res.status(503).json({ error: t(res)('booking:unavailable') });
        return;
      }
      const json = JSON.stringify({ service: service.slug, timeZone: tz, durationMinutes: service.rules.durationMinutes, slots: result.value.map((s) => isoIn(s, tz)) });
      res.type('json').send(json);
      ctx.pageCache.store(req, res, json, locals(res).lang);
    },

    /** The slot picker; with `?start=` the details form for that slot. */
    async showPicker(req: Request, res: Response): Promise<void> {
      const startText = typeof req.query.start === 'string' ? req.query.start : '';
      if (!startText) ctx.pageCache.share(res); // the picker is the same for everyone; the form is not
      const target = await findTarget(req);
      if (!startText) return renderPicker(req, res, target);
      const start = parseInstant(startText);
      if (start === null || !(await isOffered(target, start))) return renderPicker(req, res, target, { notice: 'booking:slot_gone' });
      const tz = clientZone(req, target.staff);
      renderForm(req, res, target, start, tz, mintFormToken(ctx.keyring, target.staff.id, target.service.id, ctx.clock.now()), {}, {});
    },

    async submitBooking(req: Request, res: Response): Promise<void> {
      // Limits are checked once the body is read, so that a client who hits one gets the form
      // back with what they typed and when to try again (DESIGN.md §5).
      const post = within('posts', req, res);
      const target = await findTarget(req);
      const { staff, service } = target;
      const form = (req.body ?? {}) as Record<string, unknown>;
      const tz = clientZone(req, staff);
      const start = typeof form.start === 'string' ? parseInstant(form.start) : null;
      const bookingId = typeof form.form_token === 'string' ? verifyFormToken(ctx.keyring, form.form_token, staff.id, service.id, ctx.clock.now()) : null;
      if (typeof form.website === 'string' && form.website !== '') throw new AppError(400, 'booking:rejected');
      if (!bookingId) throw new AppError(post.allowed ? 400 : 429, post.allowed ? 'booking:form_expired' : 'errors:too_many_requests');
      if (start === null) throw new AppError(post.allowed ? 400 : 429, post.allowed ? 'booking:bad_start' : 'errors:too_many_requests');
      const { details, values } = parseClientDetails(form, service.fields, service.questions, t(res)('booking:answer_yes'));
      const formToken = String(form.form_token);
      const again = (status: number, notice: string, extra: Partial<{ errors: FormErrors; noticeParams: Record<string, unknown>; alternatives: readonly number[] }> = {}) =>
        renderForm(req, res, target, extra.alternatives?.[0] ?? start, tz, formToken, values, extra.errors ?? {}, status, { notice, ...extra });
      const tooMany = (d: RateDecision) => again(429, 'booking:too_many_retry', { noticeParams: { minutes: Math.ceil(d.retryAfterSeconds / 60) } });
      if (!post.allowed) return tooMany(post);
      if (!details.ok) return renderForm(req, res, target, start, tz, formToken, values, details.error, 422);
      // Only now does the attempt cost something: it reaches the calendar.
      const attempt = within('bookings', req, res);
      if (!attempt.allowed) return tooMany(attempt);
      const connected = await ctx.calendars.forStaff(staff.id, staff.timeZone);
      if (!connected) throw new AppError(503, 'booking:unavailable');
      const side: ClientSide = { lang: locals(res).lang, tz };
      if (policyOf(service).confirmEmail && ctx.mailer) {
        // Double opt-in: nothing is written now; the request travels sealed in the e-mailed link.
        if (!(await isOffered(target, start))) return again(409, 'booking:slot_taken', { alternatives: await desk.nextSlots(staff, service, connected, start) });
        await desk.requestConfirmation({ staffId: staff.id, serviceId: service.id, start, tz, lang: side.lang, formId: bookingId, client: details.value }, service, staff);
        return render(
          ctx,
          req,
          res,
          'booking/message',
          { title: t(res)('booking:optin_check_title'), lines: [{ key: 'booking:optin_check_body', params: { email: details.value.email, minutes: OPT_IN_TTL_MS / 60_000 } }], person: null, action: null },
          202,
        );
      }
      const booked = await desk.book(staff, service, connected, start, details.value, bookingId, side);
      if (booked.ok) return res.redirect(303, `/b/${booked.value}?tz=${encodeURIComponent(tz)}${clockQuery(req)}`);
      switch (booked.error) {
        case 'taken':
          return again(409, 'booking:slot_taken', { alternatives: await desk.nextSlots(staff, service, connected, start) });
        case 'client_cap':
          return again(429, 'booking:client_cap');
        case 'cancelled':
          // The form's booking was made and cancelled since: it is never made again (issue #13).
          return render(ctx, req, res, 'booking/cancelled', { title: t(res)('booking:form_used_title'), bodyKey: 'booking:form_used_body', person: staff, noticeKey: null }, 410);
        default:
          throw new AppError(503, 'booking:unavailable');
      }
    },
  };
}

/** The pages of a booking link (/b/:token): manage, .ics, cancel, reschedule. */
function manageLinkPages(ctx: AppContext, kit: BookingKit) {
  const { desk, within, t, clientZone, renderPicker, noBooking, loadBooking, bookingModel, refuseInsideCutoff, who } = kit;
  return {
    /**
     * Cancels and moves: a valid booking link has its own, generous bucket (a burst of bookings
     * from the same address must not stop its client from cancelling); any other link is cheap.
     */
    async limitManage(req: Request, res: Response, next: NextFunction): Promise<void> {
      const valid = await desk.recognises(String(req.params.token ?? ''));
      if (!within(valid ? 'manage' : 'posts', req, res).allowed) return next(new AppError(429, 'errors:too_many_requests'));
      next();
    },

    /** Managing a booking: the token is the only key; nothing is cached by intermediaries. */
    noStore(_req: Request, res: Response, next: NextFunction): void {
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('X-Robots-Tag', 'noindex');
      next();
    },

    async showManage(req: Request, res: Response): Promise<void> {
      const loaded = await desk.load(String(req.params.token ?? ''));
      if (!loaded.ok && loaded.error === 'gone' && req.query.cancelled === '1') {
        // The event is gone; the public username in the link offers "book again" with the same person.
        const u = typeof req.query.u === 'string' && /^[a-z0-9-]{1,32}$/.test(req.query.u) ? req.query.u : '';
        const person = u ? await findStaffByUsername(ctx.db, u) : undefined;
        return render(ctx, req, res, 'booking/cancelled', { title: t(res)('booking:cancelled_title'), person: person ?? null, noticeKey: cancellationNoticeKey(req.query.sent) });
      }
      if (!loaded.ok) throw noBooking(loaded.error);
      const b = loaded.value;
      const confirmCancel = req.query.action === 'cancel' && clientMayChangeBooking(b, ctx.clock.now());
      const flash = req.query.moved === '1' ? 'booking:moved_notice' : null;
      render(ctx, req, res, confirmCancel ? 'booking/cancel' : 'booking/manage', { noteMax: CANCEL_NOTE_MAX, note: '', noteError: null, ...bookingModel(req, res, b), flash });
    },

    async downloadIcs(req: Request, res: Response): Promise<void> {
      const b = await loadBooking(req);
      res.setHeader('Content-Disposition', 'attachment; filename="booking.ics"');
      res.type('text/calendar; charset=utf-8').send(desk.icsFor(b));
    },

    async cancelBooking(req: Request, res: Response): Promise<void> {
      const loaded = await desk.load(String(req.params.token ?? ''));
      // Cancelling twice answers "already cancelled" (idempotent).
      if (!loaded.ok && loaded.error === 'gone') return res.redirect(303, `/b/${String(req.params.token)}?cancelled=1`);
      if (!loaded.ok) throw noBooking(loaded.error);
      const b = loaded.value;
      refuseInsideCutoff(b);
      // A short message for the staff member: into their e-mail and the cancelled event, never to disk.
      const note = String((req.body as Record<string, unknown> | undefined)?.message ?? '').replace(/\r\n?/g, '\n').trim();
      if (note.length > CANCEL_NOTE_MAX || hasTextControl(note)) {
        return render(ctx, req, res, 'booking/cancel', { ...bookingModel(req, res, b), note: note.slice(0, CANCEL_NOTE_MAX * 2), noteError: 'booking:err_note', noteMax: CANCEL_NOTE_MAX }, 422);
      }
      const cancelled = await desk.cancel(b, who(req, res, b), note);
      if (!cancelled.ok) throw new AppError(503, 'booking:unavailable');
      res.redirect(303, `/b/${b.token}?cancelled=1&u=${b.staff.username}&sent=${cancelled.value}`);
    },

    async showReschedule(req: Request, res: Response): Promise<void> {
      const b = await loadBooking(req);
      if (!b.service || !b.service.active) throw new AppError(409, 'booking:cannot_reschedule');
      refuseInsideCutoff(b);
      await renderPicker(req, res, { staff: b.staff, service: b.service }, { manage: b });
    },

    async submitReschedule(req: Request, res: Response): Promise<void> {
      const b = await loadBooking(req);
      if (!b.service || !b.service.active) throw new AppError(409, 'booking:cannot_reschedule');
      refuseInsideCutoff(b);
      const form = (req.body ?? {}) as Record<string, unknown>;
      const start = typeof form.start === 'string' ? parseInstant(form.start) : null;
      if (start === null) throw new AppError(400, 'booking:bad_start');
      const tz = clientZone(req, b.staff);
      const moved = await desk.reschedule(b, start, { lang: locals(res).lang, tz });
      if (moved.ok) return res.redirect(303, `/b/${b.token}?moved=1&was=${encodeURIComponent(isoIn(b.event.start, tz))}&tz=${encodeURIComponent(tz)}${clockQuery(req)}`);
      if (moved.error === 'taken') {
        const taken = await desk.nextSlots(b.staff, b.service, b.connected, start);
        return renderPicker(req, res, { staff: b.staff, service: b.service }, { manage: b, status: 409, notice: 'booking:slot_taken', taken, tz, date: dateIn(start, tz) });
      }
      throw new AppError(503, 'booking:unavailable');
    },
  };
}

/** The staff member's approve/decline links and the client's double opt-in link: GET shows a button, POST acts. */
function requestPages(ctx: AppContext, kit: BookingKit) {
  const { desk, t, renderForm, noBooking } = kit;
  const page = (req: Request, res: Response, title: string, lines: { key: string; params?: Record<string, unknown> }[], extra: { action?: { url: string; label: string; tz?: string; danger?: boolean }; person?: StaffRow | null } = {}, status = 200) =>
    render(ctx, req, res, 'booking/message', { title: t(res)(title), lines, action: extra.action ?? null, person: extra.person ?? null }, status);

  const actionOf = (req: Request) => (req.path.startsWith('/approve/') ? 'approve' : 'decline') as 'approve' | 'decline';

  /** The pending booking behind an opt-in link, with what is needed to make it; throws the page for a dead link. */
  const openLink = async (req: Request, res: Response) => {
    const opened = desk.openConfirmation(String(req.params.sealed ?? ''));
    if (!opened.ok) {
      if (opened.error === 'expired') {
        page(req, res, 'booking:optin_expired_title', [{ key: 'booking:optin_expired_body', params: { minutes: OPT_IN_TTL_MS / 60_000 } }], {}, 410);
        return null;
      }
      throw notFound();
    }
    const pending = opened.value;
    const staff = await findStaffById(ctx.db, pending.staffId);
    const service = staff ? await findServiceById(ctx.db, staff.id, pending.serviceId) : undefined;
    if (!staff || !service || !service.active) throw notFound();
    return { pending, staff, service };
  };

  return {
    async showApproval(req: Request, res: Response): Promise<void> {
      const loaded = await desk.loadRequest(String(req.params.token ?? ''));
      if (!loaded.ok) throw noBooking(loaded.error);
      const b = loaded.value;
      const action = actionOf(req);
      // The staff member's page: times in their own zone.
      const m = manageModel(b, { title: '', tz: b.staff.timeZone, lang: kit.lng(res), now: ctx.clock.now(), baseUrl: ctx.config.baseUrl.toString() });
      page(req, res, `booking:approval_${action}_title`, [{ key: 'booking:approval_summary', params: { client: b.event.attendee.name, email: b.event.attendee.email, service: m.serviceTitle, when: m.when, zone: m.zoneLabel } }], {
        action: { url: req.originalUrl.split('?')[0] ?? '', label: `booking:approval_${action}_button`, danger: action === 'decline' },
      });
    },

    async submitApproval(req: Request, res: Response): Promise<void> {
      const loaded = await desk.loadRequest(String(req.params.token ?? ''));
      if (!loaded.ok) throw noBooking(loaded.error);
      const answered = await desk.answerRequest(loaded.value, actionOf(req));
      if (!answered.ok) {
        if (answered.error === 'conflict') return page(req, res, 'booking:approval_conflict_title', [{ key: 'booking:approval_conflict_body' }], {}, 409);
        throw noBooking(answered.error);
      }
      page(req, res, `booking:approval_${answered.value}_title`, [{ key: `booking:approval_${answered.value}_body` }]);
    },

    async showConfirmLink(req: Request, res: Response): Promise<void> {
      const link = await openLink(req, res);
      if (!link) return;
      page(req, res, 'booking:optin_confirm_title', [{ key: 'booking:optin_confirm_body', params: { service: link.service.title, staff: link.staff.displayName } }], {
        action: { url: req.originalUrl.split('?')[0] ?? '', label: 'booking:optin_confirm_button', tz: link.pending.tz },
      });
    },

    async submitConfirmLink(req: Request, res: Response): Promise<void> {
      const link = await openLink(req, res);
      if (!link) return;
      const { pending, staff, service } = link;
      const connected = await ctx.calendars.forStaff(staff.id, staff.timeZone);
      if (!connected) throw new AppError(503, 'booking:unavailable');
      const booked = await desk.confirmPending(pending, staff, service, connected);
      if (booked.ok) return res.redirect(303, `/b/${booked.value}?tz=${encodeURIComponent(pending.tz)}`);
      if (booked.error === 'taken') {
        // Taken meanwhile: the form again, filled in, with other times (DESIGN.md §5).
        const c = pending.client;
        const values: Record<string, string> = { first_name: c.firstName, last_name: c.lastName, email: c.email, phone: c.phone, ...c.extra };
        const alternatives = await desk.nextSlots(staff, service, connected, pending.start);
        return renderForm(req, res, { staff, service }, alternatives[0] ?? pending.start, pending.tz, mintFormToken(ctx.keyring, staff.id, service.id, ctx.clock.now()), values, {}, 409, { notice: 'booking:slot_taken', alternatives });
      }
      if (booked.error === 'client_cap') throw new AppError(429, 'booking:client_cap');
      if (booked.error === 'cancelled') return render(ctx, req, res, 'booking/cancelled', { title: t(res)('booking:form_used_title'), bodyKey: 'booking:form_used_body', person: staff, noticeKey: null }, 410);
      throw new AppError(503, 'booking:unavailable');
    },
  };
}

/** The booking, cancel and reschedule forms: small and few fields. */
export const bookingBody = urlencoded({ extended: false, limit: '16kb', parameterLimit: 40 });
