import type { TFunction } from 'i18next';
import { findStaffById, type StaffRow } from '../accounts/accounts.repo.js';
import { computeSlots, localDate, RulesError } from '../availability/slots.js';
import type { ServiceRow } from '../catalog/catalog.js';
import { findService } from '../catalog/catalog.repo.js';
import type { ConnectionRow } from '../calendars/connection.repo.js';
import type { Connected } from '../calendars/connection.service.js';
import { buildBookingIcs } from '../calendars/ics.js';
import type { BookingEvent, BusyResult, CalendarProvider, InvitedBy, NewBookingEvent, Written } from '../calendars/provider.js';
import { bookingToken, parseToken, verifyBookingToken } from '../crypto/token.js';
import type { Deps } from '../deps.js';
import type { Interval } from '../lib/interval.js';
import { dateIn, dayRange, formatDate, formatTime, isZone, zoneLabel } from '../lib/time.js';
import { LOCALES } from '../config.js';
import { approvalStep, verifyApprovalToken, type ApprovalAction } from './approval.js';
import { openPending, optInBookingId, sealPending, type OptInFailure, type PendingBooking } from './opt-in.js';
import { clientMayChange, policyOf } from './policy.js';
import { BookingLetters } from './booking.mail.js';
import type { ClientDetails } from './booking.form.js';
import { KeyedLock } from '../lib/keyed-lock.js';
import { err, ok, type Result } from '../lib/result.js';
import { TtlCache } from '../lib/ttl-cache.js';
import { bookingLink, BUSY_CACHE_TTL_MS, MAX_BOOKINGS_PER_CLIENT_PER_DAY, TOKEN_GRACE_MS } from './booking.js';

/**
 * The client's journey as use cases: offered slots (cached ≤ 60 s for page views), booking
 * (lock → live re-read → conditional create), and managing a booking by its token. Nothing is
 * stored: a booking exists only as the event in the staff member's calendar.
 */

/** Offered start instants, or why none can be offered (the calendar could not be read completely: fail closed). */
export type SlotsResult = Result<number[], 'unavailable'>;

/**
 * Why a booking or a move was not made: the slot is no longer free, the client already has the
 * day's maximum, the form's booking was made and then cancelled (it is never made again), or
 * the calendar did not answer.
 */
export type BookError = 'taken' | 'client_cap' | 'cancelled' | 'unavailable';
export type MoveError = 'taken' | 'unavailable';

/** What a double submit finds under the form's booking id. */
type Existing = 'same' | 'cancelled' | 'none';

export interface ManagedBooking {
  readonly token: string;
  readonly staff: StaffRow;
  readonly connected: Connected;
  readonly event: BookingEvent;
  readonly service: ServiceRow | undefined;
}

/** Who told the client: the calendar server, Creneau by e-mail, or nobody (Creneau has no SMTP). */
export type Notified = InvitedBy | 'none';

/** Who invites for an event: what the provider reported, else what the server can do. */
export function invitedByFor(provider: CalendarProvider, reported: InvitedBy | undefined): InvitedBy {
  return reported ?? (provider.serverSchedules ? 'server' : 'creneau');
}

/** Why a booking link finds no booking: the event was deleted, the token is not ours (or too old), or the calendar did not answer. */
export type LoadError = 'gone' | 'unknown' | 'unavailable';

/** The client's side of a booking: the language they booked in and their zone (every link and e-mail uses them). */
export interface ClientSide {
  readonly lang: string;
  readonly tz: string;
}

/** What an approve or decline link did. */
export type ApprovalOutcome = 'approved' | 'declined' | 'already_done' | 'too_late';
export type ApprovalError = LoadError | 'conflict';

/** What opening a double opt-in link found. */
export type ConfirmError = OptInFailure | BookError;

/** Whether a booking may still be cancelled or moved by its client (the service's cut-off). */
export function clientMayChangeBooking(b: Pick<ManagedBooking, 'event' | 'service'>, now: number): boolean {
  return clientMayChange(b.event.start, now, policyOf(b.service).cancelCutoffMinutes);
}

/** The language and zone an event's client booked in (else the instance's language, the staff member's zone): its e-mails use them. */
export function clientSideOf(event: Pick<BookingEvent, 'lang' | 'clientTimeZone'>, staffZone: string, defaultLocale: string): ClientSide {
  return { lang: LOCALES.find((l) => l === event.lang) ?? defaultLocale, tz: bookingZone(undefined, event, staffZone) };
}

