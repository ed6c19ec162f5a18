import { urlencoded, type Request, type Response } from 'express';
import { locals, type AppContext } from '../web/context.js';
import { notFound } from '../web/errors.js';
import { formErrors, NO_ERRORS, type FormErrors } from '../web/forms.js';
import { signedIn } from '../web/guards.js';
import { render } from '../web/render.js';
import { DAYS, defaultExtras, defaultFields, defaultRules, FIELD_MODES, FIELD_NAMES, QUESTION_TYPES } from './catalog.js';
import { readServiceForm, SERVICE_LIMITS, valuesFromService, type ServiceFormValues } from './catalog.form.js';
import { deleteService, findServiceById, listServices } from './catalog.repo.js';
import { saveService } from './catalog.service.js';

/** The services editor: list, new, edit, delete (with a confirmation page). */

/** The editor posts 7 days × 3 rows × 2 times plus override rows: more fields than other forms. */
export const catalogBody = urlencoded({ extended: false, limit: '100kb', parameterLimit: 1500 });

function serviceId(req: Request): number {
  const id = String(req.params.id ?? '');
  if (!/^\d{1,10}$/.test(id)) throw notFound();
  return Number(id);
}

const staffId = (res: Response): number => signedIn(res).id;

/** The services editor's handlers (every route for signed-in staff, scoped to their own services). */
export function catalogHandlers(ctx: AppContext) {

  const renderEditor = (req: Request, res: Response, m: { id: number | null; values: ServiceFormValues; errors: FormErrors }, status = 200) =>
    render(
      ctx,
      req,
      res,
      'catalog/edit',
      { ...m, days: DAYS, fieldNames: FIELD_NAMES, fieldModes: FIELD_MODES, questionTypes: QUESTION_TYPES, limits: SERVICE_LIMITS, username: locals(res).staff?.username ?? '' },
      status,
    );

  async function showServices(req: Request, res: Response): Promise<void> {
    const services = await listServices(ctx.db, staffId(res));
    const done = typeof req.query.done === 'string' && ['saved', 'deleted'].includes(req.query.done) ? req.query.done : '';
    render(ctx, req, res, 'catalog/list', { services, done, username: locals(res).staff?.username ?? '' });
  }

  function newService(req: Request, res: Response): void {
    const values = valuesFromService({ title: '', slug: '', description: '', location: '', rules: defaultRules(), fields: defaultFields(), active: true, usesSchedule: true, ...defaultExtras() });
    renderEditor(req, res, { id: null, values, errors: NO_ERRORS });
  }

  async function createService(req: Request, res: Response): Promise<void> {
    const values = readServiceForm(req.body);
    const result = await saveService(ctx, signedIn(res), null, values);
    if (!result.ok) return renderEditor(req, res, { id: null, values, errors: formErrors(ctx.i18n.getFixedT(locals(res).lang), result.error) }, 422);
    res.redirect(303, '/admin/services?done=saved');
  }

  async function editService(req: Request, res: Response): Promise<void> {
    const id = serviceId(req);
    const s = await findServiceById(ctx.db, staffId(res), id);
    if (!s) throw notFound();
    renderEditor(req, res, { id, values: valuesFromService(s), errors: NO_ERRORS });
  }

  async function updateService(req: Request, res: Response): Promise<void> {
    const id = serviceId(req);
    if (!(await findServiceById(ctx.db, staffId(res), id))) throw notFound();
    const values = readServiceForm(req.body);
    const result = await saveService(ctx, signedIn(res), id, values);
    if (!result.ok) return renderEditor(req, res, { id, values, errors: formErrors(ctx.i18n.getFixedT(locals(res).lang), result.error) }, 422);
    res.redirect(303, '/admin/services?done=saved');
  }

  async function confirmDeleteService(req: Request, res: Response): Promise<void> {
    const s = await findServiceById(ctx.db, staffId(res), serviceId(req));
    if (!s) throw notFound();
    render(ctx, req, res, 'catalog/delete', { service: s });
  }

  async function removeService(req: Request, res: Response): Promise<void> {
    if (!(await deleteService(ctx.db, staffId(res), serviceId(req)))) throw notFound();
    res.redirect(303, '/admin/services?done=deleted');
  }

  return { showServices, newService, createService, editService, updateService, confirmDeleteService, removeService };
}
