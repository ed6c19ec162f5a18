import { err, ok, type Result } from '../lib/result.js';
import { checked, text, type FieldError } from '../web/forms.js';
import { FIELD_MODES, QUESTION_ID_RE, QUESTION_TYPES, EXTRA_LIMITS as L, type FieldMode, type Question, type QuestionType, type ServiceExtras } from './catalog.js';

/**
 * The editor's part for the service fields added by DESIGN.md §5: the phone's mode, the
 * service's own questions (rows `questions[0][label]`, … with blank rows to add more, so no
 * script is needed), reminder lead times, approval, double opt-in and the cancel cut-off.
 * A question row whose label is blank is left out (that is how one is removed).
 */

/** Blank question rows shown under the existing ones (never beyond the maximum). */
export const BLANK_QUESTION_ROWS = 2;

export interface QuestionValues {
  readonly id: string;
  readonly label: string;
  readonly type: string;
  readonly required: boolean;
  /** One option per line, as typed. */
  readonly options: string;
}

export interface ExtrasFormValues {
  readonly phone: FieldMode;
  readonly questions: readonly QuestionValues[];
  /** Always `maxReminders` entries, '' for none. */
  readonly reminders: readonly string[];
  readonly approval: boolean;
  readonly confirmEmail: boolean;
  readonly cancelCutoff: string;
}

const BLANK_QUESTION: QuestionValues = { id: '', label: '', type: 'text', required: false, options: '' };

function withBlankRows(rows: QuestionValues[]): QuestionValues[] {
  const out = rows.filter((r) => r.label !== '' || r.id !== '' || r.options !== '');
  const target = Math.min(L.maxQuestions, out.length + BLANK_QUESTION_ROWS);
  while (out.length < target) out.push(BLANK_QUESTION);
  return out;
}

/** Form values showing stored (or default) extras. */
export function extrasValues(s: ServiceExtras & { readonly fields: { readonly phone: FieldMode } }): ExtrasFormValues {
  const reminders: string[] = [];
  for (let i = 0; i < L.maxReminders; i++) reminders.push(s.reminders[i] === undefined ? '' : String(s.reminders[i]));
  return {
    phone: s.fields.phone,
    questions: withBlankRows(s.questions.map((q) => ({ id: q.id, label: q.label, type: q.type, required: q.required, options: q.options.join('\n') }))),
    reminders,
    approval: s.approval,
    confirmEmail: s.confirmEmail,
    cancelCutoff: String(s.cancelCutoffMinutes),
  };
}

/** Reads the extras from a urlencoded body (flat names; anything else is ignored). */
export function readExtrasForm(b: Readonly<Record<string, unknown>>): ExtrasFormValues {
  const phoneRaw = text(b, 'fields[phone]');
  // A select always posts a value; a hand-made post without one keeps the historical default.
  const phone = (FIELD_MODES as readonly string[]).includes(phoneRaw) ? (phoneRaw as FieldMode) : 'required';
  const rows: QuestionValues[] = [];
  // Read a few rows beyond the maximum so that too many questions are reported, not dropped.
  for (let i = 0; i < L.maxQuestions + BLANK_QUESTION_ROWS; i++) {
    const p = `questions[${i}]`;
    if (b[`${p}[label]`] === undefined && b[`${p}[id]`] === undefined) continue;
    const options = typeof b[`${p}[options]`] === 'string' ? (b[`${p}[options]`] as string).replace(/\r\n?/g, '\n').trim() : '';
    rows.push({ id: text(b, `${p}[id]`), label: text(b, `${p}[label]`).normalize('NFC'), type: text(b, `${p}[type]`), required: checked(b, `${p}[required]`), options: options.normalize('NFC') });
  }
  const reminders: string[] = [];
  for (let i = 0; i < L.maxReminders; i++) reminders.push(text(b, `reminders[${i}]`));
  return {
    phone,
    questions: withBlankRows(rows),
    reminders,
    approval: checked(b, 'approval'),
    confirmEmail: checked(b, 'confirm_email'),
    cancelCutoff: text(b, 'cancel_cutoff'),
  };
}

/** A question id from its label when the owner left the id blank ("Any allergies?" → "any_allergies"). */
export function idFromLabel(label: string): string {
  const base = label
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 32)
    .replace(/_+$/, '');
  return base === '' ? 'q' : base;
}

