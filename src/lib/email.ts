/**
 * An e-mail address as the HTML `<input type="email">` accepts it (WHATWG): ASCII local part,
 * a host of dot-separated DNS labels. One rule for staff addresses, the privacy contact and
 * clients' addresses, so what the browser lets through the server accepts, and every address
 * can go into an SMTP envelope and a calendar ATTENDEE as it is. At most 254 characters.
 */
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function isEmailAddress(s: string): boolean {
  return s.length <= 254 && EMAIL.test(s);
}