/** A zone to show a booking in: the one given, else the client's recorded one, else the staff member's. */
export function bookingZone(given: string | undefined, event: Pick<BookingEvent, 'clientTimeZone'>, staffZone: string): string {
  if (given && isZone(given)) return given;
  if (event.clientTimeZone && isZone(event.clientTimeZone)) return event.clientTimeZone;
  return staffZone;
}

export class BookingDesk {
  private readonly lock = new KeyedLock();
  private readonly busyCache = new TtlCache<Interval[]>(BUSY_CACHE_TTL_MS);
  private readonly bookedCache = new TtlCache<{ start: number; serviceSlug: string }[]>(BUSY_CACHE_TTL_MS);
  /**
   * Events this process created in the last minute, per connection (ids and times only). A
   * request for an overlapping slot is refused at once without a calendar round trip: this can
   * only refuse more, never allow more, and spares the calendar a thundering herd.
   */
  private readonly inflight = new Map<string, Promise<BusyResult>>();
  private readonly recent = new Map<number, { id: string; start: number; end: number; at: number }[]>();

  /**
   * `changed` hears of every booking made, cancelled or moved (the public pages' micro-cache);
   * `businessName` signs the e-mails (the owner's business name by default).
   */
  constructor(
    private readonly deps: Deps,
    private readonly changed: () => void = () => undefined,
    businessName: () => string = () => deps.brand.current().name,
  ) {
    this.letters = new BookingLetters(deps, businessName);
  }

  private readonly letters: BookingLetters;

  /** The calendar changed through us: its cached busy times and anything shown from them are stale. */
  private forget(connectionId: number, moved?: string): void {
    // A booking moved or cancelled no longer holds the time this process saw it take.
    if (moved !== undefined) this.recent.set(connectionId, (this.recent.get(connectionId) ?? []).filter((r) => r.id !== moved));
    this.busyCache.dropPrefix(`${connectionId}:`);
    this.bookedCache.dropPrefix(`${connectionId}:`);
    this.changed();
  }

  /**
   * Offered start instants in `range` for a service; `live` skips the cache (booking path);
   * `exclude` is a booking being moved, which must not block its own new time.
   */
  async offeredSlots(
    staff: StaffRow,
    service: ServiceRow,
    connected: Connected,
    range: Interval,
    opts: { live: boolean; exclude?: Interval & { readonly id: string } },
  ): Promise<SlotsResult> {
    if (connected.connection.status !== 'ok') return err('unavailable');
    const r = service.rules;
    const now = this.deps.clock.now();
    const day = 86_400_000;
    // Whole UTC days around the range, so neighbouring requests share cache entries.
    const fetch: Interval = {
      start: Math.floor((range.start - r.bufferBeforeMinutes * 60_000) / day) * day - day,
      end: Math.ceil((range.end + (r.durationMinutes + r.bufferAfterMinutes) * 60_000) / day) * day + day,
    };
    // The calendar leaves the moved booking out (a provider that cannot keeps it busy: fail closed).
    const except = opts.exclude?.id;
    const key = `${connected.connection.id}:${connected.connection.updatedAt}:${fetch.start}:${fetch.end}${except ? `:${except}` : ''}`;
    let busy = opts.live ? undefined : this.busyCache.get(key, now);
    if (!busy) {
      // Page views share one in-flight read per range (a burst of visitors is one calendar call).
      let pending = opts.live ? undefined : this.inflight.get(key);
      if (!pending) {
        pending = connected.provider.busy(fetch, { ...(except ? { exceptBookingId: except } : {}), thorough: opts.live });
        if (!opts.live) {
          this.inflight.set(key, pending);
          void pending.finally(() => this.inflight.delete(key));
        }
      }
      const res = await pending;
      if (!res.ok) {
        this.deps.log.debug('calendar.busy_failed', { provider: connected.provider.kind, reason: res.error });
        return err('unavailable');
      }
      busy = res.value;
      this.busyCache.set(key, busy, now);
    }
    let bookedPerDay: Map<string, number> | undefined;
    if (r.dailyCap !== null) {
      let booked = opts.live ? undefined : this.bookedCache.get(key, now);
      if (!booked) {
        const res = await connected.provider.bookings(fetch);
        if (!res.ok) return err('unavailable');
        booked = res.value.map((b) => ({ start: b.start, serviceSlug: b.serviceSlug }));
        this.bookedCache.set(key, booked, now);
      }
      bookedPerDay = new Map();
      for (const b of booked) {
        if (b.serviceSlug !== service.slug) continue;
        if (opts.exclude && b.start === opts.exclude.start) continue;
        const d = localDate(b.start, staff.timeZone);
        bookedPerDay.set(d, (bookedPerDay.get(d) ?? 0) + 1);
      }
    }
    try {
      const slots = computeSlots({
        rules: r,
        timeZone: staff.timeZone,
        now,
        range,
        busy,
        ...(bookedPerDay ? { bookedPerDay } : {}),
      });
      return ok(slots);
    } catch (e) {
      if (e instanceof RulesError) {
        this.deps.log.error(e, 'booking.offeredSlots');
        return err('unavailable');
      }
      throw e;
    }
  }

