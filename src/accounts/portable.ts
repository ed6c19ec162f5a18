import * as z from 'zod';
import { LOCALES } from '../config.js';
import { hasLineControl, hasTextControl } from '../lib/text.js';
import { cancelCutoffSchema, fieldsSchema, questionsSchema, remindersSchema, rulesSchema, scheduleSchema } from '../catalog/catalog.js';
import { err, ok, type Result } from '../lib/result.js';

/**
 * The portability format `creneau/1` (DESIGN.md §5 "Import / export format"), shared by
 * `creneau import`/`export` and /admin/data. Every object is strict: an unknown key is refused
 * and named. `calendar` is accepted on import only and never written by export. `passkeys`
 * (public parts only) is written by export and ignored on import: a passkey is bound to the site
 * that registered it. `schedule` (weekly hours and special days) and a service's `usesSchedule`
 * are optional: a file without them imports as before, every service with its own hours.
 */

export const FORMAT = 'creneau/1';

const shortText = (max: number) => z.string().max(max);
/** One line that reaches e-mail headers or iCalendar properties: no control character, no line break. */
const lineText = (max: number) => shortText(max).refine((v) => !hasLineControl(v), { message: 'contains a line break or an invisible control character (this field is one line of plain text)' });
/** A multi-line text: line feeds and tabs only. */
const multiText = (max: number) => shortText(max).refine((v) => !hasTextControl(v), { message: 'contains an invisible control character (only line feeds and tabs are allowed)' });

export const profileSchema = z
  .object({
    username: lineText(64),
    displayName: lineText(80),
    email: lineText(254),
    timeZone: lineText(64),
    locale: z.enum(LOCALES as unknown as ['en', 'fr']),
    bio: multiText(1000),
    place: lineText(200),
  })
  .strict();

export const portableServiceSchema = z
  .object({
    slug: lineText(64),
    title: lineText(120),
    description: multiText(4000),
    location: lineText(300),
    ...rulesSchema.shape,
    fields: fieldsSchema,
    active: z.boolean(),
    // Added by DESIGN.md §5 "Service fields added": optional on import, always written on export.
    questions: questionsSchema.default([]),
    reminders: remindersSchema.default([]),
    approval: z.boolean().default(false),
    confirmEmail: z.boolean().default(false),
    cancelCutoffMinutes: cancelCutoffSchema.default(0),
    // Issue 15: the service follows the document's `schedule`; its own `hours` and `overrides` still
    // say the same (its effective hours), so a reader that ignores the schedule books the same slots.
    usesSchedule: z.boolean().default(false),
  })
  .strict();

export const calendarSchema = z
  .object({
    provider: z.enum(['caldav', 'google']),
    url: shortText(2000).optional(),
    username: shortText(320),
    password: shortText(4000).optional(),
    calendar: shortText(2000),
    conflictCalendars: z.array(shortText(2000)).max(50),
  })
  .strict();

export const passkeySchema = z
  .object({
    name: shortText(60),
    credentialId: shortText(2000),
    publicKey: shortText(4000),
    createdAt: shortText(40),
    lastUsedAt: shortText(40).nullable(),
  })
  .strict();

export const portableSchema = z
  .object({
    format: z.literal(FORMAT),
    profile: profileSchema,
    services: z.array(portableServiceSchema).max(500),
    /** The staff member's weekly schedule (issue 15); absent from files written before it existed. */
    schedule: scheduleSchema.optional(),
    calendar: calendarSchema.optional(),
    passkeys: z.array(passkeySchema).max(100).optional(),
  })
  .strict();

export type Portable = z.infer<typeof portableSchema>;
export type PortableService = z.infer<typeof portableServiceSchema>;
export type PortableCalendar = z.infer<typeof calendarSchema>;

function where(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out === '' ? 'the top level' : out;
}

/** Parses a `creneau/1` document; problems are plain English lines naming the key. */
export function fromJson(text: string): Result<Portable, readonly string[]> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return err(['the file is not valid JSON']);
  }
  const parsed = portableSchema.safeParse(json);
  if (parsed.success) return ok(parsed.data);
  const errors = parsed.error.issues.slice(0, 20).map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `unknown key "${k}" at ${where(issue.path)}`).join('; ');
    }
    return `${where(issue.path)}: ${issue.message}`;
  });
  return err(errors);
}

/** Writes a document (never with a calendar block: export carries no credentials). */
export function toJson(doc: Portable): string {
  const { calendar: _calendar, ...rest } = doc;
  return `${JSON.stringify(rest, null, 2)}\n`;
}
