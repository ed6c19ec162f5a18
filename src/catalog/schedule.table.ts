/** A staff member's weekly schedule, which services use unless they set their own hours. */
export interface ScheduleTable {
  staff_id: number;
  /** JSON: weekly hours, ServiceRules['hours'] of src/availability/slots.ts. */
  hours: string;
  /** JSON: special days, ServiceRules['overrides'] (closed when `hours` is empty). */
  overrides: string;
  updated_at: number;
}
