import type { Deps } from '../deps.js';
import { err, ok, type Result } from '../lib/result.js';
import type { FieldError } from '../web/forms.js';
import { defaultSchedule, SLUG_MAX } from './catalog.js';
import { checkServiceForm, type ServiceFormValues } from './catalog.form.js';
import { insertService, slugTaken, updateService } from './catalog.repo.js';
import { findSchedule } from './schedule.repo.js';

/** Use cases of services: save from the editor (import and export live in accounts/portability.ts). */

/**
 * Checks and saves a service from the editor (new when `id` is null); `timeZone` is the staff
 * member's, in which the weekly hours are checked. A slug made from the title gets "-2", "-3"…
 * when another service has it. The value is the service's id.
 */
export async function saveService(
  deps: Pick<Deps, 'db' | 'clock'>,
  staff: { readonly id: number; readonly timeZone: string },
  id: number | null,
  values: ServiceFormValues,
): Promise<Result<number, readonly FieldError[]>> {
  const schedule = (await findSchedule(deps.db, staff.id)) ?? defaultSchedule();
  const checked = checkServiceForm(values, staff.timeZone, schedule);
  if (!checked.ok) return checked;
  let d = checked.value;
  if (values.slug === '') {
    for (let n = 2; n < 100 && (await slugTaken(deps.db, staff.id, d.slug, id ?? 0)); n++) {
      const base = checked.value.slug.slice(0, SLUG_MAX - String(n).length - 1).replace(/-+$/, '');
      d = { ...d, slug: `${base}-${n}` };
    }
  }
  if (await slugTaken(deps.db, staff.id, d.slug, id ?? 0)) return err([{ field: 'slug', key: 'admin:services.errors.slug_taken' }]);
  const now = deps.clock.now();
  if (id === null) return ok(await insertService(deps.db, staff.id, d, now));
  await updateService(deps.db, staff.id, id, d, now);
  return ok(id);
}
