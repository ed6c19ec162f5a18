import { createHmac } from 'node:crypto';
import * as z from 'zod';
import type { Keyring } from '../crypto/keyring.js';
import { open, seal, SealError } from '../crypto/seal.js';
import { base32hex, BOOKING_ID } from '../crypto/token.js';
import { err, ok, type Result } from '../lib/result.js';
import type { ClientDetails } from './booking.form.js';

/**
 * Double opt-in (DESIGN.md §5 `confirmEmail`): the booking the client asked for travels
 * sealed inside the link e-mailed to them (AES-256-GCM under the instance key), never on disk.
 * The event is written only when the link is used; its id is derived from the sealed request,
 * so using the link twice meets the conditional create (`If-None-Match: *` / fixed Google id)
 * and yields the same single event.
 */

/** How long a confirmation link works. */
export const OPT_IN_TTL_MS = 30 * 60_000;

/** What the client asked for, exactly as the booking form accepted it. */
export interface PendingBooking {
  readonly staffId: number;
  readonly serviceId: number;
  readonly start: number;
  /** The client's zone (every link they get carries it). */
  readonly tz: string;
  /** The language the client booked in (the e-mails and the event recap use it). */
  readonly lang: string;
  /** The id from the form token: one form, one request. */
  readonly formId: string;
  readonly client: ClientDetails;
}

export type OptInFailure = 'invalid' | 'expired';

const AAD = 'booking-opt-in';

const extraSchema = z.record(z.string(), z.string().max(2000));
const pendingSchema = z
  .object({
    v: z.literal(1),
    exp: z.number().int(),
    staffId: z.number().int().positive(),
    serviceId: z.number().int().positive(),
    start: z.number().int(),
    tz: z.string().min(1).max(64),
    lang: z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/),
    formId: z.string().regex(BOOKING_ID),
    client: z
      .object({
        firstName: z.string().max(80),
        lastName: z.string().max(80),
        email: z.string().max(254),
        phone: z.string().max(32),
        extra: extraSchema,
        answers: z.array(z.object({ label: z.string().max(200), value: z.string().max(2000) }).strict()).max(10).optional(),
      })
      .strict(),
  })
  .strict();

/** The link's secret part: the request sealed with its expiry. */
export function sealPending(keyring: Keyring, pending: PendingBooking, now: number): string {
  const payload = { v: 1, exp: now + OPT_IN_TTL_MS, ...pending, client: { ...pending.client, extra: { ...pending.client.extra }, ...(pending.client.answers ? { answers: pending.client.answers.map((a) => ({ label: a.label, value: a.value })) } : {}) } };
  return seal(keyring, JSON.stringify(payload), AAD);
}

/** Opens a link's sealed request: `invalid` for anything forged or damaged, `expired` after 30 minutes. */
export function openPending(keyring: Keyring, sealed: string, now: number): Result<PendingBooking, OptInFailure> {
  if (sealed.length > 8_000 || !/^[A-Za-z0-9._-]+$/.test(sealed)) return err('invalid');
  let text: string;
  try {
    text = open(keyring, sealed, AAD);
  } catch (e) {
    if (e instanceof SealError) return err('invalid');
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return err('invalid');
  }
  const parsed = pendingSchema.safeParse(json);
  if (!parsed.success) return err('invalid');
  const { v: _v, exp, ...pending } = parsed.data;
  if (now >= exp) return err('expired');
  return ok(pending as PendingBooking);
}

/**
 * The event id for a confirmed request: the same request (form, slot, staff member, service)
 * always gives the same id, a different slot a different one. Keyed, so nobody can predict it.
 */
export function optInBookingId(keyring: Keyring, p: Pick<PendingBooking, 'staffId' | 'serviceId' | 'start' | 'formId'>): string {
  const mac = createHmac('sha256', keyring.macKey).update(`opt-in-id|${p.staffId}|${p.serviceId}|${p.start}|${p.formId}`).digest();
  return base32hex(mac.subarray(0, 16));
}
