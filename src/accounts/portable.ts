import { z } from 'zod';
import { LOCALES } from '../config.js';
import { fieldsSchema, rulesSchema } from '../catalog/catalog.js';
import { err, ok, type Result } from '../lib/result.js';

/**
 * The portability format `creneau/1` (DESIGN.md §5 "Import / export format"), shared by
 * `creneau import`/`export` and /admin/data. Every object is strict: an unknown key is refused
 * and named. `calendar` is accepted on import only and never written by export.
 */

export const FORMAT = 'creneau/1';

const shortText = (max: number) => z.string().max(max);

export const profileSchema = z
  .object({
    username: shortText(64),
    displayName: shortText(80),
    email: shortText(254),
    timeZone: shortText(64),
    locale: z.enum(LOCALES as unknown as ['en', 'fr']),
    bio: shortText(1000),
    place: shortText(200),
  })
  .strict();

export const portableServiceSchema = z
  .object({
    slug: shortText(64),
    title: shortText(120),
    description: shortText(4000),
    location: shortText(300),
    ...rulesSchema.shape,
    fields: fieldsSchema,
    active: z.boolean(),
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

export const portableSchema = z
  .object({
    format: z.literal(FORMAT),
    profile: profileSchema,
    services: z.array(portableServiceSchema).max(500),
    calendar: calendarSchema.optional(),
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
