/**
 * Text a staff member types that later reaches an e-mail header, an iCalendar property or a
 * page: control characters are refused where they are entered, never discovered at booking time.
 */

/** C0 controls (CR, LF and tab included), DEL, C1 controls, and the Unicode line and paragraph separators. */
const IN_A_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** The same, but line feeds and tabs are ordinary in a multi-line text (CR is not: forms turn CRLF into LF). */
const IN_A_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

/** Whether a one-line field (a title, a name, a place) holds a control character or a line break. */
export function hasLineControl(value: string): boolean {
  return IN_A_LINE.test(value);
}

/** Whether a multi-line field (a description, a bio) holds a control character other than LF and tab. */
export function hasTextControl(value: string): boolean {
  return IN_A_TEXT.test(value);
}
