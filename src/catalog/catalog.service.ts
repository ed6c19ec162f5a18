import type { Deps } from '../deps.js';
import { err, ok, type Result } from '../lib/result.js';
import type { FieldError } from '../web/forms.js';
import { checkServiceForm, type ServiceFormValues } from './catalog.form.js';
import { insertService, slugTaken, updateService } from './catalog.repo.js';

/** Use cases of services: save from the editor (import and export live in accounts/portability.ts). */

/**
 * Checks and saves a service from the editor (new when `id` is null); `timeZone` is the staff
 * member's, in which the weekly hours are checked. The value is the service's id.
 */
export async function saveService(
  deps: Pick<Deps, 'db' | 'clock'>,
  staff: { readonly id: number; readonly timeZone: string },
  id: number | null,
  values: ServiceFormValues,
): Promise<Result<number, readonly FieldError[]>> {
  const checked = checkServiceForm(values, staff.timeZone);
  if (!checked.ok) return checked;
  const d = checked.value;
  if (await slugTaken(deps.db, staff.id, d.slug, id ?? 0)) return err([{ field: 'slug', key: 'admin:services.errors.slug_taken' }]);
  const now = deps.clock.now();
  if (id === null) return ok(await insertService(deps.db, staff.id, d, now));
  await updateService(deps.db, staff.id, id, d, now);
  return ok(id);
}

