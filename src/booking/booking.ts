import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../crypto/keyring.js';
import { BOOKING_ID, newBookingId } from '../crypto/token.js';

/**
 * Pure pieces of the public booking flow: its limits and the anti-forgery/idempotency form
 * token. Nothing here touches the disk: the calendar is the only record of a booking.
 */

export const FORM_TOKEN_TTL_MS = 6 * 3600_000;
export const BUSY_CACHE_TTL_MS = 60_000;
export const TOKEN_GRACE_MS = 7 * 24 * 3600_000;
export const MAX_BOOKINGS_PER_CLIENT_PER_DAY = 3;

/** A booking link as its client is given it (e-mails, the event, pages), with their zone: its page, or its `/reschedule`. */
export function bookingLink(baseUrl: string, token: string, tz: string, page: '' | '/reschedule' = ''): string {
  return `${baseUrl}b/${token}${page}?tz=${encodeURIComponent(tz)}`;
}

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
