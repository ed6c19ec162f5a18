import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { setPasswordHash } from '../../src/accounts/accounts.repo.js';
import { hashPassword } from '../../src/accounts/password.js';
import { startWorld, type World } from './world.js';

/** Debian's Chromium, headless, quiet: no network of its own (updates, sync, QUIC), so every request a test sees is the page's. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
    headless: true,
  });
}

/**
 * Where the browser tests put their screenshots (looked at by a person): CRENEAU_SCREENSHOTS, or
 * a folder in the system's temporary directory; created if missing.
 */
export function screenshotsDir(): string {
  const dir = process.env.CRENEAU_SCREENSHOTS ?? join(tmpdir(), 'creneau-screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A world whose staff member (alice) signs in with `password`, and a headless Chromium to visit it. */
export async function startWorldWithBrowser(password: string, opts: Parameters<typeof startWorld>[0] = {}): Promise<{ world: World; browser: Browser; stop(): Promise<void> }> {
  const world = await startWorld(opts);
  await setPasswordHash(world.deps.db, world.staffId, await hashPassword(password), Date.now());
  const browser = await launchChromium();
  return {
    world,
    browser,
    stop: async () => {
      await browser.close();
      await world.stop();
    },
  };
}
