import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../crypto/keyring.js';
import { BOOKING_ID, newBookingId } from '../crypto/token.js';

/**
 * Pure pieces of the public booking flow: the anti-forgery/idempotency form token, the
 * per-connection lock, the short-lived busy cache and the in-memory rate limiter. Nothing
 * here touches the disk: the calendar is the only record of a booking.
 */

export const FORM_TOKEN_TTL_MS = 6 * 3600_000;
export const BUSY_CACHE_TTL_MS = 60_000;
export const TOKEN_GRACE_MS = 7 * 24 * 3600_000;
export const MAX_BOOKINGS_PER_CLIENT_PER_DAY = 3;

/**
 * The hidden `form_token`: a server-chosen booking id, when it was issued and a MAC binding both
 * to the staff member and service. Posting the same form twice reuses the id, so the second
 * submit finds the first event instead of creating another (idempotency without storage).
 */
export function mintFormToken(keyring: Keyring, staffId: number, serviceId: number, now: number): string {
  const id = newBookingId();
  const issued = now.toString(36);
  return `${id}.${issued}.${formMac(keyring, staffId, serviceId, id, issued)}`;
}

/** The booking id in a valid, unexpired form token, or null. */
export function verifyFormToken(keyring: Keyring, token: string, staffId: number, serviceId: number, now: number): string | null {
  const m = /^([0-9a-v]{26})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return null;
  const [, id, issued, mac] = m as unknown as [string, string, string, string];
  const expected = Buffer.from(formMac(keyring, staffId, serviceId, id, issued));
  if (!timingSafeEqual(expected, Buffer.from(mac))) return null;
  const at = parseInt(issued, 36);
  if (!(at <= now + 60_000 && now - at <= FORM_TOKEN_TTL_MS)) return null;
  return BOOKING_ID.test(id) ? id : null;
}

function formMac(keyring: Keyring, staffId: number, serviceId: number, id: string, issued: string): string {
  return createHmac('sha256', keyring.macKey).update(`booking-form|${staffId}|${serviceId}|${id}|${issued}`).digest('base64url');
}

/** One lock per calendar connection: "re-read busy → create" never interleaves (DESIGN.md §3). */
export class KeyedLock {
  private readonly tails = new Map<number, Promise<void>>();

  /** Runs `fn` after every earlier holder of `key` has finished. */
  async run<T>(key: number, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** A cache of at most 60 s for page views (never for the booking itself), memory only. */
export class TtlCache<V> {
  private readonly entries = new Map<string, { at: number; value: V }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 500,
  ) {}

  get(key: string, now: number): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (now - e.at >= this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, now: number): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { at: now, value });
  }

  /** Drops every entry whose key starts with the prefix (after a booking changes the calendar). */
  dropPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}

/**
 * Per-address rate limiting without storing addresses: a keyed hash under a salt that is
 * random, held only in memory and replaced every day, so yesterday's keys cannot be linked.
 */
export class RateLimiter {
  private salt = randomBytes(32);
  private saltDay = -1;
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Records a hit; false when the address is over the limit. */
  hit(address: string, now: number): boolean {
    const day = Math.floor(now / 86_400_000);
    if (day !== this.saltDay) {
      this.salt = randomBytes(32);
      this.saltDay = day;
      this.hits.clear();
    }
    const key = createHmac('sha256', this.salt).update(address).digest('base64url');
    const recent = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    recent.push(now);
    this.hits.set(key, recent);
    if (this.hits.size > 10_000) this.prune(now);
    return recent.length <= this.limit;
  }

  private prune(now: number): void {
    for (const [k, ts] of this.hits) if (ts.every((t) => now - t >= this.windowMs)) this.hits.delete(k);
  }
}

/** Who told the client about a booking or its cancellation, as a query value and message keys. */
export const NOTICES = ['server', 'creneau', 'none'] as const;
export type NoticeBy = (typeof NOTICES)[number];

/**
 * The confirmation page's sentence about the invitation: sent by the calendar server, by
 * Creneau's own e-mail, or not at all (Creneau invites but has no SMTP configured).
 */
export function invitationNoticeKey(invitedBy: 'server' | 'creneau', canMail: boolean): string {
  if (invitedBy === 'server') return 'booking:invitation_by_calendar';
  return canMail ? 'booking:invitation_by_email' : 'booking:invitation_none';
}

/** The cancelled page's sentence about the cancellation notice (`sent` query value; unknown = none shown). */
export function cancellationNoticeKey(sent: unknown): string | null {
  if (sent === 'server') return 'booking:cancellation_by_calendar';
  if (sent === 'creneau') return 'booking:cancellation_by_email';
  if (sent === 'none') return 'booking:cancellation_none';
  return null;
}
