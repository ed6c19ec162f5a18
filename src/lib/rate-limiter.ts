import { createHmac, randomBytes } from 'node:crypto';

/** Whether one more attempt is allowed now, and if not, in how many seconds it will be. */
export interface RateDecision {
  readonly allowed: boolean;
  readonly retryAfterSeconds: number;
}

const MAX_KEYS = 50_000;

/**
 * The one rate limiter (public posts, sign-in attempts): at most `limit` hits per key in any
 * sliding window of `windowMs`, counted in memory only. Keys are hashed under a random salt
 * that lives in memory and is replaced every day, so no address is kept and yesterday's keys
 * cannot be linked; a restart forgets everything, which is acceptable — the goal is to slow
 * abuse down, not to keep a record. Under a flood of distinct keys the oldest are forgotten
 * rather than memory growing without bound.
 */
export class RateLimiter {
  private salt = randomBytes(32);
  private saltDay = -1;
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Decides, and records the hit when it is allowed (a refused hit does not push the retry time further). */
  hit(key: string, now: number, limit = this.limit): RateDecision {
    const k = this.keyOf(key, now);
    const recent = this.recent(k, now);
    const decision = this.decide(recent, now, limit);
    if (decision.allowed) this.store(k, [...recent, now], now);
    return decision;
  }

  /** Records a hit whatever the count (e.g. a failed sign-in); `check` decides later. */
  record(key: string, now: number): void {
    const k = this.keyOf(key, now);
    this.store(k, [...this.recent(k, now), now], now);
  }

  /** Whether one more hit would be allowed, without recording one. */
  check(key: string, now: number, limit = this.limit): RateDecision {
    return this.decide(this.recent(this.keyOf(key, now), now), now, limit);
  }

  /** Forgets a key's hits (e.g. after a successful sign-in). */
  reset(key: string, now: number): void {
    this.hits.delete(this.keyOf(key, now));
  }

  /** Fewer than `limit` hits in the window → allowed; otherwise when enough of them have left it. */
  private decide(recent: readonly number[], now: number, limit: number): RateDecision {
    if (recent.length < limit) return { allowed: true, retryAfterSeconds: 0 };
    const oldest = recent[recent.length - limit] ?? now;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000)) };
  }

  private keyOf(key: string, now: number): string {
    const day = Math.floor(now / 86_400_000);
    if (day !== this.saltDay) {
      this.salt = randomBytes(32);
      this.saltDay = day;
      this.hits.clear();
    }
    return createHmac('sha256', this.salt).update(key).digest('base64url');
  }

  private recent(k: string, now: number): number[] {
    return (this.hits.get(k) ?? []).filter((t) => now - t < this.windowMs);
  }

  private store(k: string, recent: number[], now: number): void {
    this.hits.set(k, recent);
    if (this.hits.size > MAX_KEYS) this.prune(now);
  }

  private prune(now: number): void {
    for (const [k, ts] of this.hits) if (ts.every((t) => now - t >= this.windowMs)) this.hits.delete(k);
    for (const k of this.hits.keys()) {
      if (this.hits.size <= MAX_KEYS * 0.9) break;
      this.hits.delete(k);
    }
  }
}