// Same rule as the booking form: no control character in anything shown to clients.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Checks the extras; field names are the ids of the editor's inputs. */
export function checkExtrasForm(v: ExtrasFormValues): Result<ServiceExtras & { readonly phone: FieldMode }, FieldError[]> {
  const errors: FieldError[] = [];
  const questions: Question[] = [];
  const used = new Set<string>();
  let count = 0;
  v.questions.forEach((row, i) => {
    if (row.label === '' && row.id === '' && row.options === '') return;
    count++;
    const f = (name: string) => `question-${i}-${name}`;
    if (row.label === '') errors.push({ field: f('label'), key: 'admin:errors.required' });
    else if ([...row.label].length > L.questionLabel) errors.push({ field: f('label'), key: 'admin:errors.too_long', params: { max: L.questionLabel } });
    else if (CONTROL.test(row.label)) errors.push({ field: f('label'), key: 'admin:services.errors.control' });
    let id = row.id === '' ? idFromLabel(row.label) : row.id;
    if (row.id !== '' && !QUESTION_ID_RE.test(row.id)) errors.push({ field: f('id'), key: 'admin:services.errors.question_id' });
    else if (used.has(id)) {
      if (row.id !== '') errors.push({ field: f('id'), key: 'admin:services.errors.question_id_taken' });
      else {
        // A derived id that repeats another gets a number, so two similar labels still save.
        let n = 2;
        while (used.has(`${id.slice(0, 29)}_${n}`)) n++;
        id = `${id.slice(0, 29)}_${n}`;
      }
    }
    used.add(id);
    if (!(QUESTION_TYPES as readonly string[]).includes(row.type)) errors.push({ field: f('type'), key: 'admin:services.errors.question_type' });
    const type = row.type as QuestionType;
    const options = type === 'choice' ? row.options.split('\n').map((o) => o.trim()).filter((o) => o !== '') : [];
    if (type === 'choice') {
      if (options.length < L.questionOptions[0] || options.length > L.questionOptions[1]) {
        errors.push({ field: f('options'), key: 'admin:services.errors.question_options', params: { min: L.questionOptions[0], max: L.questionOptions[1] } });
      } else if (options.some((o) => [...o].length > L.optionLength || CONTROL.test(o))) {
        errors.push({ field: f('options'), key: 'admin:services.errors.option_too_long', params: { max: L.optionLength } });
      } else if (new Set(options).size !== options.length) {
        errors.push({ field: f('options'), key: 'admin:services.errors.options_repeat' });
      }
    }
    questions.push({ id, label: row.label, type, required: row.required, options });
  });
  if (count > L.maxQuestions) errors.push({ field: 'question-0-label', key: 'admin:services.errors.too_many_questions', params: { max: L.maxQuestions } });

  const reminders: number[] = [];
  v.reminders.forEach((r, i) => {
    if (r === '') return;
    const n = /^\d{1,6}$/.test(r) ? Number(r) : NaN;
    if (!(n >= L.reminderMinutes[0] && n <= L.reminderMinutes[1])) {
      errors.push({ field: `reminder-${i}`, key: 'admin:services.errors.bad_reminder', params: { min: L.reminderMinutes[0], max: L.reminderMinutes[1] } });
    } else if (reminders.includes(n)) errors.push({ field: `reminder-${i}`, key: 'admin:services.errors.reminder_repeat' });
    else reminders.push(n);
  });
  reminders.sort((a, b) => b - a);

  let cancelCutoffMinutes = 0;
  if (v.cancelCutoff !== '') {
    const n = /^\d{1,7}$/.test(v.cancelCutoff) ? Number(v.cancelCutoff) : NaN;
    if (!(n >= L.cancelCutoffMinutes[0] && n <= L.cancelCutoffMinutes[1])) {
      errors.push({ field: 'cancel_cutoff', key: 'admin:services.errors.bad_cutoff', params: { min: L.cancelCutoffMinutes[0], max: L.cancelCutoffMinutes[1] } });
    } else cancelCutoffMinutes = n;
  }
  if (errors.length > 0) return err(errors);
  return ok({ phone: v.phone, questions, reminders, approval: v.approval, confirmEmail: v.confirmEmail, cancelCutoffMinutes });
}
