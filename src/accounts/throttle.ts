import type { Clock } from '../lib/clock.js';
import { RateLimiter } from '../lib/rate-limiter.js';

/**
 * Failed sign-in attempts counted in memory only (never stored): per account and per keyed
 * hash of the address, in sliding windows. A restart forgets them, which is acceptable: the
 * goal is to make guessing slow, not to keep a record.
 */
export interface Throttle {
  /** Whether the key has used up its failures in the current window. */
  blocked(key: string, max: number): boolean;
  fail(key: string): void;
  reset(key: string): void;
}

/** A throttle with windows of `windowMs`: the one rate limiter (lib/rate-limiter.ts), its limit given per key kind. */
export function createThrottle(clock: Clock, windowMs = 15 * 60_000): Throttle {
  const failures = new RateLimiter(Number.MAX_SAFE_INTEGER, windowMs);
  return {
    blocked: (key, max) => !failures.check(key, clock.now(), max).allowed,
    fail: (key) => failures.record(key, clock.now()),
    reset: (key) => failures.reset(key, clock.now()),
  };
}

const shared = new WeakMap<object, Throttle>();

/**
 * The one throttle of an app, shared by every sign-in method (password, single sign-on,
 * passkey), so switching method does not reset the count.
 */
export function signInThrottle(owner: { readonly clock: Clock }): Throttle {
  let t = shared.get(owner);
  if (!t) {
    t = createThrottle(owner.clock);
    shared.set(owner, t);
  }
  return t;
}