  /** The staff-zone day around an instant, widened by a day each side for the slot grid. */
  private dayAround(ms: number, tz: string): Interval {
    return dayRange(dateIn(ms, tz), tz) ?? { start: ms, end: ms + 86_400_000 };
  }

  /**
   * Books `start` for the client: lock, live re-read, conditional create with the form's id.
   * The value is the booking's token.
   */
  async book(staff: StaffRow, service: ServiceRow, connected: Connected, start: number, client: ClientDetails, bookingId: string, who: ClientSide): Promise<Result<string, BookError>> {
    // A request needs SMTP: without it nobody could approve it (it is then booked at once).
    const request = policyOf(service).approval && this.deps.mailer !== null;
    const { connection, provider } = connected;
    const token = bookingToken(this.deps.keyring, { staffId: staff.id, connectionId: connection.id, bookingId });
    /** A double submit finds its first event: nothing new to write or send. */
    const already = async (conflict: boolean): Promise<Result<{ event?: NewBookingEvent; invitedBy?: InvitedBy }, BookError>> => {
      const found = await this.existing(provider, bookingId, start, client.email, conflict);
      return found === 'same' ? ok({}) : err(found === 'cancelled' ? 'cancelled' : 'taken');
    };
    const made = await this.lock.run(connection.id, async (): Promise<Result<{ event?: NewBookingEvent; invitedBy?: InvitedBy }, BookError>> => {
      const now = this.deps.clock.now();
      const guard = { start: start - service.rules.bufferBeforeMinutes * 60_000, end: start + (service.rules.durationMinutes + service.rules.bufferAfterMinutes) * 60_000 };
      const recent = (this.recent.get(connection.id) ?? []).filter((r) => now - r.at < BUSY_CACHE_TTL_MS);
      this.recent.set(connection.id, recent);
      const clash = recent.find((r) => r.start < guard.end && r.end > guard.start);
      if (clash && clash.id !== bookingId) return err('taken');
      const day = this.dayAround(start, staff.timeZone);
      const live = await this.offeredSlots(staff, service, connected, day, { live: true });
      if (!live.ok) return live;
      if (!live.value.includes(start)) return already(false);
      const todays = await provider.bookings(day);
      if (!todays.ok) return err('unavailable');
      const mine = todays.value.filter((b) => b.attendeeEmail.toLowerCase() === client.email.toLowerCase()).length;
      if (mine >= MAX_BOOKINGS_PER_CLIENT_PER_DAY) return err('client_cap');
      const event = { ...this.eventFor(staff, service, start, client, bookingId, token, who), ...(request ? { status: 'TENTATIVE' as const } : {}) };
      const created = await provider.createEvent(event);
      this.forget(connection.id);
      if (created.ok) {
        recent.push({ id: bookingId, start: event.start, end: event.end, at: now });
        return ok({ event, invitedBy: invitedByFor(provider, created.value.invitedBy) });
      }
      // The id exists: this form was posted before (a double submit, or a booking since cancelled).
      if (created.error === 'conflict') return already(true);
      this.deps.log.debug('calendar.create_failed', { provider: provider.kind, reason: created.error });
      return err('unavailable');
    });
    if (!made.ok) return made;
    const event = made.value.event;
    if (event && request) {
      // A request: the client hears it was received, the staff member gets the approve/decline links.
      await this.letters.requestReceived(event, token, who);
      await this.letters.approvalRequest(staff, connection.id, event);
    } else if (event && made.value.invitedBy === 'creneau') await this.letters.invitation(event, 0, 'REQUEST', token, who);
    return ok(token);
  }

