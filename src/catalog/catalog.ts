import * as z from 'zod';
import type { ServiceRules, Weekday } from '../availability/slots.js';
import { hasLineControl } from '../lib/text.js';

/**
 * Services offered by a staff member: domain types, the JSON shapes of the `rules` and
 * `fields` columns (validated with zod whenever they are read or imported) and the defaults
 * of a new service. Pure: no I/O.
 */

export const FIELD_NAMES = ['note', 'address', 'company', 'job_title', 'conference'] as const;
export type FieldName = (typeof FIELD_NAMES)[number];
export const FIELD_MODES = ['off', 'optional', 'required'] as const;
export type FieldMode = (typeof FIELD_MODES)[number];

/**
 * Which optional client fields the booking form shows, and whether they are required.
 * `phone` is asked by default (`required`); name and e-mail are always asked.
 */
export type ServiceFields = Readonly<Record<FieldName, FieldMode>> & { readonly phone: FieldMode };

/** The kinds of a service's own question (DESIGN.md §5 "Service fields added"). */
export const QUESTION_TYPES = ['text', 'textarea', 'choice', 'checkbox'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];

/** One question a service asks; its answer is posted as `q_<id>` and kept in the event only. */
export interface Question {
  readonly id: string;
  readonly label: string;
  readonly type: QuestionType;
  readonly required: boolean;
  /** The choices of a `choice` question (2–20); empty for every other type. */
  readonly options: readonly string[];
}

/** Bounds of the service fields added by DESIGN.md §5, shared by the schema, the editor and import. */
export const EXTRA_LIMITS = {
  maxQuestions: 10,
  questionLabel: 200,
  questionOptions: [2, 20],
  optionLength: 100,
  maxReminders: 3,
  reminderMinutes: [5, 20160],
  cancelCutoffMinutes: [0, 365 * 1440],
} as const;

export const QUESTION_ID_RE = /^[a-z0-9_]{1,32}$/;

/** What a service does around a booking besides the slot rules (DESIGN.md §5). */
export interface ServiceExtras {
  readonly questions: readonly Question[];
  /** Lead times in minutes, each e-mailed to the client once before the start. */
  readonly reminders: readonly number[];
  /** Bookings are written TENTATIVE until the staff member approves. */
  readonly approval: boolean;
  /** Double opt-in: nothing is written until the client opens the e-mailed link. */
  readonly confirmEmail: boolean;
  /** Inside this many minutes before the start, the client can no longer cancel or move. */
  readonly cancelCutoffMinutes: number;
}

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
  readonly questions: readonly Question[];
  readonly reminders: readonly number[];
  readonly approval: boolean;
  readonly confirmEmail: boolean;
  readonly cancelCutoffMinutes: number;
  /** The hours and special days in `rules` come from the staff member's weekly schedule. */
  readonly usesSchedule: boolean;
}

/** A staff member's weekly hours and special days, which services reuse (issue 15). */
export interface WeeklySchedule {
  readonly hours: ServiceRules['hours'];
  readonly overrides: ServiceRules['overrides'];
}

const TIME = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const timeSchema = z.string().regex(TIME);
const rangeSchema = z.tuple([timeSchema, timeSchema]);
const rangesSchema = z.array(rangeSchema).max(10);

export const hoursSchema = z
  .object({ mon: rangesSchema, tue: rangesSchema, wed: rangesSchema, thu: rangesSchema, fri: rangesSchema, sat: rangesSchema, sun: rangesSchema })
  .strict();

export const overrideSchema = z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), hours: rangesSchema }).strict();

/** The most special days a schedule (or a service) holds. */
export const MAX_OVERRIDES = 500;

/** A weekly schedule as stored and as written in `creneau/1` (`schedule`). */
export const scheduleSchema = z.object({ hours: hoursSchema, overrides: z.array(overrideSchema).max(MAX_OVERRIDES) }).strict();

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
    overrides: z.array(overrideSchema).max(MAX_OVERRIDES),
  })
  .strict();

const modeSchema = z.enum(FIELD_MODES);

/** The stored `fields` column; rows written before `phone` existed read as `required`. */
export const fieldsSchema = z
  .object({ note: modeSchema, address: modeSchema, company: modeSchema, job_title: modeSchema, conference: modeSchema, phone: modeSchema.default('required') })
  .strict();

const L = EXTRA_LIMITS;

