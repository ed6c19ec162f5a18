import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';

/**
 * The first-run token (DESIGN.md §5 "Staff sign-in beyond passwords"): until an owner exists,
 * /setup creates nothing without it, so an instance reachable by anyone is not claimed by
 * whoever finds the port first. The server prints it once in its start-up line.
 */

/** The link printed at start-up. */
export function setupUrl(config: Config, token: string): string {
  const url = new URL('setup', config.baseUrl);
  url.searchParams.set('token', token);
  return url.toString();
}

/** Whether a submitted value is the instance's setup token (constant time). */
export function setupTokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}