  /**
   * What the form's booking id already names: the event its first submit created (same slot and
   * client), a booking made with it and cancelled since (the tombstone; or, after `conflict`,
   * an id the calendar refuses but no longer shows, as Google does), or nothing.
   */
  private async existing(provider: CalendarProvider, id: string, start: number, email: string, conflict: boolean): Promise<Existing> {
    const found = await provider.getEvent(id);
    if (!found.ok) return conflict && found.error === 'not_found' ? 'cancelled' : 'none';
    if (found.value.cancelled) return 'cancelled';
    return found.value.start === start && found.value.attendee.email.toLowerCase() === email.toLowerCase() ? 'same' : 'none';
  }

  /** The next few offered slots from an instant on (for the "slot taken" page). */
  async nextSlots(staff: StaffRow, service: ServiceRow, connected: Connected, from: number): Promise<number[]> {
    const range = { start: Math.max(from, this.deps.clock.now()), end: from + 7 * 86_400_000 };
    const res = await this.offeredSlots(staff, service, connected, range, { live: false });
    return res.ok ? res.value.slice(0, 6) : [];
  }

  private eventFor(staff: StaffRow, service: ServiceRow, start: number, client: ClientDetails, id: string, token: string, who: ClientSide): NewBookingEvent {
    const t = this.deps.i18n.getFixedT(who.lang);
    const name = `${client.firstName} ${client.lastName}`;
    return {
      id,
      start,
      end: start + service.rules.durationMinutes * 60_000,
      timeZone: staff.timeZone,
      summary: t('booking:event_summary', { service: service.title, client: name }),
      description: this.description(t, staff, service, start, client, token, who.tz),
      // "Where" is the service's place; a client's address is in the recap as theirs (DESIGN.md §5).
      location: service.location,
      organizer: { name: staff.displayName, email: staff.email },
      attendee: { name, email: client.email },
      serviceSlug: service.slug,
      lang: who.lang,
      clientTimeZone: who.tz,
    };
  }

  /** The recap the client entered plus the two links (DESIGN.md §3), in the client's language. */
  private description(t: TFunction, staff: StaffRow, service: ServiceRow, start: number, client: ClientDetails, token: string, tz: string): string {
    const base = this.deps.config.baseUrl.toString();
    const lng = t('booking:locale_code');
    const lines = [
      t('booking:event_recap_intro', { service: service.title, staff: staff.displayName }),
      whenLine(start, staff.timeZone, lng),
      '',
      `${t('booking:label_name')}: ${client.firstName} ${client.lastName}`,
      `${t('booking:label_email')}: ${client.email}`,
    ];
    if (client.phone !== '') lines.push(`${t('booking:label_phone')}: ${client.phone}`);
    for (const [k, v] of Object.entries(client.extra)) lines.push(`${t(`booking:label_${k}`)}: ${v}`);
    for (const a of client.answers ?? []) lines.push(`${a.label}: ${a.value}`);
    lines.push('', `${t('booking:event_cancel_link')}: ${bookingLink(base, token, tz)}`, `${t('booking:event_reschedule_link')}: ${bookingLink(base, token, tz, '/reschedule')}`);
    return lines.join('\n');
  }

  /**
   * The recap with its date line moved to the new time, in whichever language it was written
   * (the client's at booking time); unchanged when the line is not there (edited by the staff).
   */
  private movedDescription(description: string, from: number, to: number, tz: string): string {
    for (const locale of LOCALES) {
      const lng = this.deps.i18n.getFixedT(locale)('booking:locale_code');
      const old = whenLine(from, tz, lng);
      if (description.includes(old)) return description.replace(old, whenLine(to, tz, lng));
    }
    return description;
  }

  /** The connection a booking link was made for (its MAC checked in constant time), without reading the calendar. */
  private async connectionOf(token: string, verify: typeof verifyBookingToken = verifyBookingToken) {
    if (!parseToken(token)) return undefined;
    const all = await this.deps.calendars.all();
    return all.find((c) => verify(this.deps.keyring, token, { staffId: c.staffId, connectionId: c.id }));
  }

  /** Whether a booking link is one of ours (cheap: no calendar read). */
  async recognises(token: string): Promise<boolean> {
    return (await this.connectionOf(token)) !== undefined;
  }

