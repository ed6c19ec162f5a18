import { createHmac, randomBytes } from 'node:crypto';

/**
 * Per-address rate limiting without storing addresses: a keyed hash under a salt that is
 * random, held only in memory and replaced every day, so yesterday's keys cannot be linked.
 */
export class RateLimiter {
  private salt = randomBytes(32);
  private saltDay = -1;
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Records a hit; false when the address is over the limit. */
  hit(address: string, now: number): boolean {
    const day = Math.floor(now / 86_400_000);
    if (day !== this.saltDay) {
      this.salt = randomBytes(32);
      this.saltDay = day;
      this.hits.clear();
    }
    const key = createHmac('sha256', this.salt).update(address).digest('base64url');
    const recent = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    recent.push(now);
    this.hits.set(key, recent);
    if (this.hits.size > 10_000) this.prune(now);
    return recent.length <= this.limit;
  }

  private prune(now: number): void {
    for (const [k, ts] of this.hits) if (ts.every((t) => now - t >= this.windowMs)) this.hits.delete(k);
  }
}
