import type { Question } from '../catalog/catalog.js';

/**
 * The service's own questions on the booking form (DESIGN.md §5): each posted as `q_<id>`,
 * checked against its type, and turned into "label: answer" lines for the event recap. The
 * answers are never stored by Creneau.
 */

/** One answered question, as it goes into the event's DESCRIPTION. */
export interface Answer {
  readonly label: string;
  readonly value: string;
}

const LIMITS = { text: 300, textarea: 2000 } as const;
// Same rule as the other client fields: no control character, line breaks only in long text.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** The posted name of a question's answer. */
export const answerName = (q: Pick<Question, 'id'>): string => `q_${q.id}`;

/**
 * Reads and checks the answers. `values` are what to show again (as typed, capped); `errors`
 * are i18n keys by posted name; `answers` are in the service's order, unanswered ones left out.
 */
export function parseAnswers(
  body: Readonly<Record<string, unknown>>,
  questions: readonly Question[],
  yes: string,
): { answers: Answer[]; values: Record<string, string>; errors: Record<string, string> } {
  const answers: Answer[] = [];
  const values: Record<string, string> = {};
  const errors: Record<string, string> = {};
  for (const q of questions) {
    const name = answerName(q);
    const raw = body[name];
    const v = typeof raw === 'string' ? raw.replace(/\r\n?/g, '\n').trim() : '';
    if (q.type === 'checkbox') {
      const ticked = v !== '';
      values[name] = ticked ? '1' : '';
      if (q.required && !ticked) errors[name] = 'booking:err_required';
      else if (ticked) answers.push({ label: q.label, value: yes });
      continue;
    }
    const max = q.type === 'textarea' ? LIMITS.textarea : LIMITS.text;
    values[name] = v.slice(0, max * 2);
    if (v === '') {
      if (q.required) errors[name] = q.type === 'choice' ? 'booking:err_choose' : 'booking:err_required';
      continue;
    }
    if (q.type === 'choice') {
      if (!q.options.includes(v)) errors[name] = 'booking:err_choose';
      else answers.push({ label: q.label, value: v });
      continue;
    }
    if (v.length > max) errors[name] = 'booking:err_too_long';
    else if (CONTROL.test(v) || (q.type !== 'textarea' && v.includes('\n'))) errors[name] = 'booking:err_control';
    else answers.push({ label: q.label, value: v });
  }
  return { answers, values, errors };
}