  /** The event `bookingId` of a connection, read live, with its staff member and service; `token` is the client's link. */
  private async read(connection: ConnectionRow, bookingId: string, token: string): Promise<Result<ManagedBooking, LoadError>> {
    const staff = await findStaffById(this.deps.db, connection.staffId);
    if (!staff) return err('unknown');
    const connected = { connection, provider: this.deps.calendars.provider(connection, staff.timeZone) };
    const got = await connected.provider.getEvent(bookingId);
    if (!got.ok) return err(got.error === 'not_found' ? 'gone' : 'unavailable');
    const service = await findService(this.deps.db, staff.id, got.value.serviceSlug);
    return ok({ token, staff, connected, event: got.value, service });
  }

  /** Finds a booking by its token: verified against every connection in constant time, then read live. */
  async load(token: string): Promise<Result<ManagedBooking, LoadError>> {
    const parsed = parseToken(token);
    const connection = await this.connectionOf(token);
    if (!parsed || !connection) return err('unknown');
    const read = await this.read(connection, parsed.bookingId, token);
    if (!read.ok) return read;
    if (read.value.event.end + TOKEN_GRACE_MS < this.deps.clock.now()) return err('unknown');
    if (read.value.event.cancelled) return err('gone');
    return read;
  }

  /**
   * Cancels the event (CalDAV keeps a tombstone, Google a cancelled event); idempotent: cancelling twice is "already cancelled". Says who
   * told the client: the server (it sends the CANCEL for an event it scheduled), Creneau, or nobody.
   */
  async cancel(b: ManagedBooking, who: ClientSide, note = ''): Promise<Result<Notified, 'unavailable'>> {
    const { connection, provider } = b.connected;
    const res = await this.lock.run(connection.id, () => provider.cancelEvent(b.event.id, note ? this.cancelNote(note, b.staff.locale) : undefined));
    this.forget(connection.id, b.event.id);
    if (!res.ok && res.error !== 'not_found') return err('unavailable');
    if (!res.ok) return ok('none');
    // The staff member hears of it, with the client's message when they left one (it is also in the CalDAV tombstone).
    await this.letters.cancelledByClient(b.staff, b.event, note);
    if (invitedByFor(provider, b.event.invitedBy) === 'server') return ok('server');
    await this.letters.invitation(b.event, b.event.sequence + 1, 'CANCEL', b.token, who, { bookAgain: `${this.deps.config.baseUrl.toString()}@${b.staff.username}` });
    // A message the SMTP server did not take at once is retried in the background (mailer.ts).
    return ok(this.deps.mailer ? 'creneau' : 'none');
  }

  /** The client's cancellation message as the cancelled event's description says it, in the staff member's language. */
  private cancelNote(note: string, locale: string): string {
    return `${this.deps.i18n.getFixedT(locale)('booking:event_cancel_note')}\n${note}`;
  }

  /** Moves the booking to `start` with the same rules as a new booking (its own slot does not block it). */
  async reschedule(b: ManagedBooking, start: number, who: ClientSide): Promise<Result<string, MoveError>> {
    const { staff, service, connected } = b;
    if (!service) return err('unavailable');
    const { connection, provider } = connected;
    const own = { id: b.event.id, start: b.event.start, end: b.event.end };
    const description = this.movedDescription(b.event.description, b.event.start, start, staff.timeZone);
    const moved = await this.lock.run(connection.id, async (): Promise<Result<Written | null, MoveError>> => {
      const live = await this.offeredSlots(staff, service, connected, this.dayAround(start, staff.timeZone), { live: true, exclude: own });
      if (!live.ok) return live;
      if (start === b.event.start) return ok(null);
      if (!live.value.includes(start)) return err('taken');
      const written = await provider.moveEvent(b.event.id, start, start + service.rules.durationMinutes * 60_000, b.event.etag, description);
      this.forget(connection.id, b.event.id);
      if (written.ok) return written;
      return err(written.error === 'precondition_failed' ? 'taken' : 'unavailable');
    });
    if (!moved.ok) return moved;
    // A request still awaiting approval invites nobody yet.
    if (moved.value && b.event.status !== 'TENTATIVE' && invitedByFor(provider, moved.value.invitedBy) === 'creneau') {
      const end = start + (b.event.end - b.event.start);
      await this.letters.invitation({ ...b.event, start, end, description }, b.event.sequence + 1, 'REQUEST', b.token, who);
    }
    return ok(b.token);
  }

