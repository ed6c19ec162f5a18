import type { Generated } from 'kysely';

/** A bookable service and its rules (rules and fields are JSON, validated by catalog.form.ts). */
export interface ServiceTable {
  id: Generated<number>;
  staff_id: number;
  slug: string;
  title: string;
  description: string;
  location: string;
  /** JSON: ServiceRules of src/availability/slots.ts. */
  rules: string;
  /** JSON: { note, address, company, job_title, conference, phone } each off|optional|required. */
  fields: string;
  active: number;
  /** JSON: Question[] of catalog.ts (the service's own questions; answers are never stored). */
  questions: Generated<string>;
  /** JSON: reminder lead times in minutes. */
  reminders: Generated<string>;
  approval: Generated<number>;
  confirm_email: Generated<number>;
  cancel_cutoff_minutes: Generated<number>;
  /** 1: the hours and special days are the staff member's schedule (`rules` keeps a copy); 0: the service's own. */
  uses_schedule: Generated<number>;
  position: number;
  created_at: number;
  updated_at: number;
}