/** One question; ids, labels and options are checked here for import and the stored column alike. */
export const questionSchema = z
  .object({
    id: z.string().regex(QUESTION_ID_RE, 'must be 1–32 of a–z, 0–9 and _'),
    label: z.string().trim().min(1).max(L.questionLabel).refine((v) => !hasLineControl(v), 'contains a line break or an invisible control character'),
    type: z.enum(QUESTION_TYPES),
    required: z.boolean().default(false),
    options: z.array(z.string().trim().min(1).max(L.optionLength).refine((v) => !hasLineControl(v), 'contains a line break or an invisible control character')).max(L.questionOptions[1]).default([]),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.type === 'choice' && q.options.length < L.questionOptions[0]) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: `a choice needs ${L.questionOptions[0]} to ${L.questionOptions[1]} options` });
    }
    if (q.type !== 'choice' && q.options.length > 0) ctx.addIssue({ code: 'custom', path: ['options'], message: 'only a choice has options' });
    if (new Set(q.options).size !== q.options.length) ctx.addIssue({ code: 'custom', path: ['options'], message: 'options must differ' });
  });

/** Up to ten questions with distinct ids (the stored `questions` column). */
export const questionsSchema = z
  .array(questionSchema)
  .max(L.maxQuestions)
  .superRefine((qs, ctx) => {
    const seen = new Set<string>();
    qs.forEach((q, i) => {
      if (seen.has(q.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `"${q.id}" is used twice` });
      seen.add(q.id);
    });
  });

/** Up to three distinct reminder lead times in minutes (the stored `reminders` column). */
export const remindersSchema = z
  .array(z.number().int().min(L.reminderMinutes[0]).max(L.reminderMinutes[1]))
  .max(L.maxReminders)
  .refine((r) => new Set(r).size === r.length, 'lead times must differ');

export const cancelCutoffSchema = z.number().int().min(L.cancelCutoffMinutes[0]).max(L.cancelCutoffMinutes[1]);

/** Parses the `rules` JSON column; throws on a shape the product never writes. */
export function parseRules(json: string): ServiceRules {
  return rulesSchema.parse(JSON.parse(json));
}

/** Parses the `fields` JSON column; throws on a shape the product never writes. */
export function parseFields(json: string): ServiceFields {
  return fieldsSchema.parse(JSON.parse(json));
}

/** Parses the `questions` JSON column; throws on a shape the product never writes. */
export function parseQuestions(json: string): Question[] {
  return questionsSchema.parse(JSON.parse(json));
}

/** Parses the `reminders` JSON column; throws on a shape the product never writes. */
export function parseReminders(json: string): number[] {
  return remindersSchema.parse(JSON.parse(json));
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

/** The schedule of a staff member who never set one: the hours of defaultRules, no special day. */
export function defaultSchedule(): WeeklySchedule {
  const { hours, overrides } = defaultRules();
  return { hours, overrides };
}

/** Parses the `hours` and `overrides` columns of a schedule; throws on a shape the product never writes. */
export function parseSchedule(hours: string, overrides: string): WeeklySchedule {
  return scheduleSchema.parse({ hours: JSON.parse(hours), overrides: JSON.parse(overrides) });
}

/** The rules a service follows: its own, or its timing with the staff member's hours and special days. */
export function effectiveRules(rules: ServiceRules, usesSchedule: boolean, schedule: WeeklySchedule | undefined): ServiceRules {
  if (!usesSchedule) return rules;
  const s = schedule ?? defaultSchedule();
  return { ...rules, hours: s.hours, overrides: s.overrides };
}

/** Whether two sets of hours and special days say the same thing (import checks a file with them). */
export function sameHours(a: WeeklySchedule, b: WeeklySchedule): boolean {
  const key = (s: WeeklySchedule) => JSON.stringify([DAYS.map((d) => s.hours[d]), [...s.overrides].sort((x, y) => (x.date < y.date ? -1 : 1))]);
  return key(a) === key(b);
}

/** The client fields of a new service: the phone (required, as before it could be chosen) and the note, optional. */
export function defaultFields(): ServiceFields {
  return { note: 'optional', address: 'off', company: 'off', job_title: 'off', conference: 'off', phone: 'required' };
}

/** What a service has before anyone sets the added fields: no questions, no reminders, plain booking. */
export function defaultExtras(): ServiceExtras {
  return { questions: [], reminders: [], approval: false, confirmEmail: false, cancelCutoffMinutes: 0 };
}
