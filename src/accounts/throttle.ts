import type { Clock } from '../lib/clock.js';

/**
 * Failed sign-in attempts counted in memory only (never stored): per account and per keyed
 * hash of the address, in fixed windows. A restart forgets them, which is acceptable: the
 * goal is to make guessing slow, not to keep a record.
 */
export interface Throttle {
  /** Whether the key has used up its failures in the current window. */
  blocked(key: string, max: number): boolean;
  fail(key: string): void;
  reset(key: string): void;
}

const MAX_KEYS = 50_000;

/** A throttle with windows of `windowMs`. */
export function createThrottle(clock: Clock, windowMs = 15 * 60_000): Throttle {
  const hits = new Map<string, { count: number; resetAt: number }>();
  const current = (key: string) => {
    const h = hits.get(key);
    if (h && h.resetAt <= clock.now()) {
      hits.delete(key);
      return undefined;
    }
    return h;
  };
  const prune = () => {
    const now = clock.now();
    for (const [k, v] of hits) if (v.resetAt <= now) hits.delete(k);
    // Under a flood of distinct keys, forget the oldest rather than grow without bound.
    while (hits.size >= MAX_KEYS) {
      const first = hits.keys().next().value;
      if (first === undefined) break;
      hits.delete(first);
    }
  };
  return {
    blocked: (key, max) => (current(key)?.count ?? 0) >= max,
    fail: (key) => {
      const h = current(key);
      if (h) h.count += 1;
      else {
        if (hits.size >= MAX_KEYS) prune();
        hits.set(key, { count: 1, resetAt: clock.now() + windowMs });
      }
    },
    reset: (key) => {
      hits.delete(key);
    },
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
