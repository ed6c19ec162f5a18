import { listPasskeys } from './passkeys.repo.js';
import type { TFunction } from 'i18next';
import { validateRules } from '../availability/slots.js';
import { defaultRules, defaultSchedule, sameHours, SLUG_RE } from '../catalog/catalog.js';
import { RESERVED_SLUGS, ruleLimitParams } from '../catalog/catalog.form.js';
import { findService, insertService, listServices, updateService } from '../catalog/catalog.repo.js';
import { findSchedule, saveSchedule } from '../catalog/schedule.repo.js';
import type { Db } from '../db/database.js';
import type { Deps } from '../deps.js';
import { err, ok, type Result } from '../lib/result.js';
import { normalizeEmail, normalizeUsername, profileErrors } from './accounts.js';
import { findStaffById, findStaffByUsername, findTaken, updateProfile } from './accounts.repo.js';
import { FORMAT, type Portable, type PortableService } from './portable.js';
import type { WeeklySchedule } from '../catalog/catalog.js';

/**
 * An account's data in the `creneau/1` format (DESIGN.md §5): its profile, its weekly schedule
 * and its services (each with its effective hours, also when it uses the schedule).
 * Export for "your data" and `creneau export`; import for `creneau import`.
 */

/** A staff member's profile and services in the `creneau/1` format (never credentials). */
export async function exportAccount(db: Db, staffId: number): Promise<Portable | undefined> {
  const me = await findStaffById(db, staffId);
  if (!me) return undefined;
  const services = await listServices(db, staffId);
  const passkeys = await listPasskeys(db, staffId);
  const schedule = (await findSchedule(db, staffId)) ?? defaultSchedule();
  return {
    format: FORMAT,
    profile: { username: me.username, displayName: me.displayName, email: me.email, timeZone: me.timeZone, locale: me.locale, bio: me.bio, place: me.place },
    services: services.map((s) => ({
      slug: s.slug,
      title: s.title,
      description: s.description,
      location: s.location,
      durationMinutes: s.rules.durationMinutes,
      stepMinutes: s.rules.stepMinutes,
      bufferBeforeMinutes: s.rules.bufferBeforeMinutes,
      bufferAfterMinutes: s.rules.bufferAfterMinutes,
      minimumNoticeMinutes: s.rules.minimumNoticeMinutes,
      horizonDays: s.rules.horizonDays,
      dailyCap: s.rules.dailyCap,
      // The effective hours, also for a service that uses the schedule (catalog.repo resolves them).
      hours: copyHours(s.rules.hours),
      overrides: s.rules.overrides.map((o) => ({ date: o.date, hours: o.hours.map((h) => [h[0], h[1]] as [string, string]) })),
      fields: { ...s.fields },
      active: s.active,
      questions: s.questions.map((q) => ({ ...q, options: [...q.options] })),
      reminders: [...s.reminders],
      approval: s.approval,
      confirmEmail: s.confirmEmail,
      cancelCutoffMinutes: s.cancelCutoffMinutes,
      usesSchedule: s.usesSchedule,
    })),
    schedule: { hours: copyHours(schedule.hours), overrides: schedule.overrides.map((o) => ({ date: o.date, hours: o.hours.map((h) => [h[0], h[1]] as [string, string]) })) },
    // Public parts only: the private keys never left the staff member's devices.
    ...(passkeys.length > 0
      ? {
          passkeys: passkeys.map((p) => ({
            name: p.name,
            credentialId: p.credentialId,
            publicKey: Buffer.from(p.publicKey).toString('base64url'),
            createdAt: new Date(p.createdAt).toISOString(),
            lastUsedAt: p.lastUsedAt === null ? null : new Date(p.lastUsedAt).toISOString(),
          })),
        }
      : {}),
  };
}

function copyHours(h: WeeklySchedule['hours']): Portable['services'][number]['hours'] {
  return { mon: [...h.mon], tue: [...h.tue], wed: [...h.wed], thu: [...h.thu], fri: [...h.fri], sat: [...h.sat], sun: [...h.sun] } as Portable['services'][number]['hours'];
}

