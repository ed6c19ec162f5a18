import { z } from 'zod';
import type { ServiceRules, Weekday } from '../availability/slots.js';

/**
 * Services offered by a staff member: domain types, the JSON shapes of the `rules` and
 * `fields` columns (validated with zod whenever they are read or imported) and the defaults
 * of a new service. Pure: no I/O.
 */

export const FIELD_NAMES = ['note', 'address', 'company', 'job_title', 'conference'] as const;
export type FieldName = (typeof FIELD_NAMES)[number];
export const FIELD_MODES = ['off', 'optional', 'required'] as const;
export type FieldMode = (typeof FIELD_MODES)[number];

/** Which optional client fields the booking form shows, and whether they are required. */
export type ServiceFields = Readonly<Record<FieldName, FieldMode>>;

export const DAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** The longest slug (the editor's `maxlength` too). */
export const SLUG_MAX = 48;
export const SLUG_RE = new RegExp(`^[a-z0-9-]{1,${SLUG_MAX}}$`);

/** A service as the rest of the product sees it (rules and fields parsed). */
export interface ServiceRow {
  readonly id: number;
  readonly staffId: number;
  readonly slug: string;
  readonly title: string;
  readonly description: string;
  readonly location: string;
  readonly rules: ServiceRules;
  readonly fields: ServiceFields;
  readonly active: boolean;
}

const TIME = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const timeSchema = z.string().regex(TIME);
const rangeSchema = z.tuple([timeSchema, timeSchema]);
const rangesSchema = z.array(rangeSchema).max(10);

export const hoursSchema = z
  .object({ mon: rangesSchema, tue: rangesSchema, wed: rangesSchema, thu: rangesSchema, fri: rangesSchema, sat: rangesSchema, sun: rangesSchema })
  .strict();

export const overrideSchema = z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), hours: rangesSchema }).strict();

const minutes = z.number().int().min(0).max(365 * 1440);

/** The stored `rules` column (ServiceRules of src/availability/slots.ts). */
export const rulesSchema = z
  .object({
    durationMinutes: minutes,
    stepMinutes: minutes,
    bufferBeforeMinutes: minutes,
    bufferAfterMinutes: minutes,
    minimumNoticeMinutes: minutes,
    horizonDays: z.number().int().min(0).max(3650),
    dailyCap: z.number().int().min(0).max(100000).nullable(),
    hours: hoursSchema,
    overrides: z.array(overrideSchema).max(500),
  })
  .strict();

const modeSchema = z.enum(FIELD_MODES);

/** The stored `fields` column. */
export const fieldsSchema = z
  .object({ note: modeSchema, address: modeSchema, company: modeSchema, job_title: modeSchema, conference: modeSchema })
  .strict();

/** Parses the `rules` JSON column; throws on a shape the product never writes. */
export function parseRules(json: string): ServiceRules {
  return rulesSchema.parse(JSON.parse(json));
}

/** Parses the `fields` JSON column; throws on a shape the product never writes. */
export function parseFields(json: string): ServiceFields {
  return fieldsSchema.parse(JSON.parse(json));
}

/** The rules of a new service: 30 min, Mon–Fri 09:00–12:00 and 14:00–17:00, notice 2 h, 60 days. */
export function defaultRules(): ServiceRules {
  const work: [string, string][] = [
    ['09:00', '12:00'],
    ['14:00', '17:00'],
  ];
  return {
    durationMinutes: 30,
    stepMinutes: 30,
    bufferBeforeMinutes: 0,
    bufferAfterMinutes: 0,
    minimumNoticeMinutes: 120,
    horizonDays: 60,
    dailyCap: null,
    hours: { mon: work, tue: work, wed: work, thu: work, fri: work, sat: [], sun: [] },
    overrides: [],
  };
}

/** The client fields of a new service: only the note, optional. */
export function defaultFields(): ServiceFields {
  return { note: 'optional', address: 'off', company: 'off', job_title: 'off', conference: 'off' };
}