  /** The request behind a staff member's approve/decline link (its MAC checked against every connection), read live. */
  async loadRequest(token: string): Promise<Result<ManagedBooking, LoadError>> {
    const parsed = parseToken(token);
    const connection = await this.connectionOf(token, verifyApprovalToken);
    if (!parsed || !connection) return err('unknown');
    const clientToken = bookingToken(this.deps.keyring, { staffId: connection.staffId, connectionId: connection.id, bookingId: parsed.bookingId });
    return this.read(connection, parsed.bookingId, clientToken);
  }

  /**
   * The staff member's answer to a request. Approve re-checks the slot live (a conflict that
   * appeared meanwhile is reported and nothing is overwritten), confirms the event conditionally
   * and invites the client; decline cancels it and tells the client. Both are idempotent.
   */
  async answerRequest(b: ManagedBooking, action: ApprovalAction): Promise<Result<ApprovalOutcome, ApprovalError>> {
    const state = b.event.cancelled ? 'cancelled' : b.event.status === 'TENTATIVE' ? 'pending' : 'confirmed';
    const step = approvalStep(action, state);
    if (step !== 'act') return ok(step);
    const who = clientSideOf(b.event, b.staff.timeZone, this.deps.config.defaultLocale);
    const { connection, provider } = b.connected;
    if (action === 'decline') {
      const res = await this.lock.run(connection.id, () => provider.cancelEvent(b.event.id));
      this.forget(connection.id);
      if (!res.ok && res.error !== 'not_found') return err('unavailable');
      await this.letters.declined(b, who);
      return ok('declined');
    }
    const { service } = b;
    if (!service) return err('conflict');
    // The request's own time with the service's buffers: anything else busy in it is a conflict that appeared meanwhile
    // (the staff member is not bound by the client-facing rules: notice, horizon, daily cap).
    const guard = { start: b.event.start - service.rules.bufferBeforeMinutes * 60_000, end: b.event.end + service.rules.bufferAfterMinutes * 60_000 };
    const confirmed = await this.lock.run(connection.id, async (): Promise<Result<Written, ApprovalError>> => {
      const busy = await provider.busy(guard, { exceptBookingId: b.event.id, thorough: true });
      if (!busy.ok) return err('unavailable');
      if (!provider.excludesFromBusy || busy.value.some((i) => i.start < guard.end && i.end > guard.start)) return err('conflict');
      const written = await provider.confirmEvent(b.event.id, b.event.etag);
      this.forget(connection.id);
      if (written.ok) return written;
      if (written.error === 'precondition_failed') return err('conflict');
      return err(written.error === 'not_found' ? 'gone' : 'unavailable');
    });
    if (!confirmed.ok) return confirmed;
    if (invitedByFor(provider, confirmed.value.invitedBy) === 'creneau') await this.letters.invitation(b.event, b.event.sequence + 1, 'REQUEST', b.token, who, { moved: false });
    return ok('approved');
  }

  /**
   * Double opt-in, first step: nothing is written; the request travels sealed in the link
   * e-mailed to the client (30 minutes). False when no e-mail could be handed over.
   */
  async requestConfirmation(pending: PendingBooking, service: ServiceRow, staff: StaffRow): Promise<boolean> {
    const sealed = sealPending(this.deps.keyring, pending, this.deps.clock.now());
    return this.letters.optIn(pending, sealed, service, staff);
  }

  /** The request sealed in an opt-in link, or why it cannot be used. */
  openConfirmation(sealed: string): Result<PendingBooking, OptInFailure> {
    return openPending(this.deps.keyring, sealed, this.deps.clock.now());
  }

  /**
   * Double opt-in, second step: the booking is made now, under an id derived from the sealed
   * request, so a second use of the link finds the first event (one event).
   */
  async confirmPending(pending: PendingBooking, staff: StaffRow, service: ServiceRow, connected: Connected): Promise<Result<string, BookError>> {
    const id = optInBookingId(this.deps.keyring, pending);
    return this.book(staff, service, connected, pending.start, pending.client, id, { lang: pending.lang, tz: pending.tz });
  }

  /** The booking as an .ics file for the client's own calendar. */
  icsFor(b: ManagedBooking): string {
    return buildBookingIcs(b.event, { uidHost: this.deps.config.baseUrl.hostname, sequence: b.event.sequence, status: 'CONFIRMED', stamp: this.deps.clock.now() });
  }
}

/** The recap's line with the date, time and zone of a booking. */
function whenLine(start: number, tz: string, lng: string): string {
  return `${formatDate(start, tz, lng)} ${formatTime(start, tz, lng)} — ${zoneLabel(tz, start)}`;
}