function rulesOf(s: PortableService) {
  return {
    durationMinutes: s.durationMinutes,
    stepMinutes: s.stepMinutes,
    bufferBeforeMinutes: s.bufferBeforeMinutes,
    bufferAfterMinutes: s.bufferAfterMinutes,
    minimumNoticeMinutes: s.minimumNoticeMinutes,
    horizonDays: s.horizonDays,
    dailyCap: s.dailyCap,
    hours: s.hours,
    overrides: s.overrides,
  };
}

/**
 * Imports a document for an existing staff member: the profile is updated and services are
 * matched by slug (created or updated), all in one transaction, after every check passed.
 * The calendar block is the caller's business (it needs the calendar area).
 */
export async function importAccount(
  deps: Pick<Deps, 'db' | 'clock'>,
  t: TFunction,
  username: string,
  doc: Portable,
  /** Extra writes in the same transaction (the calendar connection of `creneau import`). */
  within?: (trx: Db, staffId: number) => Promise<void>,
): Promise<Result<{ readonly created: number; readonly updated: number }, readonly string[]>> {
  const me = await findStaffByUsername(deps.db, normalizeUsername(username));
  if (!me) return err([`no staff member is called "${username}"`]);
  const p = { ...doc.profile, username: normalizeUsername(doc.profile.username), email: normalizeEmail(doc.profile.email) };
  if (p.username !== me.username) return err([`profile.username is "${doc.profile.username}" but --user is "${me.username}"`]);
  const errors: string[] = profileErrors(p).map((e) => `profile.${e.field}: ${t(e.key, e.params ?? {})}`);
  const taken = await findTaken(deps.db, p.username, p.email, me.id);
  if (taken.email) errors.push(`profile.email: ${t('admin:errors.email_taken')}`);
  if (doc.schedule) {
    for (const e of validateRules({ ...defaultRules(), ...doc.schedule }, p.timeZone)) errors.push(`schedule.${e.field}: ${t(`admin:services.errors.${e.code}`, ruleLimitParams(e.field))}`);
  }
  // A service that uses the schedule must carry the schedule's hours: a file edited by hand could say two things.
  const schedule = doc.schedule ?? (await findSchedule(deps.db, me.id)) ?? defaultSchedule();
  const slugs = new Set<string>();
  doc.services.forEach((s, i) => {
    if (s.usesSchedule && !sameHours({ hours: s.hours, overrides: s.overrides }, schedule)) {
      errors.push(`services[${i}].hours: differ from the weekly schedule ${doc.schedule ? '"schedule"' : 'of the account'}, which this service uses; remove "usesSchedule" to give it these hours of its own, or give it the schedule's`);
    }
    if (!SLUG_RE.test(s.slug) || RESERVED_SLUGS.has(s.slug)) errors.push(`services[${i}].slug: ${t('admin:services.errors.slug_format')}`);
    if (slugs.has(s.slug)) errors.push(`services[${i}].slug: "${s.slug}" appears twice`);
    slugs.add(s.slug);
    if (s.title.trim() === '') errors.push(`services[${i}].title: ${t('admin:errors.required')}`);
    for (const e of validateRules(rulesOf(s), p.timeZone)) errors.push(`services[${i}].${e.field}: ${t(`admin:services.errors.${e.code}`, ruleLimitParams(e.field))}`);
  });
  if (errors.length > 0) return err(errors);
  const now = deps.clock.now();
  let created = 0;
  let updated = 0;
  await deps.db.transaction().execute(async (trx) => {
    await updateProfile(trx, me.id, p, now);
    if (doc.schedule) await saveSchedule(trx, me.id, doc.schedule, now);
    for (const s of doc.services) {
      const write = {
        slug: s.slug,
        title: s.title,
        description: s.description,
        location: s.location,
        rules: rulesOf(s),
        fields: s.fields,
        active: s.active,
        questions: s.questions,
        reminders: s.reminders,
        approval: s.approval,
        confirmEmail: s.confirmEmail,
        cancelCutoffMinutes: s.cancelCutoffMinutes,
        usesSchedule: s.usesSchedule,
      };
      const existing = await findService(trx, me.id, s.slug);
      if (existing) {
        await updateService(trx, me.id, existing.id, write, now);
        updated++;
      } else {
        await insertService(trx, me.id, write, now);
        created++;
      }
    }
    if (within) await within(trx, me.id);
  });
  return ok({ created, updated });
}
